# 联企助手 — the two commands a newcomer needs: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export BOT_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test eval bench setup migrate stop clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (or run: make PY=python3 …)"; exit 1; }
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(VENV)/.installed

migrate: setup
	$(BIN)/python -m bot migrate

run: migrate
	$(BIN)/python -m bot seed-demo
	$(BIN)/python -m bot serve --host 127.0.0.1 --port 8000

test: setup
	$(BIN)/python -m pytest -q tests

eval: setup
	$(BIN)/python -m nlp.evaluate ../shared/data/intents_dev.jsonl tests/data/intents_own.jsonl

bench: setup
	$(BIN)/python bench/run.py

stop:
	-$(BIN)/python -c "from storage.redis import stop_embedded; stop_embedded('var')"

clean: stop
	rm -rf var

# 联企助手 — the two commands a newcomer needs: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export BOT_VAR_DIR ?= $(CURDIR)/var
# `make run PORT=8001 HOST=0.0.0.0`. Plain assignments: only the command line overrides them, not a HOST
# the shell happens to export (often the machine's name).
HOST := 127.0.0.1
PORT := 8000
FAKE_API_PORT := 8001

.PHONY: run demo test test-fast lint eval bench setup migrate stop clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (or run: make PY=python3 …)"; exit 1; }
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(VENV)/.installed

migrate: setup
	$(BIN)/python -m bot migrate

# The offline demo: the chat simulator on (behind the staff login; off by default).
run: migrate
	$(BIN)/python -m bot seed-demo
	SIMULATOR=1 $(BIN)/python -m bot serve --host $(HOST) --port $(PORT)

# Server, worker and the fake WeChat/WeCom API together under honcho (Procfile.demo), so the worker's pushes
# land in the fake API and appear in the simulator; Ctrl-C stops all three. Every process gets the same variables.
demo: migrate
	$(BIN)/python -m bot seed-demo
	SIMULATOR=1 BOT_HOST=$(HOST) BOT_PORT=$(PORT) FAKE_API_PORT=$(FAKE_API_PORT) \
	WECHAT_API_BASE=http://127.0.0.1:$(FAKE_API_PORT)/cgi-bin/ WECOM_API_BASE=http://127.0.0.1:$(FAKE_API_PORT)/cgi-bin/ \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.demo

lint: setup
	$(BIN)/ruff check .

# The whole suite: lint, then every test (-rs lists each skip with its reason).
test: lint
	$(BIN)/python -m pytest -q -rs tests

# Everything but the slow end-to-end tests (gunicorn, worker and CLI subprocesses, the browser).
test-fast: lint
	$(BIN)/python -m pytest -q -rs -m "not e2e" tests

eval: setup
	$(BIN)/python -m nlp.evaluate

bench: setup
	BOT_ENV=test $(BIN)/python bench/run.py

stop:
	-$(BIN)/python -c "from storage.redis import stop_embedded; stop_embedded('var')"

clean: stop
	rm -rf var

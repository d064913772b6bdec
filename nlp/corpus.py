"""The labelled corpus (nlp/data/corpus/*.jsonl): loading, checking, splits and its fingerprint.

Each line: {"text", "intent", "category" (complaints only, else null), "source", "script", "split"}.
Splits: train (the models learn from it), validation (chooses nothing by itself but is reported
and decides whether a retrained model may be installed), test (held out: only `nlp.evaluate`
reads it, through `load_test`, and prints aggregate scores; never trained on, never tuned on).
A file whose rows carry no split (written.jsonl) is divided by a stable hash of each text.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from nlp.intents import INTENTS
from nlp.tokenizer import dictionary_signature

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
TEST_FILE = "test.jsonl"
SPLITS = ("train", "validation", "test")
SCRIPTS = ("simplified", "traditional")
VALIDATION_PERCENT = 15      # of rows without a split: this share (by text hash) validates
# Files whose contents change what the features are: a model trained before they changed is stale.
FEATURE_FILES = ("userdict.txt", "dialect.yaml", "homophones.json")


class CorpusError(ValueError):
    """A corpus line is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Row:
    text: str
    intent: str
    category: str | None
    source: str
    script: str
    split: str
    file: str
    tags: tuple = ()

    def canonical(self) -> str:
        return json.dumps([self.text, self.intent, self.category, self.source, self.script, self.split],
                          ensure_ascii=False)


def hashed_split(text: str) -> str:
    """validation for VALIDATION_PERCENT % of texts, train for the rest; the same text, the same split."""
    bucket = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") % 100
    return "validation" if bucket < VALIDATION_PERCENT else "train"


def _row(raw, where: str, file: str) -> Row:
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: not a JSON object")
    text, intent = raw.get("text"), raw.get("intent")
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: text must be a non-empty string")
    if intent not in INTENTS:
        raise CorpusError(f"{where}: unknown intent {intent!r}")
    category = raw.get("category")
    if category is not None and (not isinstance(category, str) or not category.strip()):
        raise CorpusError(f"{where}: category must be a name or null")
    if category is not None and intent != "complaint.file":
        raise CorpusError(f"{where}: only complaint.file rows carry a category")
    split = raw.get("split") or hashed_split(text)
    if split not in SPLITS:
        raise CorpusError(f"{where}: unknown split {split!r}")
    if (split == "test") != (file == TEST_FILE):
        raise CorpusError(f"{where}: the test split lives in {TEST_FILE} and only there")
    script = raw.get("script") or "simplified"
    if script not in SCRIPTS:
        raise CorpusError(f"{where}: script must be one of {SCRIPTS}")
    tags = raw.get("tags") or ()
    return Row(text, intent, category, str(raw.get("source") or file.removesuffix(".jsonl")), script,
               split, file, tuple(tags))


def read_file(path: Path) -> list[Row]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: not JSON ({exc.msg})") from None
        rows.append(_row(raw, where, path.name))
    return rows


def load(directory: Path = CORPUS) -> list[Row]:
    """Train and validation rows of every corpus file except the test file, in a fixed order."""
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        if path.name != TEST_FILE:
            rows.extend(read_file(path))
    return rows


def load_test(directory: Path = CORPUS) -> list[Row]:
    """The held-out test split: for nlp.evaluate only."""
    path = directory / TEST_FILE
    return read_file(path) if path.exists() else []


def split(rows: list[Row], name: str) -> list[Row]:
    return [r for r in rows if r.split == name]


def fingerprint(rows: list[Row], data_dir: Path | None = None) -> str:
    """SHA-256 of the training inputs: every train and validation row (order-free) and the files
    that shape the features. The model stores it; a mismatch means the model is stale."""
    digest = hashlib.sha256()
    for line in sorted(r.canonical() for r in rows if r.split != "test"):
        digest.update(line.encode("utf-8") + b"\n")
    data_dir = data_dir or CORPUS.parent
    digest.update(dictionary_signature().encode() + b"\0")
    for name in FEATURE_FILES:
        digest.update(name.encode() + b"\0" + (data_dir / name).read_bytes() + b"\0")
    return digest.hexdigest()

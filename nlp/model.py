"""The learned models at run time: a linear scorer over an exported file (numpy, no scikit-learn).

Files are written by `python -m nlp train` (nlp/train.py). The committed defaults live in
nlp/model/; a park's retrained model in <var>/nlp/ (BOT_VAR_DIR), installed by `python -m nlp train
--from-db`, is used instead when present, and a running process switches to a newly installed one
within RECHECK_S seconds (see load). Nothing here ever trains: a process only reads a file.

File format (gzip, written deterministically): the magic line, one JSON header line (classes,
vocabulary, temperature, threshold, the training-data SHA-256, validation scores, the
hyperparameters chosen), then float32 little-endian arrays: idf (n_features), weights
(n_features × n_classes, row-major), intercepts (n_classes).
"""
from __future__ import annotations

import gzip
import json
import logging
import math
import os
import time
from collections import Counter
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import numpy as np

from nlp.features import WORD, features

log = logging.getLogger(__name__)
MODEL_DIR = Path(__file__).resolve().parent / "model"
MAGIC = b"lianqi-nlp-linear-model 1\n"
KINDS = ("intents", "categories")


class ModelFileError(ValueError):
    """A model file is missing, truncated or of another format."""


@dataclass(frozen=True)
class Contribution:
    """One feature's share of a decision (for --explain)."""
    intent: str
    weight: float
    feature: str

    @property
    def why(self) -> str:
        if self.feature.startswith(WORD):
            return f"word '{self.feature[len(WORD):]}'"
        return f"chars '{self.feature}'"


@dataclass(frozen=True)
class Prediction:
    ranking: list          # [(class, probability)], best first
    vector: tuple          # (feature indices, values) the decision was made from

    @property
    def best(self) -> tuple[str, float]:
        return self.ranking[0]


_probability = itemgetter(1)


class LinearModel:
    """softmax(temperature · (x · W + b)) over normalised sublinear TF-IDF features."""

    def __init__(self, header: dict, idf: np.ndarray, weights: np.ndarray, intercepts: np.ndarray,
                 path: Path | None = None):
        self.header = header
        self.classes = tuple(header["classes"])
        self.vocabulary = header["vocabulary"]
        # Per message, one dict lookup per feature: feature → row of _weights, counted from 1 so
        # that an unknown feature (None) and a known one can be told apart by truth alone.
        self._rows = {f: i for i, f in enumerate(self.vocabulary, 1)}
        self._idf = [0.0] + idf.tolist()
        self._weights = np.vstack([np.zeros((1, weights.shape[1]), dtype=weights.dtype), weights])
        self.idf, self.weights, self.intercepts = idf, weights, intercepts
        self._intercepts = intercepts.tolist()
        self.temperature = float(header["temperature"])
        self.threshold = float(header.get("threshold") or 0.0)
        self.path = path

    @property
    def sha256(self) -> str:
        return self.header["training_sha256"]

    def vector(self, feats: list[str]) -> tuple[list[int], list[float]]:
        """A message's features as (rows of _weights, values): known features only, sublinear
        TF-IDF, L2-normalised. Plain Python: for the hundred-odd features of a message numpy's
        per-call cost is more than the arithmetic."""
        counts = Counter(filter(None, map(self._rows.get, feats)))   # row → count
        idf = self._idf
        values = [idf[i] if n == 1 else idf[i] * (1.0 + math.log(n)) for i, n in counts.items()]
        norm = math.hypot(*values) or 1.0
        return list(counts), [v / norm for v in values]

    def predict(self, text: str) -> Prediction:
        return self.predict_features(features(text))

    def predict_features(self, feats: list[str]) -> Prediction:
        ids, values = self.vector(feats)
        t = self.temperature
        if ids:   # one gather and one product in numpy; the dozen classes in plain Python
            raw = (np.array(values, dtype=np.float32) @ self._weights.take(ids, axis=0)).tolist()
            scores = [(r + c) * t for r, c in zip(raw, self._intercepts, strict=False)]
        else:
            scores = [c * t for c in self._intercepts]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        ranking = sorted(zip(self.classes, [e / total for e in exps], strict=False), key=_probability, reverse=True)
        return Prediction(ranking, (ids, values))

    def contributions(self, prediction: Prediction, label: str, against: str | None = None,
                      top: int = 8) -> list[Contribution]:
        """The features that pushed `label` up the most (beside `against`, when given)."""
        ids, values = np.array(prediction.vector[0], dtype=np.intp), np.array(prediction.vector[1])
        column = self.classes.index(label)
        share = values * self._weights[ids, column]
        if against is not None:
            share = share - values * self._weights[ids, self.classes.index(against)]
        order = np.argsort(-share, kind="stable")[:top]
        return [Contribution(label, round(float(share[i]), 3), self.vocabulary[ids[i] - 1])
                for i in order if share[i] > 0]


def read(path: Path) -> LinearModel:
    try:
        blob = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ModelFileError(f"{path}: cannot read ({exc})") from None
    if not blob.startswith(MAGIC):
        raise ModelFileError(f"{path}: not a model file")
    end = blob.index(b"\n", len(MAGIC))
    header = json.loads(blob[len(MAGIC):end])
    n, k = len(header["vocabulary"]), len(header["classes"])
    arrays = np.frombuffer(blob, dtype="<f4", offset=end + 1)
    if arrays.size != n + n * k + k:
        raise ModelFileError(f"{path}: truncated ({arrays.size} numbers, expected {n + n * k + k})")
    idf = arrays[:n]
    weights = arrays[n:n + n * k].reshape(n, k)
    return LinearModel(header, idf, weights, arrays[n + n * k:], path)


def write(path: Path, header: dict, idf, weights, intercepts) -> bytes:
    """Serialise deterministically (sorted keys, gzip without a time stamp); returns the bytes."""
    body = MAGIC + json.dumps(header, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    body += b"".join(np.ascontiguousarray(a, dtype="<f4").tobytes() for a in (idf, weights, intercepts))
    data = gzip.compress(body, compresslevel=9, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def var_dir() -> Path:
    # The bot passes its var/ through BOT_VAR_DIR (bot/services.py); standalone use falls back to ./var.
    return Path(os.environ.get("BOT_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")


def installed_path(kind: str) -> Path:
    """Where a park's retrained model of this kind is installed."""
    return var_dir() / "nlp" / f"{kind}.model.gz"


def default_path(kind: str) -> Path:
    return MODEL_DIR / f"{kind}.model.gz"


# kind → (model, signature of the installed file it was chosen by, when that was last looked at)
_loaded: dict[str, tuple[LinearModel, tuple | None, float]] = {}
RECHECK_S = 2.0     # how often a process looks whether `python -m nlp train --from-db` installed a new model


def _signature(path: Path) -> tuple | None:
    """What identifies one installed file: a new install (written aside, then renamed over) changes it."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def load(kind: str) -> LinearModel:
    """The park's retrained model when one is installed and readable, else the committed default.

    Running processes pick up a newly installed model without a restart: at most every RECHECK_S
    seconds the installed file's signature (inode, mtime, size) is compared with the one the loaded
    model was chosen by, and the files are read again when it changed (installed, replaced, removed)."""
    entry = _loaded.get(kind)
    if entry is not None and time.monotonic() - entry[2] < RECHECK_S:
        return entry[0]
    installed = installed_path(kind)
    signature = _signature(installed)
    if entry is not None and entry[1] == signature:
        _loaded[kind] = (entry[0], signature, time.monotonic())
        return entry[0]
    model = None
    if signature is not None:
        try:
            model = read(installed)
        except (ModelFileError, ValueError, KeyError) as exc:
            log.error("ignoring the installed %s model: %s", kind, exc)
    if model is None:
        model = entry[0] if entry is not None and entry[0].path == default_path(kind) else read(default_path(kind))
    elif entry is not None:
        log.info("using the %s model installed at %s (trained on %s…)", kind, installed, model.sha256[:12])
    _loaded[kind] = (model, signature, time.monotonic())
    return model


def install(kind: str, data: bytes) -> Path:
    """Install a retrained model: written beside its place, then renamed over it (atomic), so a
    process reading it meanwhile sees the old file or the new one, never half of one."""
    target = installed_path(kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        scratch.write_bytes(data)
        read(scratch)   # refuse to install what could not be loaded
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
    return target


def installed(kind: str) -> LinearModel | None:
    """The park's installed model of this kind, if one is there and readable (not cached)."""
    path = installed_path(kind)
    if not path.exists():
        return None
    try:
        return read(path)
    except (ModelFileError, ValueError, KeyError):
        return None


def forget() -> None:
    """Drop loaded models (the next call reads the files again)."""
    _loaded.clear()


def category_mismatch(configured) -> tuple[list[str], list[str]]:
    """(configured categories the model cannot choose, model categories no longer configured)."""
    known = set(load("categories").classes)
    configured = set(configured)
    return sorted(configured - known), sorted(known - configured)


"""`python -m nlp train`: learn the intent and complaint-category models from the corpus.

Linear SVMs (scikit-learn's LinearSVC) on the features of nlp/features.py, weighted as sublinear
TF-IDF and L2-normalised. Everything that is chosen is chosen by 5-fold cross-validation on the
train split only: the vocabulary's minimum document frequency, C, the class weight of "other",
the softmax temperature that turns SVM scores into calibrated confidences, and the confidence
below which a request counts as "other". The validation split is scored and stored with the
model; the test split is never read here.

Deterministic: fixed fold seeds, sorted vocabulary, inputs in corpus order, liblinear seeded, and
a time-stamp-free file, so the same corpus gives a byte-identical model (`--check` verifies it).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from itertools import product
from pathlib import Path

# One BLAS thread: the sums then happen in one fixed order (and the machine is shared).
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

from nlp import corpus  # noqa: E402
from nlp.features import features  # noqa: E402
from nlp.intents import INTENTS  # noqa: E402
from nlp.model import MODEL_DIR, read, write  # noqa: E402
from nlp.normalize import normalize  # noqa: E402

SEED = 0
FOLDS = 5
REPEATS = 3
# Simplest first: on a tie in cross-validated accuracy the earlier setting wins.
INTENT_GRID = {"min_df": (2, 1), "C": (2.0, 4.0, 8.0, 16.0), "other_weight": (1.0, 2.0)}
CATEGORY_GRID = {"min_df": (2, 1), "C": (0.5, 1.0, 2.0, 4.0), "other_weight": (1.0,)}
TEMPERATURES = np.round(np.geomspace(0.5, 30.0, 80), 4)
THRESHOLDS = np.round(np.arange(0.0, 0.9, 0.01), 2)
OTHER_INTENT, OTHER_CATEGORY = "other", "其他"
FEATURE_NOTE = ("jieba words (HMM off, nlp/data/userdict.txt) + character 1-3-grams of nlp.normalize "
                "text, digits as 0, ends marked; sublinear TF-IDF, L2-normalised")


class TrainError(Exception):
    """Training cannot go on; the message says why (the CLI prints it, exit 2)."""


@dataclass
class Task:
    """One model to learn: intents (all rows) or categories (complaints with a category)."""
    kind: str
    features: list          # feature lists of the train rows, in corpus order
    labels: list
    classes: tuple
    other: str | None       # the class that a low confidence falls back to (intents only)
    grid: dict


# --- features → matrices ---

def featurize(texts) -> list[list[str]]:
    return [features(normalize(t).text) for t in texts]


def vocabulary(feature_lists, min_df: int) -> tuple[list[str], np.ndarray]:
    """Features in at least min_df messages (sorted) and their smoothed idf (float32, as at run time)."""
    df = Counter(f for fs in feature_lists for f in set(fs))
    terms = sorted(f for f, n in df.items() if n >= min_df)
    n = len(feature_lists)
    idf = np.array([np.log((1 + n) / (1 + df[f])) + 1.0 for f in terms], dtype=np.float32)
    return terms, idf


def matrix(feature_lists, terms, idf):
    """Rows exactly as nlp.model.LinearModel.vector builds them at run time (a scipy CSR matrix)."""
    from scipy.sparse import (
        csr_matrix,  # training only: `python -m nlp TEXT` must not pay for scipy
    )
    index = {f: i for i, f in enumerate(terms)}
    entries = {f: (i, float(w)) for (f, i), w in zip(index.items(), idf.tolist(), strict=False)}
    data, indices, indptr = [], [], [0]
    for fs in feature_lists:
        counts = Counter(f for f in fs if f in entries)
        row = []
        for f, n in counts.items():
            i, w = entries[f]
            row.append((i, w if n == 1 else w * (1.0 + math.log(n))))
        norm = math.sqrt(sum(v * v for _, v in row)) or 1.0
        for i, v in sorted(row):
            indices.append(i)
            data.append(v / norm)
        indptr.append(len(indices))
    return csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int32), indptr),
                      shape=(len(feature_lists), len(terms)))


# --- fitting ---

def fit(X, labels, classes, C: float, other: str | None, other_weight: float):
    """(weights n_features × n_classes, intercepts) in the order of `classes`."""
    from sklearn.svm import (
        LinearSVC,  # scikit-learn only where training happens (see matrix)
    )
    weights = {c: 1.0 for c in classes}
    if other is not None:
        weights[other] = other_weight
    svm = LinearSVC(C=C, class_weight=weights, dual=True, max_iter=20000, random_state=SEED)
    svm.fit(X, labels)
    coef, bias = svm.coef_, svm.intercept_
    if len(svm.classes_) == 2:   # one score s for the second class: softmax over (-s/2, s/2) = sigmoid(s)
        coef, bias = np.vstack([-coef[0] / 2, coef[0] / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    order = [list(svm.classes_).index(c) for c in classes]
    return coef[order].T.astype(np.float32), bias[order].astype(np.float32)


def decisions(X, W, b) -> np.ndarray:
    return np.asarray(X @ W.astype(np.float64)) + b


def softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The temperature with the lowest negative log-likelihood (grid search: no solver randomness)."""
    best, best_nll = 1.0, np.inf
    for t in TEMPERATURES:
        p = softmax(scores * t)[np.arange(len(y)), y]
        nll = -np.log(np.maximum(p, 1e-12)).mean()
        if nll < best_nll - 1e-12:
            best, best_nll = float(t), nll
    return best


def apply_threshold(probs: np.ndarray, other: int | None, threshold: float) -> np.ndarray:
    top = probs.argmax(axis=1)
    if other is None:
        return top
    low = (probs.max(axis=1) < threshold) & (top != other)
    return np.where(low, other, top)


def choose_threshold(probs: np.ndarray, y: np.ndarray, other: int | None) -> tuple[float, float]:
    """(threshold, accuracy): the middle of the thresholds with the best accuracy."""
    if other is None:
        return 0.0, float((probs.argmax(axis=1) == y).mean())
    scores = np.array([(apply_threshold(probs, other, t) == y).mean() for t in THRESHOLDS])
    best = scores.max()
    plateau = THRESHOLDS[np.isclose(scores, best)]
    threshold = float(plateau[len(plateau) // 2])
    return threshold, float(best)


def cross_validate(task: Task, say=print) -> dict:
    """Try every setting of the grid on REPEATS × FOLDS folds of train (each repeat shuffled with
    its own seed: one split alone ranks near-equal settings by chance); the best, calibrated."""
    from sklearn.model_selection import StratifiedKFold
    y = np.array([task.classes.index(label) for label in task.labels])
    folds = [fold for seed in range(REPEATS)
             for fold in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED + seed).split(np.zeros(len(y)), y)]
    other = task.classes.index(task.other) if task.other in task.classes else None
    matrices = {}
    for min_df in task.grid["min_df"]:
        for k, (fit_rows, held_rows) in enumerate(folds):
            terms, idf = vocabulary([task.features[i] for i in fit_rows], min_df)
            matrices[min_df, k] = (matrix([task.features[i] for i in fit_rows], terms, idf),
                                   matrix([task.features[i] for i in held_rows], terms, idf))
    y_all = np.concatenate([y] * REPEATS)
    best = None
    for min_df, C, other_weight in product(task.grid["min_df"], task.grid["C"], task.grid["other_weight"]):
        scores = np.zeros((REPEATS * len(y), len(task.classes)))
        for k, (fit_rows, held_rows) in enumerate(folds):
            X_fit, X_held = matrices[min_df, k]
            W, b = fit(X_fit, [task.labels[i] for i in fit_rows], task.classes, C, task.other, other_weight)
            scores[(k // FOLDS) * len(y) + held_rows] = decisions(X_held, W, b)
        temperature = fit_temperature(scores, y_all)
        threshold, accuracy = choose_threshold(softmax(scores * temperature), y_all, other)
        say(f"  {task.kind}: min_df={min_df} C={C} other_weight={other_weight} → "
            f"cross-validated accuracy {accuracy:.4f} (temperature {temperature}, threshold {threshold})")
        if best is None or accuracy > best["accuracy"] + 1e-12:
            best = {"min_df": min_df, "C": C, "other_weight": other_weight, "temperature": temperature,
                    "threshold": threshold, "accuracy": round(accuracy, 6)}
    return best


def scores_on(model, rows, label_of) -> dict:
    """Accuracy and macro-F1 of the exported model (as run time sees it) on labelled rows."""
    pairs = []
    for row in rows:
        prediction = model.predict(normalize(row.text).text)
        label, confidence = prediction.best
        if model.threshold and confidence < model.threshold and label != OTHER_INTENT:
            label = OTHER_INTENT
        pairs.append((label_of(row), label))
    if not pairs:
        return {"n": 0}
    f1s = []
    for c in sorted({g for g, _ in pairs}):
        tp = sum(g == p == c for g, p in pairs)
        predicted, actual = sum(p == c for _, p in pairs), sum(g == c for g, _ in pairs)
        precision, recall = (tp / predicted if predicted else 0.0), tp / actual
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return {"n": len(pairs), "accuracy": round(sum(g == p for g, p in pairs) / len(pairs), 4),
            "macro_f1": round(sum(f1s) / len(f1s), 4)}


def export(task: Task, chosen: dict, fingerprint: str, out: Path, validation_rows, label_of) -> bytes:
    """Fit on all of train with the chosen setting and write the model file."""
    terms, idf = vocabulary(task.features, chosen["min_df"])
    X = matrix(task.features, terms, idf)
    W, b = fit(X, task.labels, task.classes, chosen["C"], task.other, chosen["other_weight"])
    header = {
        "kind": task.kind, "classes": list(task.classes), "vocabulary": terms,
        "temperature": chosen["temperature"], "threshold": chosen["threshold"] if task.other else 0.0,
        "hyperparameters": {k: chosen[k] for k in ("min_df", "C", "other_weight")},
        "cross_validation": {"folds": FOLDS, "repeats": REPEATS, "accuracy": chosen["accuracy"]},
        "training_sha256": fingerprint, "train_rows": len(task.labels), "features": FEATURE_NOTE,
        "versions": {"scikit-learn": sklearn_version(), "numpy": np.__version__},
        "validation": {},
    }
    write(out, header, idf, W, b)
    header["validation"] = scores_on(read(out), validation_rows, label_of)
    return write(out, header, idf, W, b)


def sklearn_version() -> str:
    import sklearn
    return sklearn.__version__


# --- the two tasks ---

def training_rows(rows) -> list:
    """The train split, less any message that is also in validation (it would make the validation
    score flatter the model: validation keeps it)."""
    held = {normalize(r.text).text for r in corpus.split(rows, "validation")}
    return [r for r in corpus.split(rows, "train") if normalize(r.text).text not in held]


def tasks(rows) -> tuple[Task, list, Task, list]:
    train, validation = training_rows(rows), corpus.split(rows, "validation")
    if not train:
        raise TrainError("the corpus has no train rows")
    missing = [i for i in INTENTS if not any(r.intent == i for r in train)]
    if missing:
        raise TrainError(f"no train rows for: {', '.join(missing)}")
    train_features = featurize([r.text for r in train])
    intent_task = Task("intents", train_features, [r.intent for r in train], INTENTS, OTHER_INTENT, INTENT_GRID)
    complaints = [(r, f) for r, f in zip(train, train_features, strict=False) if r.category]
    categories = tuple(sorted({r.category for r, _ in complaints}))
    if len(categories) < 2:
        raise TrainError("the category model needs complaint rows of at least two categories")
    category_task = Task("categories", [f for _, f in complaints], [r.category for r, _ in complaints],
                         categories, None, CATEGORY_GRID)
    return intent_task, validation, category_task, [r for r in validation if r.category]


def train(out_dir: Path = MODEL_DIR, rows=None, say=print, reuse: dict | None = None) -> dict[str, bytes]:
    """Train both models into out_dir; `reuse` (kind → header) skips cross-validation and refits
    with the settings a model file already holds (for --check)."""
    rows = corpus.load() if rows is None else rows
    fingerprint = corpus.fingerprint(rows)
    intent_task, intent_validation, category_task, category_validation = tasks(rows)
    written = {}
    for task, validation, label_of in ((intent_task, intent_validation, lambda r: r.intent),
                                       (category_task, category_validation, lambda r: r.category)):
        say(f"{task.kind}: {len(task.labels)} train rows, {len(validation)} validation rows, "
            f"{len(task.classes)} classes")
        if reuse is not None:
            header = reuse[task.kind]
            chosen = dict(header["hyperparameters"], temperature=header["temperature"],
                          threshold=header["threshold"], accuracy=header["cross_validation"]["accuracy"])
        else:
            chosen = cross_validate(task, say)
        path = out_dir / f"{task.kind}.model.gz"
        written[task.kind] = export(task, chosen, fingerprint, path, validation, label_of)
        stored = read(path).header
        say(f"{task.kind}: chose {stored['hyperparameters']}, temperature {stored['temperature']}, "
            f"threshold {stored['threshold']}; cross-validated {stored['cross_validation']['accuracy']:.4f}, "
            f"validation {stored['validation']} → {path}")
    return written


def check(model_dir: Path = MODEL_DIR, say=print) -> bool:
    """Refit with the committed models' settings into a scratch directory: identical bytes?"""
    reuse = {kind: read(model_dir / f"{kind}.model.gz").header for kind in ("intents", "categories")}
    with tempfile.TemporaryDirectory() as tmp:
        fresh = train(Path(tmp), say=say, reuse=reuse)
    same = True
    for kind, data in fresh.items():
        if (model_dir / f"{kind}.model.gz").read_bytes() != data:
            say(f"{kind}: the committed model differs from one trained on the corpus now")
            same = False
    return same


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp train",
                                     description="Train the intent and category models from nlp/data/corpus/.")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where to write the model files")
    parser.add_argument("--check", action="store_true",
                        help="refit with the committed settings and compare the bytes (exit 1 if they differ)")
    parser.add_argument("--from-db", action="store_true", help="merge the labels staff gave in the console")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    say = (lambda *_: None) if args.quiet else print
    try:
        if args.from_db:
            raise TrainError("--from-db is not available yet: labels from the console arrive with issue 13 "
                             "part 3 (for now add rows to nlp/data/corpus/ and run without it)")
        if args.check:
            ok = check(say=say)
            print("the committed models match the corpus" if ok else "retrain: python -m nlp train")
            return 0 if ok else 1
        train(args.out, say=say)
    except (TrainError, corpus.CorpusError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m nlp train`: learn the intent and complaint-category models from the corpus.

Linear SVMs (scikit-learn's LinearSVC) on the features of nlp/features.py, weighted as sublinear
TF-IDF and L2-normalised. Everything that is chosen is chosen by 5-fold cross-validation on the
train split only: the vocabulary's minimum document frequency, C, the class weight of "other",
the softmax temperature that turns SVM scores into calibrated confidences, and the confidence
below which a request counts as "other". The validation split is scored and stored with the
model; a plain `train` never reads the test split.

`--from-db` is the labelling loop: the labels staff gave on the console's 消息理解 page join the
train split (never validation or test), both models are retrained, and they are installed into
<var>/nlp/ only if they are not worse on validation than the installed ones. It reads the test
split only to leave its messages out of train and to print its aggregate scores beside the
installed models' — after the decision, which is made on validation alone.

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
from nlp.model import KINDS, MODEL_DIR, default_path, install, installed_path, read, var_dir, write  # noqa: E402
from nlp.model import installed as installed_model  # noqa: E402
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


# --- the labelling loop: `--from-db` ---

def database_url(given: str | None) -> str:
    """--database-url, else DATABASE_URL, else the bot's default SQLite file in var/."""
    return given or os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir() / 'bot.db'}"


def read_labels(url: str) -> list[dict]:
    """The labels staff gave on the console's 消息理解 page (table message_labels), oldest first.
    SQLAlchemy Core on the URL: nlp/ reads the table without importing the bot or storage."""
    from sqlalchemy import create_engine, text  # only --from-db needs it: `python -m nlp TEXT` must not pay
    from sqlalchemy.exc import SQLAlchemyError
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, text, intent, category FROM message_labels ORDER BY id"))
            return [dict(row._mapping) for row in rows]
    except SQLAlchemyError as exc:
        raise TrainError(f"cannot read the labels from {engine.url.render_as_string(hide_password=True)} "
                         f"({type(exc).__name__}; is it migrated? python -m bot migrate)") from None
    finally:
        engine.dispose()


@dataclass
class Merged:
    rows: list                 # the corpus's train and validation rows with the labels in train
    labels: int = 0            # labels read
    used: int = 0              # labels that became train rows
    invalid: int = 0           # not one of the twelve intents, or empty text
    repeated: int = 0          # an earlier label of the same (normalised) text, superseded by a later one
    in_validation: int = 0     # the text is a validation message: validation keeps it, train does not get it
    in_test: int = 0           # the text is a test message: never trained on
    replaced: int = 0          # corpus train rows of the same text, replaced by the staff's label


def merge_labels(rows, labels, test_rows=()) -> Merged:
    """Labels become train rows, never validation or test: deduplicated by normalised text (a later
    label of a text wins over an earlier one and over a corpus train row of it); a label of a
    validation or test message is left out (counted, never shown)."""
    validation = {normalize(r.text).text for r in corpus.split(rows, "validation")}
    test = {normalize(r.text).text for r in test_rows}
    merged = Merged(list(rows), labels=len(labels))
    latest: dict[str, corpus.Row] = {}
    for label in labels:
        text, intent = (label.get("text") or "").strip(), label.get("intent")
        if not text or intent not in INTENTS:
            merged.invalid += 1
            continue
        norm = normalize(text)
        if norm.text in validation:
            merged.in_validation += 1
            continue
        if norm.text in test:
            merged.in_test += 1
            continue
        merged.repeated += norm.text in latest
        category = (label.get("category") or None) if intent == "complaint.file" else None
        latest[norm.text] = corpus.Row(text, intent, category, "console", norm.script, "train", "message_labels")
    kept = [r for r in merged.rows if r.split != "train" or normalize(r.text).text not in latest]
    merged.replaced = len(merged.rows) - len(kept)
    merged.rows = kept + list(latest.values())
    merged.used = len(latest)
    return merged


def _current(kind: str):
    """The model a process would use now: the park's installed one, else the committed default."""
    found = installed_model(kind)
    return (found, "installed") if found is not None else (read(default_path(kind)), "default")


def _verdict(old: dict, new: dict) -> bool:
    """Not worse on validation: accuracy at least the installed model's (intents and categories)."""
    return all(new[kind].get("accuracy", 0.0) >= old[kind].get("accuracy", 0.0) for kind in old)


def from_db(url: str, search: bool = False, say=print, report=print) -> int:
    """Merge the labels, retrain, score beside the installed models, install if not worse.
    0 installed, 1 kept the installed models. `say` gets the progress, `report` the scores and verdict.

    By default the models are refitted with the settings the installed ones hold (C, min_df, the weight
    of "other", temperature, threshold): what changes is the data, so the comparison shows what the labels
    did. `search` cross-validates the settings anew, as a plain `train` does: with near-equal settings
    that can move validation a few messages either way by itself (one label more once chose C=16 over
    C=4 at 0.9360 vs 0.9357 in cross-validation, and scored 0.9715 vs 0.9752 on validation)."""
    labels = read_labels(url)
    if not labels:
        raise TrainError("the database holds no labels yet (staff label messages on the console's 消息理解 page)")
    rows = corpus.load()
    test_rows = corpus.load_test()   # only to keep its messages out of train and to print its scores
    merged = merge_labels(rows, labels, test_rows)
    say(f"labels: {merged.labels} read, {merged.used} merged into train ({merged.replaced} corpus rows "
        f"relabelled); left out: {merged.repeated} relabelled later, {merged.in_validation} validation "
        f"messages, {merged.in_test} test messages, {merged.invalid} invalid")
    if not merged.used:
        raise TrainError("none of the labels can be trained on (see the counts above)")
    current = {kind: _current(kind) for kind in KINDS}
    reuse = None if search else {kind: m.header for kind, (m, _) in current.items()}
    say("choosing the settings by cross-validation (--search)" if search
        else "refitting with the installed models' settings (--search would choose them anew)")
    validation = corpus.split(merged.rows, "validation")
    sets = {"intents": (lambda r: r.intent, validation, test_rows),
            "categories": (lambda r: r.category, [r for r in validation if r.category],
                           [r for r in test_rows if r.category])}
    with tempfile.TemporaryDirectory() as tmp:
        written = train(Path(tmp), rows=merged.rows, say=say, reuse=reuse)
        fresh = {kind: read(Path(tmp) / f"{kind}.model.gz") for kind in KINDS}
        old_scores = {kind: scores_on(current[kind][0], sets[kind][1], sets[kind][0]) for kind in KINDS}
        new_scores = {kind: scores_on(fresh[kind], sets[kind][1], sets[kind][0]) for kind in KINDS}
        better = _verdict(old_scores, new_scores)   # decided on validation alone, before test is scored
        in_use = "in use (" + ("the park's, var/nlp" if current["intents"][1] == "installed" else "the default") + ")"
        report(f"{'accuracy / macro-F1':24}{in_use:32}retrained")
        for kind in KINDS:
            label_of, _, test_part = sets[kind]
            old_test = scores_on(current[kind][0], test_part, label_of)
            new_test = scores_on(fresh[kind], test_part, label_of)
            for name, old, new in (("validation", old_scores[kind], new_scores[kind]), ("test", old_test, new_test)):
                report(f"{kind + ' ' + name:24}{_figures(old):32}{_figures(new)}")
        if better:
            for kind in KINDS:
                install(kind, written[kind])
            report(f"installed: not worse on validation → {installed_path('intents').parent} "
                   "(running processes switch to it within seconds)")
            return 0
    report("kept the installed models: the retrained ones are worse on validation")
    return 1


def _figures(scores: dict) -> str:
    if not scores.get("n"):
        return "-"
    return f"{scores['accuracy']:.4f} / {scores['macro_f1']:.4f} (n={scores['n']})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp train",
                                     description="Train the intent and category models from nlp/data/corpus/.")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where to write the model files")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="refit with the committed settings and compare the bytes (exit 1 if they differ)")
    mode.add_argument("--from-db", action="store_true",
                      help="merge the labels staff gave in the console into train, retrain, and install into "
                           "<var>/nlp/ if not worse on validation (exit 0 installed, 1 kept the installed models)")
    parser.add_argument("--database-url", help="with --from-db: the bot's database (default: DATABASE_URL, "
                                               "else var/bot.db)")
    parser.add_argument("--search", action="store_true",
                        help="with --from-db: choose the settings anew by cross-validation (minutes) instead of "
                             "refitting with the installed models' settings (seconds)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    say = (lambda *_: None) if args.quiet else print
    if (args.database_url or args.search) and not args.from_db:
        parser.error("--database-url and --search go with --from-db")
    try:
        if args.from_db:
            return from_db(database_url(args.database_url), search=args.search, say=say)
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

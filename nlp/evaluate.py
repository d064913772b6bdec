"""`make eval`: how well messages are understood, on the corpus's validation and test splits.

Reports accuracy, macro-F1, per-intent precision/recall/F1, the confusion matrix, Simplified vs
Traditional, per-source figures, complaint-category accuracy and the learning curve (the model
refitted on 25/50/75/100 % of train with its stored settings). The test split is only ever
summarised: no message of it is printed, and nothing here changes a model.

    python -m nlp.evaluate                      # validation and test, with the learning curve
    python -m nlp.evaluate --misses             # … and list the validation messages got wrong
    python -m nlp.evaluate --engine rules       # the older rules instead of the model
    python -m nlp.evaluate --splits validation  # while developing: leave the test split alone
    python -m nlp.evaluate some.jsonl           # any labelled JSONL file (text, intent)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections import Counter
from pathlib import Path

from nlp import classify, corpus, engine
from nlp import model as runtime
from nlp import train as trainer
from nlp.intents import INTENTS
from nlp.normalize import normalize
from nlp.slots import complaint_category

CURVE_SHARES = (0.25, 0.5, 0.75, 1.0)


def load(path: Path) -> list[dict]:
    """A labelled JSONL file as dicts (text, intent, and whatever else the lines carry)."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _as_dict(row) -> dict:
    if isinstance(row, dict):
        return row
    return {"text": row.text, "intent": row.intent, "category": row.category, "source": row.source,
            "script": row.script, "tags": list(row.tags)}


def evaluate(rows) -> dict:
    """Scores of `nlp.classify` (the configured engine) on labelled rows (dicts or corpus rows)."""
    rows = [_as_dict(r) for r in rows]
    pairs = [(row["intent"], classify(row["text"]).intent, row) for row in rows]
    result = intent_scores([(g, p) for g, p, _ in pairs])
    by = {"script": Counter(), "source": Counter(), "tag": Counter()}
    right = {"script": Counter(), "source": Counter(), "tag": Counter()}
    for gold, pred, row in pairs:
        keys = {"script": [row.get("script") or "simplified"], "source": [row.get("source") or "-"],
                "tag": row.get("tags") or []}
        for kind, values in keys.items():
            for value in values:
                by[kind][value] += 1
                right[kind][value] += gold == pred
    for kind in by:
        result[f"by_{kind}"] = {k: (right[kind][k] / by[kind][k], by[kind][k]) for k in sorted(by[kind])}
    result["errors"] = [(row["text"], g, p) for g, p, row in pairs if g != p]
    return result


def intent_scores(pairs) -> dict:
    confusion = Counter(pairs)
    per_intent = {}
    for name in INTENTS:
        tp = confusion[(name, name)]
        predicted = sum(v for (g, p), v in confusion.items() if p == name)
        actual = sum(v for (g, p), v in confusion.items() if g == name)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[name] = {"precision": precision, "recall": recall, "f1": f1, "support": actual}
    present = [v for v in per_intent.values() if v["support"]]
    return {
        "n": len(pairs),
        "accuracy": sum(g == p for g, p in pairs) / max(len(pairs), 1),
        "macro_f1": sum(v["f1"] for v in present) / max(len(present), 1),
        "per_intent": per_intent,
        "confusion": confusion,
    }


def category_scores(rows) -> dict:
    """Accuracy of `nlp.slots.complaint_category` on complaint rows labelled with a category."""
    labelled = [r for r in (_as_dict(r) for r in rows) if r.get("category")]
    hits = Counter()
    total = Counter()
    for row in labelled:
        total[row["category"]] += 1
        hits[row["category"]] += complaint_category(row["text"]) == row["category"]
    n = sum(total.values())
    return {"n": n, "accuracy": sum(hits.values()) / n if n else 0.0,
            "per_category": {c: (hits[c] / total[c], total[c]) for c in sorted(total)}}


def report(name: str, result: dict, misses: bool = True) -> str:
    lines = [f"== {name}: n={result['n']} accuracy={result['accuracy']:.3f} macro-F1={result['macro_f1']:.3f}"]
    lines.append(f"{'intent':20} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}")
    for intent, m in result["per_intent"].items():
        if m["support"]:
            lines.append(f"{intent:20} {m['precision']:6.2f} {m['recall']:6.2f} {m['f1']:6.2f} {m['support']:4d}")
    short = [i.split(".")[-1][:6] for i in INTENTS]
    lines.append("confusion (rows gold, columns predicted): " + " ".join(f"{s:>6}" for s in short))
    for gold in INTENTS:
        cells = " ".join(f"{result['confusion'][(gold, p)]:6d}" for p in INTENTS)
        lines.append(f"{gold:20} {' ' * 21}{cells}")
    for kind in ("script", "source", "tag"):
        figures = result.get(f"by_{kind}") or {}
        if figures:
            lines.append(f"accuracy by {kind}: " + ", ".join(f"{k} {a:.3f} ({n})" for k, (a, n) in figures.items()))
    if misses:
        for text, gold, pred in result.get("errors", []):
            lines.append(f"  MISS gold={gold} pred={pred}: {text[:80]}")
    return "\n".join(lines)


def category_report(name: str, result: dict) -> str:
    if not result["n"]:
        return f"== {name} categories: no labelled complaints"
    per = ", ".join(f"{c} {a:.2f} ({n})" for c, (a, n) in result["per_category"].items())
    return f"== {name} categories: n={result['n']} accuracy={result['accuracy']:.3f}\n  {per}"


def learning_curve(rows, splits: dict, shares=CURVE_SHARES) -> list[tuple[float, int, dict]]:
    """The intent model refitted on growing shares of train (its stored settings, no new search):
    [(share, train rows, {split: accuracy})]. Each share keeps every intent's proportion."""
    stored = runtime.load("intents").header
    chosen = stored["hyperparameters"]
    train_rows = trainer.training_rows(rows)
    order = sorted(range(len(train_rows)),
                   key=lambda i: hashlib.sha256(train_rows[i].text.encode("utf-8")).hexdigest())
    feats = trainer.featurize([r.text for r in train_rows])
    scored = {name: trainer.featurize([r.text for r in split_rows]) for name, split_rows in splits.items()}
    curve = []
    for share in shares:
        taken = []
        for intent in INTENTS:
            members = [i for i in order if train_rows[i].intent == intent]
            taken += members[:max(1, round(len(members) * share))]
        taken.sort()
        subset = [feats[i] for i in taken]
        terms, idf = trainer.vocabulary(subset, chosen["min_df"])
        W, b = trainer.fit(trainer.matrix(subset, terms, idf), [train_rows[i].intent for i in taken], INTENTS,
                           chosen["C"], trainer.OTHER_INTENT, chosen["other_weight"])
        fitted = runtime.LinearModel(dict(stored, vocabulary=terms), idf, W, b)
        accuracy = {}
        for name, split_rows in splits.items():
            right = 0
            for row, fs in zip(split_rows, scored[name], strict=False):
                label, confidence = fitted.predict_features(fs).best
                if confidence < fitted.threshold and label != "other":
                    label = "other"
                right += label == row.intent
            accuracy[name] = right / len(split_rows) if split_rows else 0.0
        curve.append((share, len(taken), accuracy))
    return curve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.evaluate", description="Score message understanding.")
    parser.add_argument("paths", nargs="*", help="labelled JSONL files (default: the corpus's splits)")
    parser.add_argument("--engine", choices=("model", "rules"), help="override NLP_ENGINE")
    parser.add_argument("--misses", action="store_true", help="list validation messages that were missed")
    parser.add_argument("--no-curve", action="store_true", help="skip the learning curve")
    parser.add_argument("--splits", type=lambda v: v.split(","), default=["validation", "test"],
                        help="validation,test (default) or validation alone while developing")
    args = parser.parse_args(argv)
    if args.engine:
        os.environ["NLP_ENGINE"] = args.engine
    print(f"engine: {engine.current()}")
    if args.paths:
        for path in args.paths:
            print(report(path, evaluate(load(Path(path))), misses=args.misses))
        return 0
    rows = corpus.load()
    validation = corpus.split(rows, "validation")
    test = corpus.load_test() if "test" in args.splits else []
    print(report("validation", evaluate(validation), misses=args.misses))
    print(category_report("validation", category_scores(validation)))
    if test:
        # Aggregates only: the test split's messages are never shown.
        print(report("test", evaluate(test), misses=False))
        print(category_report("test", category_scores(test)))
        seen = {normalize(r.text).text for r in rows}
        unseen = [r for r in test if normalize(r.text).text not in seen]
        print(f"test messages also in train/validation (normalised, exact): {len(test) - len(unseen)}; "
              f"accuracy on the {len(unseen)} others: {evaluate(unseen)['accuracy']:.3f}")
    elif "test" in args.splits:
        print("== test: nlp/data/corpus/test.jsonl is absent")
    if not args.no_curve:
        print("learning curve (intent model alone, refitted with its stored settings; accuracy):")
        curve_splits = {"validation": validation, **({"test": test} if test else {})}
        for share, n, accuracy in learning_curve(rows, curve_splits):
            figures = ", ".join(f"{name} {a:.3f}" for name, a in accuracy.items())
            print(f"  {share:4.0%} of train ({n:5d} rows): {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Accuracy, macro-F1, per-intent precision/recall and the confusion matrix on labelled JSONL."""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from nlp.intents import INTENTS


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(rows: list[dict]) -> dict:
    from nlp import classify
    pairs = [(row["intent"], classify(row["text"]).intent, row) for row in rows]
    confusion = Counter((gold, pred) for gold, pred, _ in pairs)
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
    by_tag = Counter()
    tag_total = Counter()
    for gold, pred, row in pairs:
        for tag in row.get("tags", []):
            tag_total[tag] += 1
            by_tag[tag] += gold == pred
    return {
        "n": len(pairs),
        "accuracy": sum(g == p for g, p, _ in pairs) / max(len(pairs), 1),
        "macro_f1": sum(v["f1"] for v in present) / max(len(present), 1),
        "per_intent": per_intent,
        "confusion": confusion,
        "by_tag": {t: by_tag[t] / tag_total[t] for t in sorted(tag_total)},
        "errors": [(row["text"], g, p) for g, p, row in pairs if g != p],
    }


def report(name: str, result: dict) -> str:
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
    lines.append("accuracy by tag: " + ", ".join(f"{t} {a:.2f}" for t, a in result["by_tag"].items()))
    for text, gold, pred in result["errors"]:
        lines.append(f"  MISS gold={gold} pred={pred}: {text[:80]}")
    return "\n".join(lines)


def main(paths: list[str]) -> int:
    for path in paths:
        print(report(path, evaluate(load(Path(path)))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""TF-IDF cosine similarity of a message to labelled example utterances (catches paraphrases)."""
from __future__ import annotations

import math
import re
from collections import Counter
from operator import add

MAX_CHARS = 300   # past this, more text adds no evidence about the intent
_NOT_ALNUM = re.compile(r"[\W_]+")   # what str.isalnum() rejects


def features(text: str) -> Counter:
    """Character bigrams of the text's letters and digits.

    Chinese words are mostly two characters, so bigrams carry what jieba tokens would, survive
    segmentation mistakes, and cost a tenth of jieba's time (which the throughput target needs).
    """
    compact = _NOT_ALNUM.sub("", text[:MAX_CHARS])
    return Counter(map(add, compact, compact[1:]))


class ExampleIndex:
    """An inverted index of examples (TF-IDF vectors); `best_per_label` gives each label's highest
    cosine above a floor, with the example behind it. Plain Python on purpose: a message touches a
    few hundred postings, fewer than numpy's per-call overhead is worth (measured: numpy was slower)."""

    def __init__(self, examples: list[tuple[str, Counter]]):
        df = Counter()
        for _, feats in examples:
            df.update(feats.keys())
        n = max(len(examples), 1)
        self.idf = {f: math.log((n + 1) / (d + 0.5)) for f, d in df.items()}
        self.labels = [label for label, _ in examples]
        self.postings: dict[str, tuple[tuple[int, float], ...]] = {}
        collected: dict[str, list[tuple[int, float]]] = {}
        for i, (_, feats) in enumerate(examples):
            for f, w in self._weigh(feats).items():
                collected.setdefault(f, []).append((i, w))
        self.postings = {f: tuple(entries) for f, entries in collected.items()}

    def _weigh(self, feats: Counter) -> dict[str, float]:
        # Features never seen in an example have idf 0: they add nothing, not even to the norm.
        idf = self.idf
        vec = {f: (1 + math.log(c)) * idf[f] if c > 1 else idf[f] for f, c in feats.items() if f in idf}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items() if w}

    def best_per_label(self, feats: Counter, floor: float = 0.0) -> dict[str, tuple[float, int]]:
        """label → (highest cosine, example index), for labels whose best cosine exceeds `floor`."""
        scores: dict[int, float] = {}
        get, postings = scores.get, self.postings
        for f, w in self._weigh(feats).items():
            for i, wi in postings[f]:
                scores[i] = get(i, 0.0) + w * wi
        best: dict[str, tuple[float, int]] = {}
        labels = self.labels
        for i, score in scores.items():
            if score > floor:
                label = labels[i]
                held = best.get(label)
                if held is None or score > held[0]:
                    best[label] = (score, i)
        return best

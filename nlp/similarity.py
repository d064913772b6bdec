"""TF-IDF cosine similarity of a message to labelled example utterances (catches paraphrases)."""
from __future__ import annotations

import math
from collections import Counter, defaultdict


def features(text: str, tokens: list[str]) -> Counter:
    """jieba tokens plus character bigrams: tokens carry meaning, bigrams survive bad segmentation."""
    grams = Counter(tokens)
    compact = "".join(ch for ch in text if ch.isalnum())
    grams.update(compact[i:i + 2] for i in range(len(compact) - 1))
    return grams


class ExampleIndex:
    """An inverted index of examples; `best_per_label` gives each label's highest cosine."""

    def __init__(self, examples: list[tuple[str, Counter]]):
        df = Counter()
        for _, feats in examples:
            df.update(feats.keys())
        n = max(len(examples), 1)
        self.idf = {f: math.log((n + 1) / (d + 0.5)) for f, d in df.items()}
        self.labels = [label for label, _ in examples]
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, (_, feats) in enumerate(examples):
            vec = self._weigh(feats)
            for f, w in vec.items():
                self.postings[f].append((i, w))

    def _weigh(self, feats: Counter) -> dict[str, float]:
        vec = {f: (1 + math.log(c)) * self.idf.get(f, 0.0) for f, c in feats.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items() if w}

    def best_per_label(self, feats: Counter) -> dict[str, tuple[float, int]]:
        scores: dict[int, float] = defaultdict(float)
        for f, w in self._weigh(feats).items():
            for i, wi in self.postings.get(f, ()):
                scores[i] += w * wi
        best: dict[str, tuple[float, int]] = {}
        for i, s in scores.items():
            label = self.labels[i]
            if s > best.get(label, (0.0, -1))[0]:
                best[label] = (s, i)
        return best

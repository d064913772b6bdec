"""BM25 search over jieba tokens with field weights (title > summary > body) and synonyms."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from nlp.normalize import normalize
from nlp.tokenizer import tokenizer

DATA = Path(__file__).resolve().parent / "data"
FIELD_WEIGHTS = {"title": 3.0, "summary": 1.5, "body": 1.0}
SYNONYM_WEIGHT = 0.6
K1, B = 1.2, 0.75
STOPWORDS = set("的 了 吗 呢 么 是 在 有 和 与 或 我 我们 你 你们 怎么 如何 什么 哪些 可以 能 请问 一下 申请 政策 "
                "有没有 多少 今天".split())


@dataclass(frozen=True)
class Hit:
    doc_id: object
    score: float


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    groups = yaml.safe_load((DATA / "synonyms.yaml").read_text(encoding="utf-8")) or []
    table: dict[str, tuple[str, ...]] = {}
    for group in groups:
        for word in group:
            table[word] = tuple(w for w in group if w != word)
    return table


def terms(text: str) -> list[str]:
    """Search terms: jieba's fine-grained tokens without stopwords, plus the character bigrams of
    longer tokens, so 稳岗补贴 still finds 稳岗返还 (they share 稳岗)."""
    norm = normalize(text).text
    tokens = [t for t in tokenizer().lcut_for_search(norm) if t.strip() and t not in STOPWORDS
              and any(ch.isalnum() for ch in t)]
    grams = [t[i:i + 2] for t in tokens if len(t) >= 3 and "\u4e00" <= t[0] <= "\u9fff"
             for i in range(len(t) - 1)]
    return tokens + [g for g in grams if g not in STOPWORDS]


MIN_CORPUS = 10


class PolicyIndex:
    """Built once from documents ({"id", "title", "summary", "body"}); `search` ranks them."""

    def __init__(self, docs: list[dict]):
        self.ids = [d["id"] for d in docs]
        self.tf: list[Counter] = []
        for doc in docs:
            weighted = Counter()
            for name, weight in FIELD_WEIGHTS.items():
                for term in terms(str(doc.get(name) or "")):
                    weighted[term] += weight
            self.tf.append(weighted)
        self.lengths = [sum(tf.values()) for tf in self.tf]
        self.avg_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0
        df = Counter(term for tf in self.tf for term in tf)
        # A small base (a park starting with a handful of policies) would make every term look common
        # and push scores under the answer threshold: count as if at least MIN_CORPUS documents existed.
        n = max(len(docs), MIN_CORPUS)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, tf in enumerate(self.tf):
            for term in tf:
                self.postings[term].append(i)

    def _query_weights(self, query: str) -> dict[str, float]:
        weights: dict[str, float] = {}
        for term in terms(query):
            weights[term] = max(weights.get(term, 0.0), 1.0)
            for synonym in synonyms().get(term, ()):
                weights[synonym] = max(weights.get(synonym, 0.0), SYNONYM_WEIGHT)
        return weights

    def search(self, query: str, limit: int = 5, min_score: float = 0.5) -> list[Hit]:
        scores: dict[int, float] = defaultdict(float)
        for term, qweight in self._query_weights(query).items():
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i in self.postings[term]:
                tf = self.tf[i][term]
                norm = K1 * (1 - B + B * self.lengths[i] / self.avg_length)
                scores[i] += qweight * idf * tf * (K1 + 1) / (tf + norm)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        return [Hit(self.ids[i], round(s, 3)) for i, s in ranked[:limit] if s >= min_score]

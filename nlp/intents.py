"""Intent scoring: weighted rules with negation scope, plus similarity to example utterances."""
from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from nlp.keychars import key_chars
from nlp.normalize import normalize
from nlp.similarity import ExampleIndex, features

log = logging.getLogger(__name__)
DATA = Path(__file__).resolve().parent / "data"
# The rules' paraphrase examples: the corpus file they became (the model trains on it too).
EXAMPLES = DATA / "corpus" / "examples.jsonl"
INTENTS = ("complaint.file", "complaint.status", "policy.query", "policy.subscribe",
           "policy.unsubscribe", "meeting.signup", "meeting.cancel", "meeting.info",
           "help", "human", "smalltalk", "other")
SIMILARITY_WEIGHT = 5.0   # a perfect paraphrase outweighs one strong rule; typical cosines add 1–2
SIMILARITY_FLOOR = 0.2    # below this cosine, shared characters are coincidence
DECISIVE_SCORE = 5.0      # a rule score this high, ahead by more than similarity can add,
DECISIVE_MARGIN = 3.5     # needs no similarity pass (a near-copy of another intent's example could
                          # still add more, but rules this far ahead are right in every labelled set)


class IntentDataError(ValueError):
    """nlp/data/intents.yaml or the examples are malformed."""


@dataclass(slots=True)
class Evidence:
    intent: str
    weight: float
    kind: str      # "rule" or "example"
    detail: str    # the matched text, or the example
    cosine: float = 0.0

    @property
    def why(self) -> str:
        if self.kind == "rule":
            return f"rule '{self.detail}'"
        return f"like example '{self.detail}' ({self.cosine:.2f})"


@dataclass
class Scores:
    scores: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    weight: float
    pattern: re.Pattern
    context: re.Pattern | None = None   # the rule counts only if this also occurs

    def search(self, text: str):
        match = self.pattern.search(text)
        if match and self.context is not None and not self.context.search(text):
            return None
        return match


@dataclass(frozen=True)
class IntentModel:
    rules: dict[str, tuple[Rule, ...]]
    flat: tuple[tuple[str, Rule], ...]   # every (intent, rule), intent by intent
    rules_by_char: dict[str, frozenset[int]]   # character → rules (indices into flat) that may match
    always: frozenset[int]               # rules no character rules out: always run
    negation: dict[str, re.Pattern]
    negators: re.Pattern
    other_baseline: float
    examples: list[tuple[str, str]]
    index: ExampleIndex


def _compile_rules(name: str, spec: dict) -> tuple[Rule, ...]:
    rules = []
    for item in spec.get("rules") or []:
        if not (isinstance(item, list) and len(item) in (2, 3)):
            raise IntentDataError(f"{name}: a rule must be [weight, regex(, context)], got {item!r}")
        try:
            context = re.compile(item[2]) if len(item) == 3 else None
            rule = Rule(float(item[0]), re.compile(item[1]), context)
        except (re.error, ValueError) as exc:
            raise IntentDataError(f"{name}: bad rule {item!r}: {exc}") from None
        if rule.pattern.search(""):
            raise IntentDataError(f"{name}: rule {item[1]!r} matches empty text (a stray '|'?)")
        rules.append(rule)
    return tuple(rules)


def _warn_shared_keywords(raw: dict, allowed=()) -> list[str]:
    """A plain keyword in two intents' rules is usually a mistake (listed context words excepted)."""
    owners: dict[str, set[str]] = {}
    for name, spec in raw.items():
        for item in spec.get("rules") or []:
            for alt in item[1].split("|"):
                if alt and re.fullmatch(r"[\w一-鿿]+", alt):
                    owners.setdefault(alt, set()).add(name)
    shared = sorted(k for k, v in owners.items() if len(v) > 1 and k not in set(allowed))
    if shared:
        log.warning("intents.yaml: keywords claimed by more than one intent: %s "
                    "(add them to shared_ok if that is meant)", ", ".join(shared))
    return shared


def _rule_index(rules: dict[str, tuple[Rule, ...]], frequency: Counter):
    """Index each rule under the characters of which every match must contain one (the rarer in the
    examples, the better): a message then runs only the rules some of its characters point at."""
    flat = tuple((name, rule) for name, rs in rules.items() for rule in rs)
    by_char: dict[str, set[int]] = {}
    always = set()
    for i, (_, rule) in enumerate(flat):
        chars = key_chars(rule.pattern, frequency)
        if chars is None:
            always.add(i)
        for ch in chars or ():
            by_char.setdefault(ch, set()).add(i)
    return flat, {ch: frozenset(ids) for ch, ids in by_char.items()}, frozenset(always)


@lru_cache(maxsize=1)
def load_model() -> IntentModel:
    """Read and validate the data files once per process."""
    data = yaml.safe_load((DATA / "intents.yaml").read_text(encoding="utf-8"))
    raw = data.get("intents") or {}
    unknown = set(raw) - set(INTENTS)
    if unknown:
        raise IntentDataError(f"unknown intents in intents.yaml: {sorted(unknown)}")
    negators, window = data["negators"], int(data.get("negation_window", 4))
    rules = {name: _compile_rules(name, raw.get(name) or {}) for name in INTENTS}
    negation = {}
    for name, spec in raw.items():
        words = spec.get("negatable") or []
        if words:
            negation[name] = re.compile(f"(?:{negators}).{{0,{window}}}?(?:{'|'.join(map(re.escape, words))})")
    _warn_shared_keywords(raw, data.get("shared_ok") or ())
    examples = [(row["intent"], row["text"]) for row in map(json.loads, EXAMPLES.read_text(encoding="utf-8").splitlines())]
    bad = {label for label, _ in examples} - set(INTENTS)
    if bad:
        raise IntentDataError(f"unknown intents in {EXAMPLES.name}: {sorted(bad)}")
    feats = []
    for label, text in examples:
        norm = normalize(text).text
        feats.append((label, features(norm)))
    flat, rules_by_char, always = _rule_index(rules, Counter(ch for _, text in examples for ch in normalize(text).text))
    return IntentModel(rules, flat, rules_by_char, always, negation, re.compile(negators),
                       float(data.get("other_baseline", 1.0)), examples,
                       ExampleIndex(feats))


def candidate_rules(text: str, model: IntentModel) -> list[int]:
    """The rules (indices into model.flat, in order) that can match this text. Exact: a rule left
    out lacks every character one of its matches would need (see nlp/keychars.py)."""
    candidates = set(model.always)
    for ch in set(text):
        ids = model.rules_by_char.get(ch)
        if ids:
            candidates |= ids
    return sorted(candidates)


def score(text: str, model: IntentModel | None = None) -> Scores:
    """Every intent's score for normalised text, with the evidence behind it."""
    model = model or load_model()
    result = Scores({name: 0.0 for name in INTENTS})
    result.scores["other"] = model.other_baseline
    negated = model.negators.search(text) is not None   # most messages have no negator at all
    scores, evidence = result.scores, result.evidence
    masked: dict[str, str] = {}
    for i in candidate_rules(text, model):
        name, rule = model.flat[i]
        seen = text
        if negated and name in model.negation:
            if name not in masked:
                masked[name] = model.negation[name].sub(lambda m: "□" * len(m.group(0)), text)
            seen = masked[name]
        match = rule.search(seen)
        if match:
            scores[name] += rule.weight
            evidence.append(Evidence(name, rule.weight, "rule", match.group(0)))
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] >= DECISIVE_SCORE and ranked[0] - ranked[1] >= DECISIVE_MARGIN:
        return result   # the rules have decided: similarity (at most +3) could not change the winner
    for label, (cosine, i) in model.index.best_per_label(features(text), SIMILARITY_FLOOR).items():
        if cosine > SIMILARITY_FLOOR:
            bonus = SIMILARITY_WEIGHT * (cosine - SIMILARITY_FLOOR) / (1 - SIMILARITY_FLOOR)
            result.scores[label] += bonus
            result.evidence.append(Evidence(label, round(bonus, 2), "example", model.examples[i][1], cosine))
    return result


def decide(scores: dict[str, float]) -> list[tuple[str, float]]:
    """Intents with evidence, ranked, with softmax probabilities (the confidence)."""
    live = {k: v for k, v in scores.items() if v > 0}
    top = max(live.values())
    exp = {k: math.exp(v - top) for k, v in live.items()}
    total = sum(exp.values())
    return sorted(((k, e / total) for k, e in exp.items()), key=lambda kv: -kv[1])

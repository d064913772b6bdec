"""Understanding Chinese messages: `classify(text)` → intent, confidence, slots, script."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from nlp.normalize import normalize, to_script
from nlp.tokenizer import add_words

__all__ = ["classify", "Classification", "normalize", "to_script", "add_words", "set_roster"]

_roster: tuple[str, ...] = ()
_NO_LETTERS = re.compile(r"[\W_]*")          # no letter or digit at all: nothing to understand
_ONLY_QUESTION = re.compile(r"\s*\?[?\s]*")   # …except a bare question mark


def set_roster(names) -> None:
    """Enterprise names to recognise in messages (also taught to the tokenizer)."""
    global _roster
    _roster = tuple(sorted({n for n in names if n}))
    add_words(_roster)


@dataclass
class Classification:
    intent: str
    confidence: float
    slots: dict
    script: str
    text: str = ""                       # the normalised text that was analysed
    runner_up: str | None = None         # offered as "did you mean …" when intent is "other"
    ranking: list = field(default_factory=list)
    evidence: list = field(default_factory=list)

    def explain(self) -> dict:
        """What matched, for people tuning the rules."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 3),
            "ranking": [(k, round(p, 3)) for k, p in self.ranking[:4]],
            "evidence": [f"{e.intent} +{e.weight}: {e.why}" for e in self.evidence],
        }

    def as_dict(self) -> dict:
        return {"intent": self.intent, "confidence": round(self.confidence, 3),
                "slots": self.slots, "script": self.script}


def classify(text, today: date | None = None, threshold: float | None = None) -> Classification:
    """Classify one message; never raises, whatever the input."""
    from nlp.intents import decide, load_model, score
    from nlp.slots import complaint_category, extract, policy_topics
    norm = normalize(text)
    if _NO_LETTERS.fullmatch(norm.text):   # only punctuation, emoji, spaces (or nothing)
        if _ONLY_QUESTION.fullmatch(norm.text):   # a bare "？" asks what this is and how to use it
            return Classification("help", 0.6, {}, norm.script, norm.text)
        return Classification("other", 1.0, {}, norm.script, norm.text)
    scored = score(norm.text, load_model())
    ranking = decide(scored.scores)
    intent, confidence = ranking[0]
    # The runner-up is a guess worth offering only when a request was demoted for low confidence.
    runner_up = None if intent == "other" else next((k for k, _ in ranking[1:] if k != "other"), None)
    limit = model_threshold() if threshold is None else threshold
    if confidence < limit and intent != "other":
        intent, runner_up = "other", intent
    slots = extract(norm.text, norm.original, today, _roster)
    if intent.startswith("complaint"):
        slots["category"] = complaint_category(norm.text)
    if intent.startswith("policy"):
        topics = policy_topics(norm.text)
        if topics:
            slots["topics"] = topics
    return Classification(intent, confidence, slots, norm.script, norm.text, runner_up,
                          ranking, scored.evidence)


def model_threshold() -> float:
    return 0.45

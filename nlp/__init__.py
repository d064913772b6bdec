"""Understanding Chinese messages: `classify(text)` → intent, confidence, slots, script."""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from nlp import engine, model, revisions
from nlp.commands import command
from nlp.features import features as message_features
from nlp.intents import decide, load_model, score
from nlp.normalize import normalize, to_script
from nlp.slots import complaint_category, extract, policy_topics, sure_or_cued
from nlp.tokenizer import add_words

__all__ = ["classify", "Classification", "normalize", "to_script", "add_words", "set_roster", "add_terms",
           "warm"]

log = logging.getLogger(__name__)
_roster: tuple[str, ...] = ()
_NO_LETTERS = re.compile(r"[\W_]*")          # no letter or digit at all: nothing to understand
_ONLY_QUESTION = re.compile(r"\s*\?[?\s]*")   # …except a bare question mark
# Emoji that acknowledge, thank or greet, sent alone (👍, 🙏🏻, 👌👌): a reply in kind, like "好的". Any other
# emoji alone (😡, 🤔, 📎) says nothing the bot can act on.
_KIND_EMOJI = frozenset("👍👌🙏👏🤝🌹💐🌷😊🙂😄😀😁☺❤💪✌👋🆗✔✅💯")
RULES_THRESHOLD = 0.45                        # the rules' softmax below this → "other"
REVISED_CONFIDENCE = 0.6                      # what follows "哦不对" replaces the message when understood this surely
PLUS_ONE_ECHO_CHARS = 4                       # "+1 算我一个" echoes the +1; longer words after it are the owner's own
EXPLAIN_TOP = 8                               # features listed by explain()


def set_roster(names) -> None:
    """Enterprise names to recognise in messages (also taught to the tokenizer)."""
    global _roster
    _roster = tuple(sorted({n for n in names if n}))
    add_words(_roster)


def add_terms(words) -> int:
    """Domain terms (policy titles, programme names) for the tokenizer; not part of any model file."""
    return add_words(words)


def warm(categories=()) -> None:
    """Load what the current engine needs now, so the first message is fast; warn when the
    configured complaint categories are not the ones the category model was trained on."""
    if engine.current() == "model":
        model.load("intents")
    else:
        load_model()
    if categories:
        unknown, retired = model.category_mismatch(categories)
        if unknown or retired:
            log.warning("the category model does not match complaints.categories (retrain: python -m nlp "
                        "train): it cannot choose %s; it may still choose %s", unknown or "-", retired or "-")
    classify("预热")


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
    engine: str = "rules"
    decided_by: str = ""                 # "model", "rules", "command" or "empty"
    _prediction: object = field(default=None, repr=False, compare=False)

    def explain(self) -> dict:
        """What decided: the rules and examples that matched, or the model's strongest features."""
        evidence = self.evidence
        if self._prediction is not None and not evidence:
            intents = model.load("intents")
            label = self.runner_up if self.intent == "other" and self.runner_up else self.intent
            evidence = intents.contributions(self._prediction, label, top=EXPLAIN_TOP)
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 3),
            "decided_by": self.decided_by or self.engine,
            "runner_up": self.runner_up,
            "ranking": [(k, round(p, 3)) for k, p in self.ranking[:4]],
            "evidence": [f"{e.intent} +{e.weight}: {e.why}" for e in evidence],
        }

    def as_dict(self) -> dict:
        return {"intent": self.intent, "confidence": round(self.confidence, 3),
                "slots": self.slots, "script": self.script}


def classify(text, today: date | None = None, threshold: float | None = None,
             using: str | None = None) -> Classification:
    """Classify one message; never raises, whatever the input. `using` names the engine ("model" or
    "rules") instead of NLP_ENGINE: the console asks the other one for a second opinion.

    What the message finally says counts (nlp/revisions.py): after "哦不对"/"算了" the rest, when it is a clear
    request; after "+1 " the owner's own words; a negated action ("先不要取消") is no request for it."""
    result = _classify(text, today, threshold, using)
    corrected = revisions.after_correction(result.text)
    tail = corrected if corrected is not None else revisions.after_plus_one(result.text)
    if tail is not None:
        revised = _classify(tail, today, threshold, using)
        clear = revised.intent not in ("other", "smalltalk") and revised.confidence >= REVISED_CONFIDENCE
        own_words = corrected is None and len(tail) > PLUS_ONE_ECHO_CHARS    # "+1 我们也看到了"
        if clear or own_words or revisions.holds_off(tail, revised.intent):
            revised.script, revised.decided_by = result.script, f"revised ({revised.decided_by})"
            result = revised
    if result.intent == "complaint.file" and revisions.is_announcement(result.text):
        return _decided(result, "other", {}, "announcement")
    if result.intent in ("complaint.file", "complaint.status", "policy.query", "human", "other"):
        found = revisions.not_a_report(result.text)
        if found is not None and (found[1] == "advert" or result.intent == "complaint.file"
                                  or found[0] == "help" and result.intent in ("other", "human")
                                  or found[1] == "thanks_for_a_fix" and result.intent == "complaint.status"):
            intent, rule = found
            return _decided(result, intent, {rule: True} if intent != "other" else {}, rule)
    if result.intent == "complaint.file" and revisions.asks_when_paid(result.text):
        slots = {k: v for k, v in result.slots.items() if k != "category"}
        topics = policy_topics(result.text)
        return _decided(result, "policy.query", dict(slots, topics=topics) if topics else slots, "payout_question")
    if revisions.holds_off(result.text, result.intent):
        return _decided(result, "smalltalk", {"hold_off": result.intent}, "hold_off")
    return result


def _decided(result: Classification, intent: str, slots: dict, by: str) -> Classification:
    """The message read as `intent` by a rule over what the model said (a notice, an action held back)."""
    return Classification(intent, result.confidence, slots, result.script, result.text, engine=result.engine,
                          decided_by=by)


def _classify(text, today: date | None, threshold: float | None, using: str | None) -> Classification:
    norm = normalize(text)
    which = using if using in engine.ENGINES else engine.current()
    if _NO_LETTERS.fullmatch(norm.text):   # only punctuation, emoji, spaces (or nothing)
        if _ONLY_QUESTION.fullmatch(norm.text):   # a bare "？" asks what this is and how to use it
            return Classification("help", 0.6, {}, norm.script, norm.text, engine=which, decided_by="empty")
        intent = "smalltalk" if _only_kind_emoji(norm.original) else "other"
        return Classification(intent, 1.0, {}, norm.script, norm.text, engine=which, decided_by="empty")
    feats = message_features(norm.text) if which == "model" else None
    result = _by_model(norm.text, feats, threshold) if feats is not None else _by_rules(norm.text, threshold)
    result.script = norm.script
    result.slots = slots = extract(norm.text, norm.original, today, _roster)
    if result.intent == "complaint.file":   # the department it goes to; a status query has its ticket's
        slots["category"] = (sure_or_cued(norm.text, model.load("categories").predict_features(feats).ranking)
                             if feats is not None else complaint_category(norm.text))
    if result.intent.startswith("policy"):
        topics = policy_topics(norm.text)
        if topics:
            slots["topics"] = topics
    return result


def _only_kind_emoji(text: str) -> bool:
    symbols = [c for c in text if unicodedata.category(c) == "So"]   # skin tones and joiners are not "So"
    return bool(symbols) and all(c in _KIND_EMOJI for c in symbols)


def _demote(ranking: list, limit: float) -> tuple[str, float, str | None]:
    """(intent, confidence, runner-up): a request below `limit` becomes "other", offered back."""
    intent, confidence = ranking[0]
    # The runner-up is a guess worth offering only when a request was demoted for low confidence.
    runner_up = None if intent == "other" else next((k for k, _ in ranking[1:] if k != "other"), None)
    if confidence < limit and intent != "other":
        intent, runner_up = "other", intent
    return intent, confidence, runner_up


def _by_rules(text: str, threshold: float | None) -> Classification:
    scored = score(text, load_model())
    ranking = decide(scored.scores)
    intent, confidence, runner_up = _demote(ranking, RULES_THRESHOLD if threshold is None else threshold)
    return Classification(intent, confidence, {}, "", text, runner_up, ranking, scored.evidence,
                          engine="rules", decided_by="rules")


def _by_model(text: str, feats: list[str], threshold: float | None) -> Classification:
    exact = command(text)
    if exact is not None:
        intent, confidence = exact
        return Classification(intent, confidence, {}, "", text, None, [exact], engine="model",
                              decided_by="command")
    intents = model.load("intents")
    prediction = intents.predict_features(feats)
    limit = intents.threshold if threshold is None else threshold
    intent, confidence, runner_up = _demote(prediction.ranking, limit)
    return Classification(intent, confidence, {}, "", text, runner_up, prediction.ranking, engine="model",
                          decided_by="model", _prediction=prediction)


def model_threshold() -> float:
    """The confidence below which a request counts as "other" for the current engine."""
    return model.load("intents").threshold if engine.current() == "model" else RULES_THRESHOLD

"""The owner-side conversations of tests/dialogues/*.yaml, each its own test, through the real HTTP
entry points (tests/dialogue_runner.py says how). Conversations listed in
tests/dialogues/known_failures.txt are expected to fail (strict: one that passes must leave the list)."""
from __future__ import annotations

from collections import Counter

import pytest
from dialogue_runner import KNOWN_FAILURES, Mismatch, load_all, load_known_failures, run, validate

CONVERSATIONS = load_all()
KNOWN = load_known_failures()


def _param(conv):
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[conv.name] or "known failure")] if conv.name in KNOWN else []
    return pytest.param(conv, id=conv.name, marks=marks)


def test_every_conversation_is_well_formed_and_named_once():
    assert len(CONVERSATIONS) >= 200
    twice = [name for name, n in Counter(c.name for c in CONVERSATIONS).items() if n > 1]
    assert not twice, f"conversation names used twice: {twice}"
    for conv in CONVERSATIONS:
        validate(conv.data)


def test_known_failures_name_only_existing_conversations():
    names = {c.name for c in CONVERSATIONS}
    stale = sorted(set(KNOWN) - names)
    assert not stale, f"{KNOWN_FAILURES.name} lists conversations that do not exist: {stale}"


@pytest.mark.parametrize("conversation", [_param(c) for c in CONVERSATIONS])
def test_dialogue(conversation, make_app, settings, fake_api):
    try:
        run(conversation.data, make_app, settings, fake_api)
    except Mismatch as mismatch:           # the transcript says it all; the runner's traceback does not
        pytest.fail(str(mismatch), pytrace=False)

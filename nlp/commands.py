"""Exact commands (菜单, 退订, 转人工, 取消, the bot's own 更多/第2条/催办…): a table, not a model,
because they are exact (nlp/data/commands.yaml)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from nlp.intents import INTENTS

COMMANDS_FILE = Path(__file__).resolve().parent / "data" / "commands.yaml"
MAX_COMMAND_CHARS = 20     # longer text is a sentence, except for the patterns (广播 标题：正文)
PINYIN = re.compile(r"[a-z]+( [a-z]+)+")   # "zhuan ren gong": syllables typed apart
_TRIM = re.compile(r"^[\s.,!?~。，！？、…]+|[\s.,!?~。，！？、…吧啊呀]+$")


class CommandDataError(ValueError):
    """nlp/data/commands.yaml is malformed."""


def _entry(key: str, value) -> tuple[str, float]:
    if not (isinstance(value, list) and len(value) == 2 and value[0] in INTENTS and 0.0 < float(value[1]) <= 1.0):
        raise CommandDataError(f"{COMMANDS_FILE.name}: {key}: expected [intent, confidence], got {value!r}")
    return value[0], float(value[1])


@lru_cache(maxsize=1)
def table() -> tuple[dict[str, tuple[str, float]], tuple[tuple[re.Pattern, tuple[str, float]], ...]]:
    raw = yaml.safe_load(COMMANDS_FILE.read_text(encoding="utf-8")) or {}
    exact = {str(k).lower(): _entry(str(k), v) for k, v in (raw.get("commands") or {}).items()}
    patterns = []
    for pattern, value in (raw.get("patterns") or {}).items():
        try:
            patterns.append((re.compile(pattern), _entry(pattern, value)))
        except re.error as exc:
            raise CommandDataError(f"{COMMANDS_FILE.name}: bad pattern {pattern!r}: {exc}") from None
    return exact, tuple(patterns)


def command(text: str) -> tuple[str, float] | None:
    """(intent, confidence) when normalised text is one of the commands, else None."""
    exact, patterns = table()
    trimmed = _TRIM.sub("", text)
    if PINYIN.fullmatch(trimmed):
        trimmed = trimmed.replace(" ", "")
    if len(trimmed) <= MAX_COMMAND_CHARS:
        found = exact.get(trimmed)
        if found is not None:
            return found
    for pattern, found in patterns:
        if pattern.fullmatch(trimmed):
            return found
    return None

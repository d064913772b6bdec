"""Normalise raw WeChat text for analysis: script, width, mentions, emoji, URLs, typos."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import opencc
import yaml

from nlp.typos import correct

# Analysis never needs more than this; a 100 KB paste must stay as fast as a short message.
MAX_ANALYSED_CHARS = 1000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_URL = re.compile(r"(https?://|www\.)\S+", re.I)
# A mention is @name followed by a space (WeChat puts U+2005 there), or a short @name ending the
# text: "群里@你和私聊你有区别吗" is a sentence about mentions, not a mention, so it stays text.
_MENTION = re.compile(r"@[^\s@,.:;!?，。：；！？、]{1,20}[\s\u2005]+|@[^\s@,.:;!?，。：；！？、]{1,8}$")
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0E\uFE0F\u200d\u20e3]")
_REPEATED_PUNCT = re.compile(r"([!?.,~。，！？、…])\1+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Normalized:
    original: str
    text: str      # simplified, half-width, cleaned, lower-case: what rules and search read
    script: str    # "simplified" or "traditional": how to answer
    mentions: tuple


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset:
    """Characters that Traditional→Simplified conversion changes (found once, ~10 ms)."""
    chars = "".join(chr(c) for c in range(0x3400, 0xA000))
    converted = _converter("t2s.json").convert(chars)
    if len(converted) != len(chars):   # never expected; then always convert
        return frozenset(chars)
    return frozenset(a for a, b in zip(chars, converted, strict=False) if a != b)


def to_simplified(text: str) -> str:
    """OpenCC t2s, skipped for text without a single Traditional character (most messages)."""
    if _traditional_chars().isdisjoint(text):
        return text
    return _converter("t2s.json").convert(text)


# The product's own phrases (simplified<TAB>traditional, nlp/data/script_phrases.txt): the words of our
# replies come out as written there, and OpenCC never segments across them (its longest match cuts
# "2人参加" into 人参|加 → 人蔘加, and "可直接回复" into 接回|复 → 回復).
SCRIPT_PHRASES = Path(__file__).resolve().parent / "data/script_phrases.txt"


@lru_cache(maxsize=1)
def _script_phrases() -> tuple[re.Pattern | None, dict[str, str]]:
    table = {}
    for line in SCRIPT_PHRASES.read_text(encoding="utf-8").splitlines():
        simplified, _, traditional = line.partition("\t")
        if simplified.strip() and not simplified.startswith("#") and traditional.strip():
            table[simplified.strip()] = traditional.strip()
    keys = sorted(table, key=len, reverse=True)   # longest first: 请回复 before 回复
    return (re.compile("|".join(map(re.escape, keys))) if keys else None), table


def to_traditional(text: str) -> str:
    """Simplified → Traditional by phrase: the product's phrases first, everything between them with
    OpenCC's s2tw (phrase segmentation by STPhrases, then Taiwan-standard characters: 為, 裡, 參…).
    Not s2twp: its Taiwan vocabulary turns 支持标准 into 支援標準, 办理程序 into 辦理程式 and
    政策文件 into 政策檔案."""
    pattern, table = _script_phrases()
    convert = _converter("s2tw.json").convert
    if pattern is None:
        return convert(text)
    out, last = [], 0
    for found in pattern.finditer(text):
        out += [convert(text[last:found.start()]) if found.start() > last else "", table[found.group(0)]]
        last = found.end()
    out.append(convert(text[last:]) if last < len(text) else "")
    return "".join(out)


def to_script(text: str, script: str) -> str:
    """Render a reply in the user's script (Traditional in → Traditional out), converted by phrase."""
    return to_traditional(text) if script == "traditional" else text


# Characters a Simplified input method types as they are, though OpenCC converts them: "咁要搵边个申请" is written
# in Simplified (边, 个), and its 搵 (Cantonese "look for"; OpenCC: 揾) says nothing about the script.
_SCRIPT_NEUTRAL = frozenset("搵")


def detect_script(text: str, simplified: str | None = None) -> str:
    """Traditional when converting to Simplified changed anything (besides characters both scripts type)."""
    simplified = to_simplified(text) if simplified is None else simplified
    if simplified == text:
        return "simplified"
    if len(simplified) == len(text) and all(a == b or a in _SCRIPT_NEUTRAL
                                            for a, b in zip(text, simplified, strict=True)):
        return "simplified"
    return "traditional"


def alnum_count(text: str) -> int:
    """How many letters and digits the text holds: its length without punctuation, spaces or emoji."""
    return sum(ch.isalnum() for ch in text)


def clean(text: str) -> str:
    """Width-fold and strip what carries no meaning; keeps @mentions (see `normalize`)."""
    text = unicodedata.normalize("NFKC", text[:MAX_ANALYSED_CHARS])
    text = _CONTROL.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    return text


def normalize(raw) -> Normalized:
    """Never raises: anything that is not text becomes empty text."""
    original = raw if isinstance(raw, str) else ""
    text = clean(original)
    mentions = tuple(m.strip()[1:] for m in _MENTION.findall(text))
    text = _MENTION.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    simplified = to_simplified(text)
    script = detect_script(text, simplified)
    return Normalized(original, correct(to_mandarin(simplified.lower())), script, mentions)


@lru_cache(maxsize=1)
def _dialect() -> tuple[re.Pattern, dict[str, str]]:
    table = yaml.safe_load((Path(__file__).resolve().parent / "data/dialect.yaml").read_text(encoding="utf-8"))
    keys = sorted(table, key=len, reverse=True)   # longest first: 搞么子 before 么子
    return re.compile("|".join(map(re.escape, keys))), table


def to_mandarin(text: str) -> str:
    """Dialect words (么子, 冇得, 晓得…) as the Mandarin the rules are written in."""
    pattern, table = _dialect()
    return pattern.sub(lambda m: table[m.group(0)], text)

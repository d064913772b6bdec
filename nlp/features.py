"""What the learned models see of a message: jieba words and character 1–3-grams of normalised text.

One function for training (nlp/train.py) and scoring (nlp/model.py), so the two can never drift
apart. The text is the output of `nlp.normalize` (Simplified, half-width, lower-case, dialect
rewritten, typos of domain terms corrected).
"""
from __future__ import annotations

import re
from operator import add

from nlp.tokenizer import words

# Past this, more text adds little about the intent (long narratives are complaints either way),
# and scoring time stays bounded for a 100 KB paste.
MAX_CHARS = 300
WORD = "w:"              # prefix of jieba word features; character n-grams have none
_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")


def prepare(text: str) -> str:
    """Digits become 0 (a ticket number or a date says its kind, not its value); spaces fold."""
    return _SPACES.sub(" ", _DIGITS.sub("0", text[:MAX_CHARS])).strip()


def features(text: str) -> list[str]:
    """Feature strings of normalised text (with repeats: their counts matter)."""
    text = prepare(text)
    if not text:
        return []
    padded = f"^{text}$"   # the ends mark whole short messages ("^退订$") and openings
    grams = list(text)
    bigrams = list(map(add, padded, padded[1:]))
    grams += bigrams
    grams += map(add, bigrams, padded[2:])     # trigrams
    grams += [WORD + w for w in words(text)]
    return grams

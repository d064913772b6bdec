"""Correct one-character homophone typos of domain terms (取小 → 取消) with a prebuilt table."""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
TERMS_FILE = DATA / "typo_terms.txt"
TABLE_FILE = DATA / "homophones.json"
# Variants that are common words in their own right and must never be "corrected".
KEEP = {"取笑", "推定", "助理"}


def _terms() -> list[str]:
    lines = TERMS_FILE.read_text(encoding="utf-8").splitlines()
    return [t.strip() for t in lines if t.strip() and not t.startswith("#")]


def build_table() -> dict[str, str]:
    """variant → term for every common (GB2312) character with the same toneless pinyin."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict
    homophones: dict[str, set[str]] = {}
    for codepoint, readings in pinyin_dict.items():
        char = chr(codepoint)
        if "\u4e00" <= char <= "\u9fff" and _is_common(char):
            # Only the main reading: rare ones (助 as chú) would turn 助理 into 处理.
            homophones.setdefault(to_normal(readings.split(",")[0]), set()).add(char)
    table = {}
    for term in _terms():
        for i, syllable in enumerate(lazy_pinyin(term, style=Style.NORMAL)):
            for char in homophones.get(syllable, ()):
                variant = term[:i] + char + term[i + 1:]
                if variant != term and variant not in KEEP:
                    table.setdefault(variant, term)
    return dict(sorted(table.items()))


def _is_common(char: str) -> bool:
    try:
        char.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], tuple[int, ...], frozenset]:
    table = json.loads(TABLE_FILE.read_text(encoding="utf-8"))
    lengths = tuple(sorted({len(v) for v in table}, reverse=True))
    return table, lengths, frozenset(v[:2] for v in table)


def correct(text: str) -> str:
    """Replace known homophone variants of domain terms; longest match first, left to right."""
    table, lengths, starts = _table()
    # Most messages hold no variant at all: find the positions where one could start, in one pass.
    candidates = [i for i in range(len(text) - 1) if text[i:i + 2] in starts]
    if not candidates:
        return text
    out, done, n = [], 0, len(text)
    for i in candidates:
        if i < done:
            continue   # inside a term already replaced
        for length in lengths:
            term = table.get(text[i:i + length]) if i + length <= n else None
            if term:
                out.append(text[done:i])
                out.append(term)
                done = i + length
                break
    out.append(text[done:])
    return "".join(out)


if __name__ == "__main__" and "--build" in sys.argv:
    TABLE_FILE.write_text(json.dumps(build_table(), ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"wrote {TABLE_FILE}")

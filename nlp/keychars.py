"""Which characters a regex's every match must contain: a cheap exact pre-check before running it.

"(我要)?投诉|举报" can only match text that contains 诉 or 举 (one of them in each alternative, the
rarest one chosen). Checking that with a set intersection costs a fraction of a regex search, and
most rules fail it for most messages. None means "cannot tell" (only wildcards or wide classes):
such a regex is always run.
"""
from __future__ import annotations

import re
from collections import Counter
from re import _constants as c  # the stdlib's own regex parser: exact, no guessing
from re import _parser

MAX_CLASS = 256   # a character class wider than this is not worth a set

Clause = frozenset   # at least one of these characters occurs in every match


def _class_chars(items) -> set[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is c.LITERAL:
            chars.add(chr(av))
        elif op is c.RANGE and av[1] - av[0] < MAX_CLASS:
            chars.update(chr(i) for i in range(av[0], av[1] + 1))
        else:                      # NEGATE, CATEGORY (\w, \d…), wide ranges
            return None
    return chars


def _cased(chars: set[str], ignore_case: bool) -> frozenset:
    if ignore_case:
        chars = chars | {x.lower() for x in chars} | {x.upper() for x in chars}
    return frozenset(chars)


class _Chooser:
    def __init__(self, frequency: Counter):
        self.frequency = frequency

    def cost(self, clause: Clause) -> int:
        return sum(self.frequency.get(ch, 0) + 1 for ch in clause)

    def element(self, op, av, ignore_case: bool) -> Clause | None:
        """A clause every match of this element satisfies, or None (it may match without one)."""
        if op is c.LITERAL:
            return _cased({chr(av)}, ignore_case)
        if op is c.IN:
            chars = _class_chars(av)
            return None if chars is None else _cased(chars, ignore_case)
        if op is c.SUBPATTERN:   # (group, flags added, flags removed, body): (?i:…) scopes count
            scoped = (ignore_case or bool(av[1] & re.IGNORECASE)) and not av[2] & re.IGNORECASE
            return self.sequence(av[-1], scoped)
        if op is c.BRANCH:
            union: set[str] = set()
            for branch in av[1]:
                clause = self.sequence(branch, ignore_case)
                if clause is None:
                    return None
                union |= clause
            return frozenset(union)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, _high, item = av
            return self.sequence(item, ignore_case) if low >= 1 else None
        return None   # zero width (AT, lookarounds), ANY, NOT_LITERAL, group references…

    def sequence(self, items, ignore_case: bool) -> Clause | None:
        """Every element's clause must hold: keep the cheapest (rarest characters)."""
        clauses = [clause for op, av in items if (clause := self.element(op, av, ignore_case)) is not None]
        return min(clauses, key=self.cost) if clauses else None


def key_chars(pattern: re.Pattern, frequency: Counter | None = None) -> frozenset[str] | None:
    """Characters of which every match contains at least one (rare ones preferred), or None."""
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:   # a pattern this Python's parser does not take: always run it
        return None
    return _Chooser(frequency or Counter()).sequence(list(parsed), bool(pattern.flags & re.IGNORECASE))

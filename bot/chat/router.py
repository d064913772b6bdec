"""Ordered first-match routing with small composable matchers (&, |, ~)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.chat.context import Handler


class Matcher:
    """A predicate over (msg, ctx) that combines with &, | and ~ and names itself."""

    def __init__(self, test: Callable, label: str):
        self.test, self.label = test, label

    def __call__(self, msg, ctx) -> bool:
        return bool(self.test(msg, ctx))

    def __and__(self, other: Matcher) -> Matcher:
        return Matcher(lambda m, c: self(m, c) and other(m, c), f"({self.label} & {other.label})")

    def __or__(self, other: Matcher) -> Matcher:
        return Matcher(lambda m, c: self(m, c) or other(m, c), f"({self.label} | {other.label})")

    def __invert__(self) -> Matcher:
        return Matcher(lambda m, c: not self(m, c), f"~{self.label}")

    def __repr__(self) -> str:
        return self.label


def intent(*names: str, min_confidence: float = 0.0) -> Matcher:
    return Matcher(lambda m, c: c.nlu is not None and c.nlu.intent in names
                   and c.nlu.confidence >= min_confidence, f"intent{names}")


def keyword(*words: str) -> Matcher:
    """Any of the words in the normalised (Simplified) text."""
    return Matcher(lambda m, c: c.nlu is not None and any(w in c.nlu.text for w in words),
                   f"keyword{words}")


def regex(pattern: str) -> Matcher:
    compiled = re.compile(pattern)
    return Matcher(lambda m, c: c.nlu is not None and compiled.search(c.nlu.text), f"regex({pattern})")


def event(*names: str) -> Matcher:
    return Matcher(lambda m, c: m.msg_type == "event" and m.event in names, f"event{names}")


def msg_type(*types: str) -> Matcher:
    return Matcher(lambda m, c: m.msg_type in types, f"msg_type{types}")


def staff_only() -> Matcher:
    return Matcher(lambda m, c: c.user is not None and bool({"staff", "admin"} & set(c.user.roles or [])),
                   "staff_only")


def always() -> Matcher:
    return Matcher(lambda m, c: True, "always")


@dataclass(frozen=True)
class Route:
    matcher: Matcher
    handler: Handler
    name: str


class Router:
    """One feature's routes, in the order they were registered."""

    def __init__(self, name: str):
        self.name = name
        self.routes: list[Route] = []

    def route(self, matcher: Matcher) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(matcher, handler, f"{self.name}.{handler.__name__}"))
            return handler
        return register


def first_match(routes: list[Route], msg, ctx) -> Route | None:
    return next((r for r in routes if r.matcher(msg, ctx)), None)

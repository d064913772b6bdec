"""Declared multi-step conversations, stored in Redis per (channel, chat, user) with a timeout.

Flows are plain values each handler module declares in its FLOWS list; the composition root hands them
to the Dispatcher. Nothing registers itself on import, so a process that has not yet handled a message
(a fresh server, the CLI, the worker) knows the same flows and timeouts as one that has.

While Redis is unreachable there is no pending conversation: every message is routed afresh and a
flow that starts is forgotten (its question may be asked again), but no message goes unanswered.

One pending question at a time: a question asked while another is pending (a rating after a resolution,
the seat offer of a signup made in passing) waits behind it ("queued") and is asked when the pending one
is answered, cancelled or expires. An `optional` follow-up (a phone number after filing) never makes
another question wait: a new question replaces it."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.redis import lenient

CANCEL_WORDS = ("取消", "算了", "不用了", "退出", "cancel", "不要了", "不办了", "不弄了", "没事了")
# "算了，不投诉了，已经自己解决了", "不用登记了": the owner takes the matter back.
_WITHDRAW = re.compile(r"^(算了|不用了|不要了|没事了)|不投诉了|不反映了|不登记了|不用登记|不用投诉|不办了|不弄了|"
                       r"(自己|已经)解决了|不需要了")


@dataclass(frozen=True)
class Flow:
    """A state machine: `steps[state](msg, ctx, data) -> reply`; a step moves on with ctx.conversation.

    A flow that declares `accepts` takes a message as the answer only when `accepts(msg, ctx, state)` says
    it plausibly is one (a place for "where?", a number for "which one?"); anything else is a digression:
    it is answered as what it is, and the pending question is kept and briefly asked again (`reask`).
    A flow without `accepts` keeps the older rule: every message is its answer unless it is a confident
    request of an intent the flow does not list in `answers`."""
    name: str
    title: str                                   # said to the user when the flow is left ("绑定企业")
    steps: dict[str, Callable]
    answers: tuple[str, ...] = ()                # intents that are answers here, not new requests
    timeout_s: int | None = None                 # None → settings.conversation_timeout_s
    on_cancel: Callable | None = None            # what "取消" means here, if more than leaving the flow
    accepts: Callable | None = None              # (msg, ctx, state) -> bool: is this the answer?
    reask: Callable | None = None                # (ctx, state) -> str: the pending question, briefly
    optional: bool = False                       # a follow-up: answered if the user wants, replaced by any new question


def by_name(flows) -> dict[str, Flow]:
    """{name: flow}; two flows of one name are a programming error, found at start-up."""
    table: dict[str, Flow] = {}
    for flow in flows:
        if flow.name in table:
            raise ValueError(f"two flows named {flow.name!r}")
        table[flow.name] = flow
    return table


@dataclass
class State:
    flow: str
    step: str
    data: dict = field(default_factory=dict)


class ConversationStore:
    """The pending conversation of one user in one chat, and the question waiting behind it."""

    def __init__(self, redis, msg=None, default_timeout_s: int = 1800, *, channel: str = "",
                 chat_id: str = "", user_id: str = "", flows: dict[str, Flow] | None = None):
        self.redis, self.default_timeout_s = lenient(redis), default_timeout_s
        self.flows = flows or {}
        if msg is not None:
            channel, chat_id, user_id = msg.channel, msg.chat_id, msg.user_id
        self.key, self.next_key = conversation_keys(channel, chat_id, user_id)
        self.held: State | None = None       # the pending question while a digression is answered
        self.touched = False                 # …and whether the digression moved that question itself
        self.queued: State | None = None     # a question the digression asked, now waiting
        self.promoted: State | None = None   # a waiting question that became the pending one just now

    def get(self) -> State | None:
        state = self._read(self.key)
        if state is None and self.held is None:
            state = self._promote(announce=False)   # the pending question expired: the waiting one is next
        return state

    def start(self, flow: str, step: str, data: dict | None = None, timeout_s: int | None = None,
              wait: bool = False) -> None:
        """Ask a question. `wait=True` (a question from outside the chat, such as the rating after a
        resolution) waits behind a pending question that is not optional, instead of replacing it."""
        state = State(flow, step, data or {})
        if wait:
            current = self._read(self.key)
            if current is not None and current.flow != flow and not current.data.get("_optional"):
                self._write(self.next_key, state, timeout_s)
                return
        self.move(state, timeout_s)

    def move(self, state: State, timeout_s: int | None = None) -> None:
        """Keep the state for `timeout_s`, else the flow's declared timeout, else the default.
        Code outside the chat (a ticket resolved from the CLI) passes the timeout it means.
        While a digression is answered, a question of another flow waits behind the pending one."""
        held, waiting = self.held, self.promoted
        if held is not None and state.flow != held.flow and not held.data.get("_optional"):
            self.queued = state
            self._write(self.next_key, state, timeout_s)
            return
        if held is None and waiting is not None and state.flow != waiting.flow:
            declared = self.flows.get(state.flow)
            if declared is None or not declared.optional:    # an optional follow-up yields to the waiting question
                self._write(self.next_key, state, timeout_s)
            return
        if held is not None:
            self.touched = True
        self._write(self.key, state, timeout_s)

    def clear(self) -> None:
        """The pending question is answered or dropped; a waiting one becomes pending (`promoted`)."""
        if self.held is not None and not self.held.data.get("_optional"):
            return        # a digression's handler cannot drop the question it interrupted
        if self.held is not None:
            self.touched = True
        self.redis.delete(self.key)
        self._promote()

    def hold(self, state: State) -> None:
        """A digression is being answered: `state` stays pending whatever its handler starts or clears."""
        self.held, self.touched, self.queued = state, False, None

    def release(self) -> State | None:
        """The digression is answered; returns the question it asked that now waits, if any."""
        queued, self.held = self.queued, None
        return queued

    def set_question(self, state: State, text: str) -> None:
        """Remember the words of a waiting question, to ask it again when its turn comes."""
        state.data["_question"] = text
        self._write(self.next_key, state)

    def _promote(self, announce: bool = True) -> State | None:
        waiting = self._read(self.next_key)
        if waiting is None:
            return None
        self.redis.delete(self.next_key)
        self._write(self.key, waiting)
        if announce:
            self.promoted = waiting
        return waiting

    def _read(self, key: str) -> State | None:
        raw = self.redis.get(key)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return State(data["flow"], data["step"], data.get("data") or {})
        except (ValueError, KeyError, TypeError):
            self.redis.delete(key)  # unreadable state must not trap the user
            return None

    def _write(self, key: str, state: State, timeout_s: int | None = None) -> None:
        declared = self.flows.get(state.flow)
        if declared is not None and declared.optional:
            state.data["_optional"] = True
        timeout = timeout_s or (declared.timeout_s if declared else None) or state.data.get("_timeout_s") \
            or self.default_timeout_s
        if timeout_s:
            state.data["_timeout_s"] = timeout_s      # kept, so that a waiting question keeps its own timeout
        payload = json.dumps({"flow": state.flow, "step": state.step, "data": state.data}, ensure_ascii=False)
        self.redis.set(key, payload, ex=timeout)


def conversation_keys(channel: str, chat_id: str, user_id: str) -> tuple[str, str]:
    """The Redis keys of one user's pending question in one chat, and of the question waiting behind it."""
    key = f"conv:{channel}:{chat_id or '-'}:{user_id}"
    return key, key + ":next"


def is_cancel(text: str) -> bool:
    """取消 / 算了 / 不用了 alone, or the owner taking the matter back ("算了，不投诉了")."""
    stripped = text.strip().rstrip("。.!！吧啊呀~")
    return stripped in CANCEL_WORDS or bool(_WITHDRAW.search(stripped))

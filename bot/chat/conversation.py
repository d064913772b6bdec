"""Declared multi-step conversations, stored in Redis per (channel, chat, user) with a timeout.

Flows are plain values each handler module declares in its FLOWS list; the composition root hands them
to the Dispatcher. Nothing registers itself on import, so a process that has not yet handled a message
(a fresh server, the CLI, the worker) knows the same flows and timeouts as one that has.

While Redis is unreachable there is no pending conversation: every message is routed afresh and a
flow that starts is forgotten (its question may be asked again), but no message goes unanswered."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.redis import lenient

CANCEL_WORDS = ("取消", "算了", "不用了", "退出", "cancel")


@dataclass(frozen=True)
class Flow:
    """A state machine: `steps[state](msg, ctx, data) -> reply`; a step moves on with ctx.conversation."""
    name: str
    title: str                                   # said to the user when the flow is left ("绑定企业")
    steps: dict[str, Callable]
    answers: tuple[str, ...] = ()                # intents that are answers here, not new requests
    timeout_s: int | None = None                 # None → settings.conversation_timeout_s
    on_cancel: Callable | None = None            # what "取消" means here, if more than leaving the flow


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
    """The pending conversation of one user in one chat."""

    def __init__(self, redis, msg=None, default_timeout_s: int = 1800, *, channel: str = "",
                 chat_id: str = "", user_id: str = "", flows: dict[str, Flow] | None = None):
        self.redis, self.default_timeout_s = lenient(redis), default_timeout_s
        self.flows = flows or {}
        if msg is not None:
            channel, chat_id, user_id = msg.channel, msg.chat_id, msg.user_id
        self.key = f"conv:{channel}:{chat_id or '-'}:{user_id}"

    def get(self) -> State | None:
        raw = self.redis.get(self.key)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return State(data["flow"], data["step"], data.get("data") or {})
        except (ValueError, KeyError, TypeError):
            self.clear()  # unreadable state must not trap the user
            return None

    def start(self, flow: str, step: str, data: dict | None = None, timeout_s: int | None = None) -> None:
        self.move(State(flow, step, data or {}), timeout_s)

    def move(self, state: State, timeout_s: int | None = None) -> None:
        """Keep the state for `timeout_s`, else the flow's declared timeout, else the default.
        Code outside the chat (a ticket resolved from the CLI) passes the timeout it means."""
        declared = self.flows.get(state.flow)
        timeout = timeout_s or (declared.timeout_s if declared else None) or self.default_timeout_s
        payload = json.dumps({"flow": state.flow, "step": state.step, "data": state.data}, ensure_ascii=False)
        self.redis.set(self.key, payload, ex=timeout)

    def clear(self) -> None:
        self.redis.delete(self.key)


def is_cancel(text: str) -> bool:
    stripped = text.strip().rstrip("。.!！吧")
    return stripped in CANCEL_WORDS or stripped.endswith(("不办了", "不弄了"))

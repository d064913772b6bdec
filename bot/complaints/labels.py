"""The codes a ticket stores (and JSON keeps), as staff and the provincial platform read them, and the
timeline as staff read it. Used by the console and the command line alike."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.complaints.texts import EVENT_NAMES, RATING_NAMES, STATUS_NAMES

SOURCE_NAMES = {"wechat": "公众号", "wecom": "企业微信", "group": "群聊"}     # the other sources are stored in Chinese
ACTOR_NAMES = {"user": "提交人", "staff": "工作人员", "system": "系统"}
# A status event this close after an assignment by the same person is the assignment's own step (已受理 → 已交办).
SAME_STEP_SECONDS = 5


def source_name(code: str | None) -> str:
    """Where a ticket came from, in words: wechat → 公众号; 电话, 走访… are words already."""
    return SOURCE_NAMES.get(code or "", code or "")


def actor_name(actor: str | None) -> str:
    """Who made a change: user → 提交人, staff → 工作人员, cli:wang → 命令行（wang）; a console login as it is."""
    actor = actor or ""
    if actor.startswith("cli:"):
        return f"命令行（{actor[4:]}）"
    return ACTOR_NAMES.get(actor, actor)


def status_name(code: str | None) -> str:
    return STATUS_NAMES.get(code or "", code or "")


def status_code(text: str) -> str | None:
    """A status as typed: the code (in_progress) or its Chinese name (办理中); None if it is neither."""
    text = (text or "").strip()
    if text in STATUS_NAMES:
        return text
    return next((code for code, name in STATUS_NAMES.items() if name == text), None)


def status_choices() -> str:
    """The statuses as a person may type them: 已受理（received）、已交办（assigned）…"""
    return "、".join(f"{name}（{code}）" for code, name in STATUS_NAMES.items())


@dataclass
class Row:
    """One line of a ticket's timeline as staff read it."""
    at: datetime
    actor: str           # in words
    kind: str            # in words
    public: bool
    change: str          # "已受理 → 已交办", "供电 → 道路交通", "城建局" …; "" when there is none
    text: str            # what was said (a reply, a note, a rating comment)


def _status_change(data: dict, before: str | None) -> str:
    to = data.get("status")
    if not to:
        return ""
    start = data.get("previous") or before
    return f"{status_name(start)} → {status_name(to)}" if start and start != to else status_name(to)


def timeline(events) -> list[Row]:
    """The events in order, each with what changed from → to; the status step an assignment makes (已受理 →
    已交办) goes on the assignment's own line instead of a line with no text of its own."""
    rows: list[Row] = []
    status = None            # the ticket's status as the events go, for events that did not record the previous one
    last_assign = None
    for e in events:
        data = e.data or {}
        if e.kind == "filed":
            status = "received"
        if e.kind == "status":
            change = _status_change(data, status)
            status = data.get("status") or status
            if (last_assign is not None and not e.text and e.actor == last_assign[0].actor
                    and abs((e.at - last_assign[0].at).total_seconds()) <= SAME_STEP_SECONDS):
                row = last_assign[1]
                row.change = f"{row.change}（{change}）" if row.change else change
                last_assign = None
                continue
            rows.append(Row(e.at, actor_name(e.actor), EVENT_NAMES["status"], e.public, change, e.text))
            continue
        if e.kind == "reopened" or (e.kind == "reply" and status in ("received", "assigned")):
            status = "in_progress"       # what service.rate and service.reply do without a status event
        if e.kind == "merged" and data.get("merged_into"):
            status = "closed"
        if e.kind == "category" and "from" in data:
            change, text = f"{data.get('from')} → {data.get('to')}", ""
        elif e.kind == "assigned":
            change, text = e.text, ""
        elif e.kind == "rated" and data.get("rating"):
            change, text = f"{data['rating']} 分（{RATING_NAMES.get(data['rating'], '')}）", e.text
        elif e.kind == "withdrawn":      # the owner took it back: closed by this event, without a status event
            change, text, status = f"{status_name(status)} → {status_name('closed')}", e.text, "closed"
        elif e.kind == "extend" and data.get("due"):
            change, text = f"延 {data.get('days')} 个工作日，至 {data['due']}", e.text
        else:
            change, text = "", e.text
        row = Row(e.at, actor_name(e.actor), EVENT_NAMES.get(e.kind, e.kind), e.public, change, text)
        rows.append(row)
        last_assign = (e, row) if e.kind == "assigned" else None
    return rows

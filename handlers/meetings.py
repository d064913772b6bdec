"""Breakfast meetings in the chat: what is on, sign up (one open meeting: at once), cancel."""
from __future__ import annotations

import re

from bot import clock
from bot.chat.context import Answer, Context
from bot.chat.conversation import Flow, State
from bot.chat.message import Message
from bot.chat.router import Router, intent
from bot.meetings import service as meetings
from bot.meetings import texts
from nlp.intents import INTENTS
from storage import meetings as store

router = Router("meetings")
DETAILS_TIMEOUT_S = 1800
TRIVIAL_NOTE = re.compile(r"^[\W_]*$")
MEETING_WORDS = re.compile(r"早茶|会上|当面|书记|领导|带(上)?")


@router.route(intent("meeting.info"))
def info(msg: Message, ctx: Context) -> Answer:
    now = clock.now()
    return meetings.describe(store.upcoming(ctx.session, now), now)


@router.route(intent("meeting.signup"))
def signup(msg: Message, ctx: Context) -> Answer:
    now = clock.now()
    choices = meetings.open_for_signup(ctx.session, now)
    if not choices:
        upcoming = store.upcoming(ctx.session, now)
        if upcoming:   # there is one, but signups are closed: say so plainly
            first = upcoming[0]
            return texts.DEADLINE_PASSED.format(title=first.title, deadline=meetings.when(first.signup_deadline))
        return texts.NO_OPEN
    seats = ctx.nlu.slots.get("head_count") or 1
    if len(choices) == 1:
        return _sign_up(msg, ctx, choices[0], seats)
    ctx.conversation.start("meeting_choose", "choose", {"ids": [m.id for m in choices], "seats": seats,
                                                        "note": msg.text})
    options = "\n".join(f"{n}. {m.title}{'（' + m.theme + '）' if m.theme else ''} {meetings.when(m.starts_at)}"
                        for n, m in enumerate(choices, 1))
    return texts.CHOOSE.format(options=options)


def choose(msg: Message, ctx: Context, state: State) -> Answer:
    ids = state.data["ids"]
    text = (ctx.nlu.text if ctx.nlu else msg.text).strip()
    picked = None
    number = re.match(r"^第?(\d+)", text)
    if number and 1 <= int(number.group(1)) <= len(ids):
        picked = store.get(ctx.session, ids[int(number.group(1)) - 1])
    else:
        for meeting_id in ids:
            meeting = store.get(ctx.session, meeting_id)
            if (meeting.theme and meeting.theme in text) or meeting.title in text:
                picked = meeting
                break
    if picked is None:
        return texts.CHOOSE_AGAIN.format(n=len(ids))
    ctx.conversation.clear()
    return _sign_up(msg, ctx, picked, state.data["seats"], state.data.get("note", ""))


def _sign_up(msg, ctx, meeting, seats: int, note: str = "") -> str:
    note = note or msg.text
    record, reply = meetings.signup(ctx.services, ctx.session, meeting, ctx.user, seats,
                                    "" if TRIVIAL_NOTE.match(note) else note)
    if record is not None and record.status in ("confirmed", "waitlisted") and not msg.is_group:
        ctx.conversation.start("meeting_details", "details", {"signup_id": record.id})
    return reply


def details(msg: Message, ctx: Context, state: State) -> Answer:
    """A message after signing up: more colleagues ("带两个同事") or the topic to raise."""
    record = store.get_signup(ctx.session, state.data["signup_id"])
    nlu = ctx.nlu
    seats = nlu.slots.get("head_count") if nlu else None
    if record is not None and seats:
        return meetings.change_seats(ctx.session, record, seats)
    is_detail = nlu is not None and (nlu.intent == "other" or (
        nlu.intent == "complaint.file" and MEETING_WORDS.search(nlu.text)))
    if record is None or not is_detail:
        ctx.conversation.clear()   # a new request (or the same signup again), not a detail
        return ctx.reroute(msg)
    record.note = (record.note + "\n" + msg.text).strip()[:1000]
    return texts.DETAILS_NOTED.format(text=msg.text[:60])


@router.route(intent("meeting.cancel"))
def cancel(msg: Message, ctx: Context) -> Answer:
    active = store.active_signups_of_user(ctx.session, ctx.user_ref, clock.now())
    if not active:
        return texts.NOTHING_TO_CANCEL
    ctx.conversation.clear()
    return meetings.cancel(ctx.services, ctx.session, active[0])


def cancel_signup(msg: Message, ctx: Context, state: State) -> Answer:
    """"取消" right after signing up means the signup."""
    record = store.get_signup(ctx.session, state.data["signup_id"])
    ctx.conversation.clear()
    if record is None or record.status not in ("confirmed", "waitlisted"):
        return texts.NOTHING_TO_CANCEL
    return meetings.cancel(ctx.services, ctx.session, record)


FLOWS = [
    Flow("meeting_choose", "选择早茶会", {"choose": choose},
         answers=("other", "smalltalk", "meeting.signup", "meeting.info")),
    Flow("meeting_details", "补充报名信息", {"details": details},
         answers=INTENTS,   # the step itself sends new requests on to their handlers
         timeout_s=DETAILS_TIMEOUT_S, on_cancel=cancel_signup),
]

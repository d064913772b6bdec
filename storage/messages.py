"""Inbound messages: stored before we answer; the unique key makes WeChat's retries harmless.

A message is stored `pending` and its outcome clears that. One whose handler failed stays `failed`,
and one still pending minutes later was dropped (the process died or lost the database): both
are listed for staff in 未处理消息 until a retry answers them or staff deal with them by hand."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import ChannelUser, InboundMessage, utcnow

_TABLE = InboundMessage.__table__
# Static statements: compiled once, since they run for every message.
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_SAVE_OUTCOME = (update(_TABLE).where(_TABLE.c.id == bindparam("message_id"))
                 .values(intent=bindparam("intent"), confidence=bindparam("confidence"),
                         reply=bindparam("reply"), handled_state=bindparam("state"),
                         handling_error=bindparam("error")))
PENDING, FAILED, RETRIED, MANUAL = "pending", "failed", "retried", "manual"


class DuplicateMessage(Exception):
    """This (channel, dedupe key) was stored before: a retry of a message we already have."""


def record(session: Session, msg, user_ref: int | None) -> int:
    """Insert the message, returning its id; raises DuplicateMessage on a retry (the caller rolls back)."""
    values = {"channel": msg.channel, "dedupe_key": msg.dedupe_key, "user_ref": user_ref,
              "chat_id": msg.chat_id, "msg_type": msg.msg_type, "text": msg.text,
              "payload": dict(msg.payload, event=msg.event, event_key=msg.event_key, mentioned=msg.mentioned),
              "received_at": utcnow(), "intent": None, "confidence": None, "reply": None,
              "handled_state": PENDING}
    try:
        return session.execute(_INSERT, values).scalar_one()
    except IntegrityError:
        raise DuplicateMessage(msg.dedupe_key) from None


def save_outcome(session: Session, message_id: int, intent: str | None, confidence: float | None,
                 reply: str, state: str | None = None, error: str = "") -> None:
    """What the bot understood and answered, kept for retries when Redis has forgotten.

    state: None when answered, FAILED (with the error's class) when a handler failed, RETRIED when a
    staff retry answered it."""
    session.execute(_SAVE_OUTCOME, {"message_id": message_id, "intent": intent, "confidence": confidence,
                                    "reply": reply, "state": state, "error": error[:200]})


def get(session: Session, message_id: int) -> InboundMessage | None:
    return session.get(InboundMessage, message_id)


def _waiting(stale_before: datetime):
    """Failed, or pending since before `stale_before` (no process is still working on it)."""
    return or_(InboundMessage.handled_state == FAILED,
               and_(InboundMessage.handled_state == PENDING, InboundMessage.received_at < stale_before))


def unhandled(session: Session, stale_before: datetime, limit: int = 200) -> list[tuple]:
    """(message, sender or None) of every message waiting for staff, newest first."""
    return list(session.execute(
        select(InboundMessage, ChannelUser).outerjoin(ChannelUser, ChannelUser.id == InboundMessage.user_ref)
        .where(_waiting(stale_before)).order_by(InboundMessage.id.desc()).limit(limit)).all())


def count_unhandled(session: Session, stale_before: datetime) -> int:
    return session.scalar(select(func.count(InboundMessage.id)).where(_waiting(stale_before)))


def claim_retry(session: Session, message_id: int, seen_attempts: int, stale_before: datetime,
                max_attempts: int) -> bool:
    """Count one retry, unless another retry (or a resolution) got there first; the caller commits."""
    result = session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == message_id, InboundMessage.handling_attempts == seen_attempts,
               InboundMessage.handling_attempts < max_attempts, _waiting(stale_before))
        .values(handling_attempts=InboundMessage.handling_attempts + 1, handled_state=FAILED)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def retry_failed(session: Session, message_id: int, error: str) -> None:
    session.execute(update(InboundMessage).where(InboundMessage.id == message_id)
                    .values(handled_state=FAILED, handling_error=error[:200])
                    .execution_options(synchronize_session=False))


def resolve_by_hand(session: Session, message_id: int, note: str, stale_before: datetime) -> bool:
    """Staff dealt with it themselves; False if it was no longer waiting."""
    result = session.execute(
        update(InboundMessage).where(InboundMessage.id == message_id, _waiting(stale_before))
        .values(handled_state=MANUAL, handled_note=note[:2000])
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def find(session: Session, channel: str, dedupe_key: str) -> InboundMessage | None:
    return session.scalar(select(InboundMessage).where(InboundMessage.channel == channel,
                                                       InboundMessage.dedupe_key == dedupe_key))


def count(session: Session, channel: str | None = None) -> int:
    query = select(func.count(InboundMessage.id))
    if channel:
        query = query.where(InboundMessage.channel == channel)
    return session.scalar(query)


def count_intent(session: Session, intent: str, since=None, until=None) -> int:
    query = select(func.count(InboundMessage.id)).where(InboundMessage.intent == intent)
    if since is not None:
        query = query.where(InboundMessage.received_at >= since)
    if until is not None:
        query = query.where(InboundMessage.received_at < until)
    return session.scalar(query)

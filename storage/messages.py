"""Inbound messages: stored before we answer; the unique key makes WeChat's retries harmless."""
from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import InboundMessage, utcnow


_TABLE = InboundMessage.__table__
# Static statements: compiled once, since they run for every message.
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_SAVE_OUTCOME = (update(_TABLE).where(_TABLE.c.id == bindparam("message_id"))
                 .values(intent=bindparam("intent"), confidence=bindparam("confidence"),
                         reply=bindparam("reply")))


class DuplicateMessage(Exception):
    """This (channel, dedupe key) was stored before: a retry of a message we already have."""


def record(session: Session, msg, user_ref: int | None) -> int:
    """Insert the message, returning its id; raises DuplicateMessage on a retry (the caller rolls back)."""
    values = {"channel": msg.channel, "dedupe_key": msg.dedupe_key, "user_ref": user_ref,
              "chat_id": msg.chat_id, "msg_type": msg.msg_type, "text": msg.text,
              "payload": dict(msg.payload, event=msg.event, event_key=msg.event_key),
              "received_at": utcnow(), "intent": None, "confidence": None, "reply": None}
    try:
        return session.execute(_INSERT, values).scalar_one()
    except IntegrityError:
        raise DuplicateMessage(msg.dedupe_key) from None


def save_outcome(session: Session, message_id: int, intent: str | None, confidence: float | None,
                 reply: str) -> None:
    """What the bot understood and answered, kept for retries when Redis has forgotten."""
    session.execute(_SAVE_OUTCOME, {"message_id": message_id, "intent": intent, "confidence": confidence,
                                    "reply": reply})


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

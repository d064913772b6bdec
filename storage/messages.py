"""Inbound messages: stored before we answer; the unique key makes WeChat's retries harmless."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import InboundMessage


class DuplicateMessage(Exception):
    """This (channel, dedupe key) was stored before: a retry of a message we already have."""


def record(session: Session, msg, user_ref: int | None) -> InboundMessage:
    """Insert and flush the message; raises DuplicateMessage on a retry."""
    row = InboundMessage(channel=msg.channel, dedupe_key=msg.dedupe_key, user_ref=user_ref,
                         chat_id=msg.chat_id, msg_type=msg.msg_type, text=msg.text,
                         payload=dict(msg.payload, event=msg.event, event_key=msg.event_key))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise DuplicateMessage(msg.dedupe_key) from None
    return row


def find(session: Session, channel: str, dedupe_key: str) -> InboundMessage | None:
    return session.scalar(select(InboundMessage).where(InboundMessage.channel == channel,
                                                       InboundMessage.dedupe_key == dedupe_key))


def count(session: Session, channel: str | None = None) -> int:
    query = select(func.count(InboundMessage.id))
    if channel:
        query = query.where(InboundMessage.channel == channel)
    return session.scalar(query)

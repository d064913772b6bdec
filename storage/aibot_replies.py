"""Intelligent-robot answers waiting to be posted to their callback's response_url (once, within the hour)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import AibotReply, utcnow

QUEUED, SENDING, SENT, FAILED, EXPIRED = "queued", "sending", "sent", "failed", "expired"


def add(session: Session, msgid: str, response_url: str, content: str, expires_at: datetime) -> AibotReply | None:
    """The new row, or None when this message already has one (a response_url is used once)."""
    row = AibotReply(msgid=msgid[:160], response_url=response_url, content=content, status=QUEUED, attempts=0,
                     error="", expires_at=expires_at)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def get(session: Session, reply_id: int) -> AibotReply | None:
    return session.get(AibotReply, reply_id)


def by_msgid(session: Session, msgid: str) -> AibotReply | None:
    return session.scalar(select(AibotReply).where(AibotReply.msgid == msgid[:160]))


def claim(session: Session, reply_id: int, now: datetime) -> bool:
    """Take the reply for one send attempt: only a queued one whose url is still valid. Two workers
    can never both post it."""
    result = session.execute(update(AibotReply).where(
        AibotReply.id == reply_id, AibotReply.status == QUEUED, AibotReply.expires_at > now)
        .values(status=SENDING, attempts=AibotReply.attempts + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


def expire(session: Session, reply_id: int) -> None:
    session.execute(update(AibotReply).where(AibotReply.id == reply_id, AibotReply.status == QUEUED)
                    .values(status=EXPIRED, error="response_url 已过期（1 小时）")
                    .execution_options(synchronize_session=False))


def finish(session: Session, reply_id: int, status: str, error: str = "") -> None:
    values = dict(status=status, error=error[:500])
    if status == SENT:
        values["sent_at"] = utcnow()
    session.execute(update(AibotReply).where(AibotReply.id == reply_id).values(**values)
                    .execution_options(synchronize_session=False))


def requeue(session: Session, reply_id: int, error: str) -> None:
    """A transient failure: queued again for the next attempt (while the url is still valid)."""
    session.execute(update(AibotReply).where(AibotReply.id == reply_id, AibotReply.status == SENDING)
                    .values(status=QUEUED, error=error[:500]).execution_options(synchronize_session=False))

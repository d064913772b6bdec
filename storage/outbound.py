"""The push log: every message we send through the WeChat/WeCom API, and how it went."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import OutboundMessage, utcnow


def create(session: Session, channel: str, to: str, kind: str, body: dict) -> OutboundMessage:
    row = OutboundMessage(channel=channel, to=to, kind=kind, body=body, status="pending", attempts=0, error="")
    session.add(row)
    session.flush()
    return row


def get(session: Session, push_id: int) -> OutboundMessage | None:
    return session.get(OutboundMessage, push_id)


def mark(row: OutboundMessage, status: str, error: str = "", kind: str | None = None) -> None:
    row.status = status
    row.attempts += 1
    row.error = error[:500]
    if kind:
        row.kind = kind
    if status == "sent":
        row.sent_at = utcnow()


def recent(session: Session, limit: int = 50) -> list[OutboundMessage]:
    return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)))


def to_user_after(session: Session, channel: str, to: str, after_id: int, limit: int = 50) -> list[OutboundMessage]:
    return list(session.scalars(select(OutboundMessage).where(
        OutboundMessage.channel == channel, OutboundMessage.to == to, OutboundMessage.id > after_id)
        .order_by(OutboundMessage.id).limit(limit)))


def last_id_to(session: Session, channel: str, to: str) -> int:
    return session.scalar(select(func.max(OutboundMessage.id)).where(
        OutboundMessage.channel == channel, OutboundMessage.to == to)) or 0

"""Broadcasts and their deliveries: claims with leases so crashed workers lose nothing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Broadcast, Delivery


def create(session: Session, title: str, body: str, url: str, target: str, created_by: str,
           recipients: list[tuple[str, str, str]]) -> Broadcast:
    """The broadcast and one pending delivery per (channel, recipient, kind), in one transaction."""
    broadcast = Broadcast(title=title, body=body, url=url, target=target, created_by=created_by)
    session.add(broadcast)
    session.flush()
    rows = [{"broadcast_id": broadcast.id, "channel": c, "recipient": r, "kind": k, "status": "pending",
             "attempts": 0, "error": ""} for c, r, k in dict.fromkeys(recipients)]
    for start in range(0, len(rows), 1000):
        session.execute(insert(Delivery), rows[start:start + 1000])
    return broadcast


def get(session: Session, broadcast_id: int) -> Broadcast | None:
    return session.get(Broadcast, broadcast_id)


def recent(session: Session, limit: int = 20) -> list[Broadcast]:
    return list(session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))


def reclaim_expired(session: Session, broadcast_id: int, older_than: datetime) -> int:
    """Claims whose worker died (lease expired) go back to pending."""
    result = session.execute(update(Delivery).where(
        Delivery.broadcast_id == broadcast_id, Delivery.status == "sending", Delivery.claimed_at < older_than)
        .values(status="pending", claimed_at=None).execution_options(synchronize_session=False))
    return result.rowcount


def claim(session: Session, broadcast_id: int, limit: int, now: datetime) -> list:
    """Atomically take up to `limit` due pending deliveries (SKIP LOCKED where the database has it)."""
    due = (select(Delivery.id).where(Delivery.broadcast_id == broadcast_id, Delivery.status == "pending",
                                     or_(Delivery.not_before.is_(None), Delivery.not_before <= now))
           .order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True))
    statement = (update(Delivery).where(Delivery.id.in_(due.scalar_subquery()))
                 .values(status="sending", claimed_at=now, attempts=Delivery.attempts + 1)
                 .returning(Delivery.id, Delivery.channel, Delivery.recipient, Delivery.kind, Delivery.attempts)
                 .execution_options(synchronize_session=False))
    return list(session.execute(statement))


def mark_sent(session: Session, ids: list[int], now: datetime) -> None:
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids), Delivery.status == "sending")
                        .values(status="sent", sent_at=now, error="", claimed_at=None)
                        .execution_options(synchronize_session=False))


def mark_failed(session: Session, delivery_id: int, error: str) -> None:
    session.execute(update(Delivery).where(Delivery.id == delivery_id)
                    .values(status="failed", error=error[:500], claimed_at=None)
                    .execution_options(synchronize_session=False))


def mark_retry(session: Session, delivery_id: int, error: str, not_before: datetime, refund: bool = False) -> None:
    """Back to pending until not_before; refund: the attempt was never made (rate limit), so it does not count."""
    values = dict(status="pending", error=error[:500], not_before=not_before, claimed_at=None)
    if refund:
        values["attempts"] = Delivery.attempts - 1
    session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values)
                    .execution_options(synchronize_session=False))


def counts(session: Session, broadcast_id: int) -> dict[str, int]:
    rows = session.execute(select(Delivery.status, func.count()).where(Delivery.broadcast_id == broadcast_id)
                           .group_by(Delivery.status))
    return {status: n for status, n in rows}


def next_due(session: Session, broadcast_id: int) -> datetime | None:
    """When the earliest backed-off delivery may be tried again."""
    return session.scalar(select(func.min(Delivery.not_before)).where(
        Delivery.broadcast_id == broadcast_id, Delivery.status == "pending"))


def failures(session: Session, broadcast_id: int) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(and_(Delivery.broadcast_id == broadcast_id,
                                                            Delivery.status == "failed")).order_by(Delivery.id)))


def stalled(session: Session, now: datetime, lease_expired_before: datetime) -> list[int]:
    """Broadcasts with deliveries due now, or claimed by a worker whose lease has expired."""
    due = or_(and_(Delivery.status == "pending", or_(Delivery.not_before.is_(None), Delivery.not_before <= now)),
              and_(Delivery.status == "sending", Delivery.claimed_at < lease_expired_before))
    return list(session.scalars(select(Delivery.broadcast_id).where(due).distinct()))

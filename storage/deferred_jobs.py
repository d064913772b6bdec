"""Background jobs kept in the database while RQ (which lives in Redis) cannot take them."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DeferredJob


def keep(session: Session, func: str, args: list, kwargs: dict, job_id: str | None) -> DeferredJob:
    row = DeferredJob(func=func, args=list(args), kwargs=dict(kwargs), job_id=job_id)
    session.add(row)
    session.flush()
    return row


def oldest(session: Session, limit: int = 500) -> list[DeferredJob]:
    return list(session.scalars(select(DeferredJob).order_by(DeferredJob.id).limit(limit)))


def remove(session: Session, row: DeferredJob) -> None:
    session.delete(row)
    session.flush()

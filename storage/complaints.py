"""Complaints (tickets) and their audited events: every SQL the complaint feature needs."""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import false, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Complaint, ComplaintEvent, Enterprise, TicketCounter, utcnow

OPEN_STATUSES = ("received", "assigned", "in_progress")
ACTIVE_STATUSES = OPEN_STATUSES + ("resolved",)


def next_ticket_no(session: Session, day: date) -> str:
    """TS + yyyymmdd + the day's 5-digit sequence; one atomic upsert, safe under concurrency."""
    key = day.strftime("%Y%m%d")
    number = session.execute(_bump_counter(session.get_bind().dialect.name), {"day": key}).scalar_one()
    return f"TS{key}{number:05d}"


@lru_cache(maxsize=4)
def _bump_counter(dialect: str):
    table = TicketCounter.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(last=1)
    return statement.on_conflict_do_update(index_elements=["day"], set_={"last": table.c.last + 1}) \
        .returning(table.c.last)


def create(session: Session, **fields) -> Complaint:
    complaint = Complaint(**fields)
    session.add(complaint)
    session.flush()
    return complaint


def add_event(session: Session, complaint: Complaint, actor: str, kind: str, text: str = "",
              public: bool = False, **data) -> ComplaintEvent:
    event = ComplaintEvent(complaint_id=complaint.id, actor=actor, kind=kind, public=public, text=text,
                           data=data, at=utcnow())
    session.add(event)
    session.flush()
    return event


def get(session: Session, complaint_id: int) -> Complaint | None:
    return session.get(Complaint, complaint_id)


def by_ticket(session: Session, ticket_no: str) -> Complaint | None:
    return session.scalar(select(Complaint).where(Complaint.ticket_no == ticket_no.upper()))


def find(session: Session, ref: str) -> Complaint | None:
    """By ticket number (TS…) or numeric id."""
    ref = ref.strip()
    if ref.isdigit() and len(ref) < 10:
        return get(session, int(ref))
    return by_ticket(session, ref)


def _owned_by(enterprise_id: int | None, user_ref: int | None):
    """Tickets of the user's VERIFIED enterprise and the user's own; an unverified user (no
    enterprise_id: a claimed name never counts) owns only what they filed."""
    own = Complaint.user_ref == user_ref if user_ref is not None else false()
    if enterprise_id is not None:
        return or_(Complaint.enterprise_id == enterprise_id, own)
    return own   # nobody known: tickets filed for unknown owners belong to no one (nor merge)


def visible_to(complaint: Complaint, enterprise_id: int | None, user_ref: int | None) -> bool:
    if enterprise_id is not None and complaint.enterprise_id == enterprise_id:
        return True
    return complaint.user_ref is not None and complaint.user_ref == user_ref


def of_owner(session: Session, enterprise_id: int | None, user_ref: int | None,
             statuses=None, limit: int = 20) -> list[Complaint]:
    query = select(Complaint).where(_owned_by(enterprise_id, user_ref))
    if statuses:
        query = query.where(Complaint.status.in_(statuses))
    return list(session.scalars(query.order_by(Complaint.id.desc()).limit(limit)))


def open_in_category_since(session: Session, enterprise_id: int | None, user_ref: int | None,
                           category: str, since: datetime) -> list[Complaint]:
    """Candidates for merging (并单): the owner's open tickets of one category, newest first."""
    query = (select(Complaint).where(_owned_by(enterprise_id, user_ref), Complaint.category == category,
                                     Complaint.status.in_(OPEN_STATUSES), Complaint.created_at >= since)
             .order_by(Complaint.id.desc()))
    return list(session.scalars(query))


def listing(session: Session, status: str | None = None, department: str | None = None,
            since: datetime | None = None, limit: int | None = None) -> list[Complaint]:
    query = select(Complaint)
    if status:
        query = query.where(Complaint.status == status)
    if department:
        query = query.where(Complaint.department == department)
    if since:
        query = query.where(Complaint.created_at >= since)
    query = query.order_by(Complaint.id.desc())
    return list(session.scalars(query.limit(limit) if limit else query))


def queue(session: Session, *, status: str | None = None, department: str | None = None,
          category: str | None = None, source: str | None = None, overdue_on: date | None = None,
          text: str = "", offset: int = 0, limit: int = 50) -> tuple[list[Complaint], int]:
    """The console's queue: filtered and searched in SQL, newest first; (one page, total)."""
    query = select(Complaint).outerjoin(Enterprise, Complaint.enterprise_id == Enterprise.id)
    for column, value in ((Complaint.status, status), (Complaint.department, department),
                          (Complaint.category, category), (Complaint.source, source)):
        if value:
            query = query.where(column == value)
    if overdue_on is not None:
        query = query.where(Complaint.status.in_(OPEN_STATUSES), Complaint.due < overdue_on)
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Complaint.ticket_no.like(like.upper(), escape="\\"),
                                Complaint.description.like(like, escape="\\"),
                                Enterprise.name.like(like, escape="\\"),
                                Complaint.claimed_enterprise.like(like, escape="\\")))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Complaint.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def needing_warning(session: Session, warn_on_or_before: date) -> list[Complaint]:
    """Open tickets due on or before the given date whose 预警 has not been sent."""
    return list(session.scalars(select(Complaint).where(
        Complaint.status.in_(OPEN_STATUSES), Complaint.warned.is_(False), Complaint.due <= warn_on_or_before)))


def overdue_unescalated(session: Session, today: date) -> list[Complaint]:
    return list(session.scalars(select(Complaint).where(
        Complaint.status.in_(OPEN_STATUSES), Complaint.escalated.is_(False), Complaint.due < today)))


def resolved_unrated(session: Session) -> list[Complaint]:
    return list(session.scalars(select(Complaint).where(Complaint.status == "resolved",
                                                        Complaint.rating.is_(None))))


def in_period(session: Session, since: datetime | None) -> list[Complaint]:
    query = select(Complaint)
    if since is not None:
        query = query.where(or_(Complaint.created_at >= since, Complaint.closed_at >= since))
    return list(session.scalars(query.order_by(Complaint.id)))


def count(session: Session) -> int:
    return session.scalar(select(func.count(Complaint.id)))

"""Meetings and signups: every SQL of the meeting feature; seats are guarded in the database."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Complaint, Meeting, MeetingSignup, utcnow

ACTIVE = ("confirmed", "waitlisted")


def create(session: Session, **fields) -> Meeting:
    meeting = Meeting(seats_taken=0, **fields)
    session.add(meeting)
    session.flush()
    return meeting


def get(session: Session, meeting_id: int) -> Meeting | None:
    return session.get(Meeting, meeting_id)


def upcoming(session: Session, now: datetime, statuses=("open", "closed")) -> list[Meeting]:
    return list(session.scalars(select(Meeting).where(Meeting.starts_at > now, Meeting.status.in_(statuses))
                                .order_by(Meeting.starts_at)))


def all_meetings(session: Session) -> list[Meeting]:
    return list(session.scalars(select(Meeting).order_by(Meeting.starts_at.desc())))


def take_seats(session: Session, meeting_id: int, seats: int) -> bool:
    """Atomically take seats if they are free: one conditional UPDATE, safe across processes."""
    result = session.execute(update(Meeting).where(Meeting.id == meeting_id,
                                                   Meeting.seats_taken + seats <= Meeting.capacity)
                             .values(seats_taken=Meeting.seats_taken + seats)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release_seats(session: Session, meeting_id: int, seats: int) -> None:
    session.execute(update(Meeting).where(Meeting.id == meeting_id)
                    .values(seats_taken=func.max(Meeting.seats_taken - seats, 0)
                            if session.get_bind().dialect.name == "sqlite"
                            else func.greatest(Meeting.seats_taken - seats, 0))
                    .execution_options(synchronize_session=False))


def get_signup(session: Session, signup_id: int) -> MeetingSignup | None:
    return session.get(MeetingSignup, signup_id)


def signup_of(session: Session, meeting_id: int, user_ref: int) -> MeetingSignup | None:
    return session.scalar(select(MeetingSignup).where(MeetingSignup.meeting_id == meeting_id,
                                                      MeetingSignup.user_ref == user_ref))


def add_signup(session: Session, **fields) -> MeetingSignup:
    signup = MeetingSignup(**fields)
    session.add(signup)
    session.flush()
    return signup


def active_signups_of_user(session: Session, user_ref: int, now: datetime) -> list[MeetingSignup]:
    return list(session.scalars(select(MeetingSignup).join(Meeting).where(
        MeetingSignup.user_ref == user_ref, MeetingSignup.status.in_(ACTIVE), Meeting.starts_at > now)
        .order_by(Meeting.starts_at)))


def active_signups_of_enterprise(session: Session, enterprise_id: int, now: datetime) -> list[MeetingSignup]:
    """The enterprise's signups (any colleague's) for meetings still to come, soonest first."""
    return list(session.scalars(select(MeetingSignup).join(Meeting).where(
        MeetingSignup.enterprise_id == enterprise_id, MeetingSignup.status.in_(ACTIVE), Meeting.starts_at > now)
        .order_by(Meeting.starts_at, MeetingSignup.id)))


def enterprise_seats(session: Session, meeting_id: int, enterprise_id: int) -> int:
    return session.scalar(select(func.coalesce(func.sum(MeetingSignup.seats), 0)).where(
        MeetingSignup.meeting_id == meeting_id, MeetingSignup.enterprise_id == enterprise_id,
        MeetingSignup.status.in_(ACTIVE)))


def waitlist(session: Session, meeting_id: int) -> list[MeetingSignup]:
    return list(session.scalars(select(MeetingSignup).where(
        MeetingSignup.meeting_id == meeting_id, MeetingSignup.status == "waitlisted")
        .order_by(MeetingSignup.waitlisted_at, MeetingSignup.id)))


def waitlisted_ahead(session: Session, record: MeetingSignup) -> int:
    """How many of the meeting's waitlisted signups come before this waitlisted one in waitlist()'s order
    (waitlisted_at, then id): one COUNT, no rows loaded."""
    session.flush()     # Core: what the ORM's autoflush would have written first
    statement = _ahead_statement(session.get_bind().dialect.name)
    return session.execute(statement, {"meeting_id": record.meeting_id, "at": record.waitlisted_at,
                                       "signup_id": record.id}).scalar_one()


@lru_cache(maxsize=4)
def _ahead_statement(dialect: str):
    signup = MeetingSignup.__table__.c
    at = bindparam("at", type_=signup.waitlisted_at.type)
    before = or_(signup.waitlisted_at < at, and_(signup.waitlisted_at == at, signup.id < bindparam("signup_id")))
    if dialect == "sqlite":     # SQLite sorts NULLs first, PostgreSQL last: waitlist()'s order either way
        before = or_(signup.waitlisted_at.is_(None), before)
    return select(func.count()).select_from(MeetingSignup.__table__).where(
        signup.meeting_id == bindparam("meeting_id"), signup.status == "waitlisted", before)


def roster(session: Session, meeting_id: int) -> list[MeetingSignup]:
    return list(session.scalars(select(MeetingSignup).where(MeetingSignup.meeting_id == meeting_id)
                                .order_by(MeetingSignup.id)))


def due_reminders(session: Session, now: datetime, until: datetime) -> list[MeetingSignup]:
    return list(session.scalars(select(MeetingSignup).join(Meeting).where(
        MeetingSignup.status == "confirmed", MeetingSignup.reminded_at.is_(None),
        Meeting.status.in_(("open", "closed")), Meeting.starts_at > now, Meeting.starts_at <= until)))


def claim_reminder(session: Session, signup_id: int) -> bool:
    """Mark a reminder as sent unless some run did already: it is sent once, however often jobs run."""
    result = session.execute(update(MeetingSignup).where(MeetingSignup.id == signup_id,
                                                         MeetingSignup.reminded_at.is_(None))
                             .values(reminded_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount == 1


def tickets_raised(session: Session, meeting_id: int) -> list[Complaint]:
    return list(session.scalars(select(Complaint).where(Complaint.meeting_id == meeting_id)
                                .order_by(Complaint.id)))


def count_signups(session: Session, since: datetime | None = None, until: datetime | None = None) -> int:
    """Signups that were not withdrawn (confirmed, waitlisted or attended)."""
    query = select(func.count(MeetingSignup.id)).where(MeetingSignup.status != "cancelled")
    if since is not None:
        query = query.where(MeetingSignup.created_at >= since)
    if until is not None:
        query = query.where(MeetingSignup.created_at < until)
    return session.scalar(query)

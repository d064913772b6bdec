"""Breakfast meetings: signup with guarded capacity, waitlist and promotion, reminders, check-in,
and the problems raised there filed as complaints. Used by the chat, the CLI and the worker."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot import clock
from bot.complaints import service as complaints
from bot.errors import DomainError
from bot.meetings import texts
from bot.push import jobs
from bot.push.scheduler import Periodic
from nlp.slots import complaint_category
from storage import meetings as store
from storage.models import Meeting, MeetingSignup, utcnow


class MeetingError(DomainError):
    """A change the meeting does not allow; shown to whoever asked."""


def when(moment: datetime) -> str:
    return f"{moment:%m月%d日}（周{texts.WEEKDAYS[moment.weekday()]}）{moment:%H:%M}"


def create(session, *, title: str, starts_at: datetime, venue: str, capacity: int,
           signup_deadline: datetime | None = None, theme: str = "", host: str = "", sector: str = "",
           per_enterprise_limit: int = 2) -> Meeting:
    if capacity <= 0:
        raise MeetingError("容量至少为 1")
    deadline = signup_deadline or starts_at
    if deadline > starts_at:
        raise MeetingError("报名截止时间不能晚于开始时间")
    return store.create(session, title=title, theme=theme, host=host, starts_at=starts_at, venue=venue,
                        capacity=capacity, per_enterprise_limit=per_enterprise_limit, signup_deadline=deadline,
                        sector=sector, status="open")


MEETING_STATUSES = ("open", "closed", "held", "cancelled")


def edit(services, session, meeting: Meeting, **changes) -> list[MeetingSignup]:
    """Change a meeting (None leaves a field as it is). Capacity cannot drop below the seats already
    confirmed; seats added go at once to the waitlist, in order, and those promoted are told."""
    changes = {name: value for name, value in changes.items() if value is not None}
    if changes.get("status", meeting.status) not in MEETING_STATUSES:
        raise MeetingError(f"早茶会状态应为：{'、'.join(MEETING_STATUSES)}")
    capacity = changes.get("capacity", meeting.capacity)
    if capacity < max(meeting.seats_taken, 1):
        raise MeetingError(f"已确认 {meeting.seats_taken} 个座位，容量不能少于此数（至少 1）")
    if changes.get("signup_deadline", meeting.signup_deadline) > changes.get("starts_at", meeting.starts_at):
        raise MeetingError("报名截止时间不能晚于开始时间")
    for name, value in changes.items():
        setattr(meeting, name, value)
    session.flush()
    return promote(services, session, meeting) if meeting.status == "open" else []


def open_for_signup(session, now: datetime) -> list[Meeting]:
    return [m for m in store.upcoming(session, now, ("open",)) if m.signup_deadline > now]


def describe(meetings: list[Meeting], now: datetime) -> str:
    if not meetings:
        return texts.NONE_UPCOMING
    lines = [texts.UPCOMING_HEAD]
    for n, m in enumerate(meetings, 1):
        seats = (texts.SEATS_LEFT.format(left=max(m.capacity - m.seats_taken, 0), capacity=m.capacity,
                                         deadline=when(m.signup_deadline))
                 if m.status == "open" and m.signup_deadline > now else texts.SEATS_CLOSED)
        lines.append(texts.MEETING_LINE.format(n=n, title=m.title, theme=f"（{m.theme}）" if m.theme else "",
                                               when=when(m.starts_at), venue=m.venue, seats=seats))
    return "\n".join(lines) + texts.INFO_TAIL


def signup(services, session, meeting: Meeting, user, seats: int = 1, note: str = "",
           now: datetime | None = None) -> tuple[MeetingSignup | None, str]:
    """Confirm if seats are free (guarded in the database), else waitlist; returns (signup, reply)."""
    now = now or clock.now()
    seats = max(1, seats)
    existing = store.signup_of(session, meeting.id, user.id)
    if existing is not None and existing.status in ("confirmed", "waitlisted", "attended"):
        return existing, texts.ALREADY.format(title=meeting.title, status=texts.STATUS_NAMES[existing.status])
    if meeting.status != "open" or meeting.signup_deadline <= now:
        return None, texts.DEADLINE_PASSED.format(title=meeting.title, deadline=when(meeting.signup_deadline))
    enterprise = user.enterprise
    if meeting.sector and (enterprise is None or meeting.sector not in (enterprise.industry or "")):
        return None, texts.WRONG_SECTOR.format(title=meeting.title, sector=meeting.sector)
    taken = store.enterprise_seats(session, meeting.id, enterprise.id) if enterprise else 0
    if taken + seats > meeting.per_enterprise_limit:
        return None, texts.ENTERPRISE_LIMIT.format(title=meeting.title, limit=meeting.per_enterprise_limit,
                                                   taken=taken)
    confirmed = store.take_seats(session, meeting.id, seats)
    fields = dict(meeting_id=meeting.id, user_ref=user.id, enterprise_id=enterprise.id if enterprise else None,
                  seats=seats, note=note[:1000], status="confirmed" if confirmed else "waitlisted",
                  waitlisted_at=None if confirmed else utcnow(), updated_at=utcnow(), no_show=False)
    if existing is not None:   # signing up again after cancelling
        for key, value in fields.items():
            setattr(existing, key, value)
        record = existing
    else:
        record = store.add_signup(session, **fields)
    if confirmed:
        return record, texts.CONFIRMED.format(title=meeting.title, seats=seats, when=when(meeting.starts_at),
                                              venue=meeting.venue)
    return record, texts.WAITLISTED.format(title=meeting.title, position=waitlist_position(session, record))


def waitlist_position(session, record: MeetingSignup) -> int:
    return next((i for i, s in enumerate(store.waitlist(session, record.meeting_id), 1) if s.id == record.id), 0)


def change_seats(session, record: MeetingSignup, seats: int) -> str:
    """A follow-up "带两个同事": take the extra seats if free, else keep what was confirmed."""
    meeting = store.get(session, record.meeting_id)
    extra = seats - record.seats
    if extra <= 0 or record.status != "confirmed":
        record.seats = seats if record.status == "waitlisted" else record.seats
        return texts.SEATS_CHANGED.format(seats=record.seats)
    if record.enterprise_id and store.enterprise_seats(session, meeting.id, record.enterprise_id) + extra \
            > meeting.per_enterprise_limit:
        return texts.ENTERPRISE_LIMIT.format(title=meeting.title, limit=meeting.per_enterprise_limit,
                                             taken=record.seats)
    if not store.take_seats(session, meeting.id, extra):
        return texts.SEATS_CHANGE_FULL.format(seats=seats, old=record.seats)
    record.seats = seats
    return texts.SEATS_CHANGED.format(seats=seats)


def cancel(services, session, record: MeetingSignup) -> str:
    """Withdraw; freed seats go at once to the waitlist, in order, and those promoted are told."""
    meeting = store.get(session, record.meeting_id)
    was_confirmed = record.status == "confirmed"
    record.status, record.updated_at = "cancelled", utcnow()
    if was_confirmed:
        store.release_seats(session, meeting.id, record.seats)
        promote(services, session, meeting)
    return texts.CANCELLED.format(title=meeting.title)


def promote(services, session, meeting: Meeting) -> list[MeetingSignup]:
    promoted = []
    for waiting in store.waitlist(session, meeting.id):
        if not store.take_seats(session, meeting.id, waiting.seats):
            break   # first come, first served: nobody jumps the queue
        waiting.status, waiting.updated_at = "confirmed", utcnow()
        promoted.append(waiting)
        _tell(services, session, waiting, texts.PROMOTED.format(title=meeting.title, when=when(meeting.starts_at),
                                                                venue=meeting.venue))
    return promoted


def check_in(session, record: MeetingSignup) -> None:
    if record.status not in ("confirmed", "attended"):
        raise MeetingError(f"报名 {record.id} {texts.STATUS_NAMES.get(record.status, record.status)}：只有已确认的参会人可以签到")
    record.status, record.no_show, record.updated_at = "attended", False, utcnow()


def finish(session, meeting: Meeting) -> int:
    """The meeting was held: confirmed attendees who did not check in are recorded as no-shows."""
    meeting.status = "held"
    no_shows = 0
    for record in store.roster(session, meeting.id):
        if record.status == "confirmed":
            record.no_show = True
            no_shows += 1
    return no_shows


def raise_topic(services, session, meeting: Meeting, enterprise, text: str, category: str | None = None):
    """A problem raised at the meeting becomes a ticket filed on the enterprise's behalf (source 早茶会)."""
    complaint, _ = complaints.file(services, session, description=text, category=category or complaint_category(text),
                                source="早茶会", enterprise_id=enterprise.id, actor="staff", meeting_id=meeting.id)
    return complaint


def _tell(services, session, record: MeetingSignup, text: str) -> None:
    user = record.user
    if user is not None and user.channel != "group" and user.followed:
        jobs.queue_push(services, session, user.channel, user.user_id, text, title="早茶会通知")


def send_reminders(services, now: datetime | None = None) -> int:
    """Remind confirmed attendees once the meeting is within the lead time; each signup once only."""
    now = now or clock.now()
    lead = timedelta(hours=services.settings.meetings.reminder_lead_hours)
    sent = 0
    with services.db.session() as session:
        for record in store.due_reminders(session, now, now + lead):
            if store.claim_reminder(session, record.id):
                meeting = store.get(session, record.meeting_id)
                _tell(services, session, record, texts.REMINDER.format(
                    title=meeting.title, when=when(meeting.starts_at), venue=meeting.venue))
                sent += 1
    return sent


# The worker runs these (bot/worker.py lists every feature's).
PERIODIC = [
    Periodic("meeting_reminders", 300, send_reminders),
]

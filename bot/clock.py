"""Park time. The database stores naive UTC; staff, owners, deadlines and reports live in the park's
time (Asia/Shanghai, UTC+8, no daylight saving). Every conversion goes through here."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARK_TZ = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """The park's calendar day now (deadlines count working days from it)."""
    return datetime.now(PARK_TZ).date()


def now() -> datetime:
    """The park's wall-clock time now, naive, to the second (meeting times are stored this way)."""
    return datetime.now(PARK_TZ).replace(tzinfo=None, microsecond=0)


def to_local(moment: datetime) -> datetime:
    """A stored (naive UTC) moment as the park's naive wall-clock time."""
    return moment.replace(tzinfo=UTC).astimezone(PARK_TZ).replace(tzinfo=None)


def local_day(moment: datetime) -> date:
    """The park's calendar day of a stored (naive UTC) moment."""
    return to_local(moment).date()


def day_start_utc(day: date) -> datetime:
    """The stored (naive UTC) moment at which the park's `day` begins."""
    return datetime.combine(day, datetime.min.time()).replace(tzinfo=PARK_TZ).astimezone(UTC).replace(tzinfo=None)


def from_aware(moment: datetime) -> datetime:
    """A time typed with an offset (2026-12-05T07:30+08:00) as the park's naive wall-clock time."""
    return moment.astimezone(PARK_TZ).replace(tzinfo=None)

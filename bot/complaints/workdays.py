"""Chinese working days: the State Council's holidays and make-up days, with a fallback for
years the chinese-calendar package does not know yet (weekends plus the dates in config.yaml)."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)
_warned_years: set[int] = set()


class WorkCalendar:
    """is_workday / add / next_workday, with extra holidays and make-up days from config."""

    def __init__(self, holidays=(), workdays=()):
        self.holidays = {date.fromisoformat(str(d)) for d in holidays}
        self.workdays = {date.fromisoformat(str(d)) for d in workdays}
        self._known: dict[date, bool] = {}    # every filing counts the same few days: each looked up once

    def is_workday(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:   # the package has no data for this year yet
            if day.year not in _warned_years:
                _warned_years.add(day.year)
                log.warning("no official holiday calendar for %s: counting weekends and the "
                            "complaints.holidays/workdays lists of config.yaml only", day.year)
            return day.weekday() < 5

    def add(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself does not count)."""
        current = start
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            count += self.is_workday(current)
        return count

"""Chinese date and time expressions → ISO strings ('下周三上午' → '2026-12-02T09:00')."""
from __future__ import annotations

import re
from datetime import date, timedelta

WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "1": 0,
            "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
RELATIVE = {"大后天": 3, "后天": 2, "明天": 1, "明日": 1, "今天": 0, "今日": 0, "昨天": -1, "前天": -2}
PERIODS = {"早上": 8, "上午": 9, "中午": 12, "下午": 15, "晚上": 19}
_REL = re.compile("|".join(RELATIVE))
_WEEK = re.compile(r"(下下|下|本|这|上)?(周|星期|礼拜)([一二三四五六日天1-7])")
_ABS = re.compile(r"(?:(\d{4})[年\-/.])?(\d{1,2})[月\-/.](\d{1,2})[日号]?")
_TIME = re.compile(r"(早上|上午|中午|下午|晚上)?\s*(\d{1,2})[点:时](半|(\d{1,2})分?)?")
_PERIOD = re.compile("|".join(PERIODS))


def _weekday(today: date, prefix: str | None, day: str) -> date:
    monday = today - timedelta(days=today.weekday())
    weeks = {"下下": 2, "下": 1, "上": -1}.get(prefix or "", 0)
    target = monday + timedelta(weeks=weeks, days=WEEKDAYS[day])
    if not prefix and target < today:  # bare "周三" means the coming one
        target += timedelta(weeks=1)
    return target


def _absolute(today: date, m: re.Match) -> date | None:
    year = int(m.group(1)) if m.group(1) else today.year
    try:
        found = date(year, int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    if not m.group(1) and found < today - timedelta(days=180):
        found = found.replace(year=year + 1)  # "1月5日" said in November means next January
    return found


def _time_after(text: str, start: int) -> str:
    tail = text[start:start + 12]
    m = _TIME.match(tail.lstrip())
    if m and (m.group(1) or m.group(2)):
        hour = int(m.group(2))
        if m.group(1) in ("下午", "晚上") and hour < 12:
            hour += 12
        minute = 30 if m.group(3) == "半" else int(m.group(4) or 0)
        if hour < 24 and minute < 60:
            return f"T{hour:02d}:{minute:02d}"
    p = _PERIOD.match(tail.lstrip())
    return f"T{PERIODS[p.group(0)]:02d}:00" if p else ""


_ANY = re.compile(r"[天日周星礼月号\d]")


def find_dates(text: str, today: date) -> list[str]:
    """Every date expression in the text, in order, as ISO date or date-time strings."""
    if not _ANY.search(text):   # most messages name no date: one cheap scan
        return []
    hits: list[tuple[int, date, int]] = []
    for m in _REL.finditer(text):
        hits.append((m.start(), today + timedelta(days=RELATIVE[m.group(0)]), m.end()))
    for m in _WEEK.finditer(text):
        hits.append((m.start(), _weekday(today, m.group(1), m.group(3)), m.end()))
    for m in _ABS.finditer(text):
        found = _absolute(today, m)
        if found:
            hits.append((m.start(), found, m.end()))
    return [d.isoformat() + _time_after(text, end) for _, d, end in sorted(hits, key=lambda h: h[0])]

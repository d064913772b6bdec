"""The dashboard: this quarter's figures, charts by category, week and status, meetings, broadcasts."""
from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request
from flask_login import login_required

from bot import clock
from bot.admin import auth
from bot.admin.common import bp, services
from bot.broadcasts import service as broadcasts
from bot.complaints import reports as complaint_reports
from bot.complaints.texts import STATUS_NAMES
from bot.meetings import service as meetings
from storage import broadcasts as broadcast_store
from storage import meetings as meeting_store


def quarter_start(today: date) -> date:
    return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def quarters(today: date, count: int = 8) -> list[tuple[str, date, date]]:
    """The last `count` quarters, newest first: ("2026Q4", first day, next quarter's first day)."""
    out, start = [], quarter_start(today)
    for _ in range(count):
        end = quarter_start(start + timedelta(days=100))   # a quarter is 90–92 days
        out.append((f"{start.year}Q{(start.month - 1) // 3 + 1}", start, end))
        start = quarter_start(start - timedelta(days=1))
    return out


@bp.get("/")
@login_required
def dashboard():
    session = auth.db()
    today = clock.today()
    choices = quarters(today)
    name, since, until = next((q for q in choices if q[0] == request.args.get("quarter")), choices[0])
    # SQL aggregates, kept a few seconds in Redis under the tickets' change mark (reports.dashboard_figures)
    figures, weeks = complaint_reports.dashboard_figures(session, services().redis, since, until, today)
    c = figures["complaints"]
    charts = {
        "category": sorted(c["by_category"].items(), key=lambda item: -item[1]),
        "status": [(STATUS_NAMES[name], c["by_status"].get(name, 0)) for name in STATUS_NAMES],
        "weekly": weeks,
    }
    upcoming = meeting_store.upcoming(session, clock.now())[:5]
    recent = [(b, broadcasts.status(session, b.id)) for b in broadcast_store.recent(session, 5)]
    return render_template("admin/dashboard.html", figures=figures, since=since, until=until, upcoming=upcoming,
                           charts=charts, quarter=name, quarters=choices,
                           recent=recent, summary=complaint_reports.summary_line(figures), when=meetings.when)

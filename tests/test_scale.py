"""Figures and exports at scale (issue 16): the SQL aggregates give exactly what a plain count over the tickets
gives, on a few hundred varied tickets (every status, source and category, other departments, ratings, reopenings,
repeats, merged duplicates, overdue tickets, tickets either side of a quarter's and a week's first moment in park
time); the dashboard follows a ticket change at once although its figures are cached; exports stream with the
right rows; `complaints list` pages."""
from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from helpers import console_login
from openpyxl import load_workbook
from sqlalchemy import insert, select

from bot import clock
from bot.admin.dashboard import quarters
from bot.complaints import labels, reports
from bot.complaints import service as tickets
from bot.complaints.rules import CATEGORIES
from bot.complaints.service import SOURCES
from bot.complaints.texts import RATING_NAMES, STATUS_NAMES
from storage import complaints as store
from storage.models import Complaint, Enterprise, utcnow

ROOT = Path(__file__).resolve().parent.parent
STATUSES = ("received", "assigned", "in_progress", "resolved", "closed")
EDGE_DEPARTMENT = "边界测试局"


# ---- the seeded set ----------------------------------------------------------------------------------------------

def _park_moment(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A park wall-clock time as the stored naive UTC."""
    return clock.day_start_utc(day) + timedelta(hours=hour, minutes=minute, seconds=second)


def seed(services, count: int = 400, today: date | None = None) -> date:
    """`count` varied tickets filed over the 300 days before `today`, plus four on the edges: one second before and
    at the first moment of the current quarter and of this week (park time). Returns the quarter's first day."""
    today = today or clock.today()
    rng = random.Random(16)
    quarter = quarters(today)[0][1]
    monday = today - timedelta(days=today.weekday())
    now = _park_moment(today, 12)
    with services.db.session() as session:
        session.execute(insert(Enterprise.__table__), [
            dict(name=f"规模测试企业{i}有限公司", credit_code=None if i % 3 == 0 else f"91SCALE{i:011d}", industry="",
                 tags=[], contacts=[], profile={}, created_at=utcnow()) for i in range(1, 11)])
        enterprise_ids = list(session.scalars(select(Enterprise.id)))
        rows = []
        for n in range(count):
            created = now - timedelta(seconds=rng.randrange(300 * 86400))
            rows.append(_ticket(rng, n, created, now, enterprise_ids))
        for n, moment in enumerate((clock.day_start_utc(quarter) - timedelta(seconds=1), clock.day_start_utc(quarter),
                                    clock.day_start_utc(monday) - timedelta(seconds=1), clock.day_start_utc(monday)),
                                   count):
            rows.append(dict(_ticket(rng, n, moment, now, enterprise_ids), department=EDGE_DEPARTMENT, merged_into=None,
                             status="closed", closed_at=moment + timedelta(hours=1)))
        session.execute(insert(Complaint.__table__), rows)
    return quarter


def _ticket(rng, n: int, created: datetime, now: datetime, enterprise_ids: list[int]) -> dict:
    status = rng.choice(STATUSES)
    category = rng.choice(CATEGORIES)
    due = (created + timedelta(days=rng.randrange(3, 30))).date()
    resolved = closed = None
    if status in ("resolved", "closed"):
        resolved = min(created + timedelta(hours=rng.randrange(1, 40 * 24)), now)
        if status == "closed":
            closed = min(resolved + timedelta(hours=rng.randrange(0, 96)), now)
    rating = rng.choice((None, 1, 2, 3, 4, 5, 5)) if status in ("resolved", "closed") else None
    merged = rng.choice((None,) * 12 + ("", "TS2026010100001")) if status == "closed" else None
    enterprise = rng.choice(enterprise_ids) if rng.random() < 0.7 else None
    description = rng.choice(("西区停电，生产线全停", "道路施工围挡，货车进不来", "=1+2 公式", "食堂饭菜有虫子\n第二行",
                              "+8613800000000 打不通", "厂房漏雨 ", "#N/A"))
    return dict(ticket_no=f"TS{created:%Y%m%d}{n:05d}", kind=rng.choice(("诉求", "投诉", "咨询")), category=category,
                department=rng.choice(("经发局", "城建局", "优化办")) if rng.random() < 0.3 else f"{category}承办",
                description=f"{description}（{n}）", location="", contact_phone=rng.choice(("", "13800001111", "-1")),
                source=rng.choice(SOURCES), status=status, tier="simple", enterprise_id=enterprise, user_ref=None,
                assignee="", accept_due=(created + timedelta(days=1)).date(), due=due, extended=rng.random() < 0.1,
                repeat_count=rng.choice((0, 0, 0, 1, 3)), reopen_count=rng.choice((0, 0, 0, 0, 1, 2)), rating=rating,
                rating_comment=rng.choice(("", "很好", "=差评")) if rating else "", rating_reminded=False, warned=False,
                escalated=False, meeting_id=None, created_at=created, resolved_at=resolved, closed_at=closed,
                closed_on_time=(closed.date() <= due) if closed else None, merged_into=merged,
                claimed_enterprise=None if enterprise or rng.random() < 0.5 else f"待核实企业{n % 7}")


# ---- the straightforward counts the SQL must match ----------------------------------------------------------------

def counted_in_python(session, since: date | None, until: date | None, today: date) -> dict:
    """Every ticket loaded, then counted one by one: the definition of each figure."""
    start = clock.day_start_utc(since) if since else None
    end = clock.day_start_utc(until) if until else None
    chosen = [c for c in store.in_period(session, None)
              if (start is None or c.created_at >= start) and (end is None or c.created_at < end) and not c.merged_into]
    closed = [c for c in chosen if c.status == "closed"]
    rated = [c for c in chosen if c.rating]
    levels = Counter(RATING_NAMES[c.rating] for c in rated)
    reopened = sum(1 for c in chosen if c.reopen_count)
    return {
        "handled": len(chosen), "closed": len(closed), "in_progress": len(chosen) - len(closed),
        "closed_on_time": sum(1 for c in closed if c.closed_on_time),
        "overdue": sum(1 for c in chosen if c.status in store.OPEN_STATUSES and c.due < today),
        "by_status": dict(Counter(c.status for c in chosen)),
        "by_category": dict(Counter(c.category for c in chosen)),
        "by_department": dict(Counter(c.department for c in chosen)),
        "by_source": dict(Counter(c.source for c in chosen)),
        "satisfaction": {"rated": len(rated), "levels": {name: levels.get(name, 0) for name in RATING_NAMES.values()},
                         "rate": round(sum(1 for c in rated if c.rating >= 4) / len(rated), 3) if rated else None},
        "reopened": reopened, "reopen_rate": round(reopened / len(chosen), 3) if chosen else None,
        "repeats": sum(c.repeat_count for c in chosen),
    }


def weekly_in_python(session, weeks: int, today: date) -> list[dict]:
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    filed, closed = Counter(), Counter()
    for c in store.in_period(session, None):
        if c.merged_into:
            continue
        filed[(clock.local_day(c.created_at) - first).days // 7] += 1
        if c.closed_at:
            closed[(clock.local_day(c.closed_at) - first).days // 7] += 1
    return [{"week": (first + timedelta(days=7 * n)).isoformat(), "filed": filed[n], "closed": closed[n]}
            for n in range(weeks)]


def exported_in_python(session, since: date | None) -> list[list]:
    """The export's rows from the ticket objects, column by column as the platform wants them."""
    start = datetime.combine(since, datetime.min.time()) if since else None
    return [[c.ticket_no, c.kind, c.category, c.description, c.enterprise_label,
             (c.enterprise.credit_code or "") if c.enterprise else "", c.contact_phone,
             labels.source_name(c.source), c.department,
             STATUS_NAMES[c.status], clock.to_local(c.created_at).strftime("%Y-%m-%d %H:%M"), c.accept_due.isoformat(),
             c.due.isoformat(), "是" if c.extended else "否",
             clock.to_local(c.closed_at).strftime("%Y-%m-%d %H:%M") if c.closed_at else "",
             {True: "是", False: "否"}.get(c.closed_on_time, ""), RATING_NAMES.get(c.rating, "未评价"),
             c.rating_comment, c.repeat_count, c.reopen_count]
            for c in store.in_period(session, start)]


# ---- the tests ----------------------------------------------------------------------------------------------------

def test_sql_figures_equal_a_plain_count_for_every_quarter_and_all_time(services):
    today = clock.today()
    quarter = seed(services, today=today)
    periods = [(since, until) for _name, since, until in quarters(today, 4)] + [(None, None), (quarter, None),
                                                                                (None, quarter)]
    with services.db.session() as session:
        for since, until in periods:
            figures = reports.stats(session, since, today, until=until)["complaints"]
            expected = counted_in_python(session, since, until, today)
            assert figures == expected, (since, until)
            for name in ("by_status", "by_category", "by_department", "by_source"):   # the order staff read too
                assert list(figures[name]) == list(expected[name]), (since, until, name)
        everything = reports.stats(session, None, today)["complaints"]
        assert everything["handled"] > 300 and everything["overdue"] > 0 and everything["satisfaction"]["rated"] > 30
        assert set(everything["by_status"]) == set(STATUSES) and len(everything["by_source"]) == len(SOURCES)
        # park time: the ticket filed one second before the quarter's first moment belongs to the quarter before
        monday = today - timedelta(days=today.weekday())
        edges = [_park_moment(quarter) - timedelta(seconds=1), _park_moment(quarter),
                 _park_moment(monday) - timedelta(seconds=1), _park_moment(monday)]
        this_quarter = reports.stats(session, quarter, today)["complaints"]["by_department"]
        last_quarter = reports.stats(session, quarters(today)[1][1], today, until=quarter)["complaints"]["by_department"]
        assert this_quarter.get(EDGE_DEPARTMENT) == sum(1 for e in edges if e >= _park_moment(quarter)) >= 2
        assert last_quarter.get(EDGE_DEPARTMENT) == sum(1 for e in edges if e < _park_moment(quarter)) >= 1


def test_the_weekly_chart_equals_a_plain_count_with_weeks_starting_monday_in_park_time(services):
    today = clock.today()
    seed(services, today=today)
    with services.db.session() as session:
        weeks = reports.weekly(session, 12, today)
        assert weeks == weekly_in_python(session, 12, today)
        assert sum(w["filed"] for w in weeks) > 50 and sum(w["closed"] for w in weeks) > 20
        # the ticket filed at Monday 00:00 park time (16:00 UTC on Sunday) is this week's, and closed in it
        assert weeks[-1]["filed"] >= 1 and weeks[-1]["closed"] >= 1


def test_the_dashboard_shows_the_sql_figures_and_follows_a_ticket_change_at_once(client, accounts):
    today = clock.today()
    seed(accounts, today=today)
    name, since, until = quarters(today)[0]
    with accounts.db.session() as session:
        expected = counted_in_python(session, since, until, today)
    console_login(client, "reader", "reader-pass-1")
    page = client.get("/admin/").get_data(as_text=True)
    assert f"处理并报送诉求{expected['handled']}件，办结{expected['closed']}件，正在处理{expected['in_progress']}件" in page
    category = sorted(expected["by_category"].items(), key=lambda item: -item[1])
    assert '"category": ' + json.dumps(category, ensure_ascii=False) in page
    # cached for a few seconds, but a ticket filed or closed shows on the next load
    with accounts.db.session() as session:
        filed = tickets.file(accounts, session, description="西区停电", category="供电", source="电话")[0]
        filed_no = filed.ticket_no
    page = client.get("/admin/").get_data(as_text=True)
    assert f"处理并报送诉求{expected['handled'] + 1}件，办结{expected['closed']}件" in page
    with accounts.db.session() as session:
        complaint = store.by_ticket(session, filed_no)
        tickets.change_status(accounts, session, complaint, "resolved", "staff", public_text="已恢复")
        tickets.rate(accounts, session, complaint, 5)
    page = client.get("/admin/").get_data(as_text=True)
    assert f"处理并报送诉求{expected['handled'] + 1}件，办结{expected['closed'] + 1}件" in page


def test_the_export_rows_equal_the_tickets_column_by_column(services):
    seed(services)
    since = clock.today() - timedelta(days=60)
    with services.db.session() as session:
        for start in (None, since):
            rows = reports.export_rows(session, start)
            assert rows == exported_in_python(session, start)
            assert reports.export_count(session, start) == len(rows)
    assert len(rows) > 50 and any(r[4].endswith("（待核实）") for r in rows) and any(r[14] == "" for r in rows)


def test_export_times_are_park_time_to_the_minute_also_when_the_park_had_summer_time():
    minute, rng = reports.ParkMinutes(), random.Random(5)
    moments = [datetime(1986, 5, 3, 17, 59, 59), datetime(1986, 5, 3, 18, 0), datetime(1991, 9, 14, 16, 59),
               datetime(1991, 9, 14, 17, 0), datetime(2026, 9, 30, 15, 59, 59), datetime(2026, 9, 30, 16, 0)]
    moments += [datetime(1985, 1, 1) + timedelta(seconds=rng.randrange(50 * 365 * 86400)) for _ in range(20_000)]
    assert [minute(m) for m in moments] == [clock.to_local(m).strftime("%Y-%m-%d %H:%M") for m in moments]
    assert minute(datetime(2026, 9, 30, 16, 0)) == "2026-10-01 00:00"


def test_the_csv_export_streams_in_batches_with_every_ticket_and_chinese_headers(client, accounts):
    seed(accounts, count=1200)
    console_login(client, "admin1", "admin-pass-1")
    response = client.get("/admin/complaints/export?format=csv", buffered=False)
    assert response.status_code == 200 and "Content-Length" not in response.headers   # sent as it is written
    chunks = list(response.response)
    response.close()
    assert len(chunks) >= 3                                    # 500 rows a batch: the download starts at once
    table = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert table[0] == list(reports.EXPORT_COLUMNS) and table[0][:3] == ["工单号", "类型", "类别"]
    assert len(table) == 1 + 1204
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in table[1:] for cell in row)   # no live formula


def test_the_xlsx_export_is_written_while_the_rows_come_and_has_every_ticket(client, accounts, tmp_path):
    seed(accounts, count=1200)
    console_login(client, "admin1", "admin-pass-1")
    response = client.get("/admin/complaints/export?format=xlsx")
    assert response.status_code == 200 and int(response.headers["Content-Length"]) == len(response.data)
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = list(sheet.values)
    assert sheet.title == "诉求工单" and list(rows[0]) == list(reports.EXPORT_COLUMNS) and len(rows) == 1 + 1204
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in rows for v in row)
    with accounts.db.session() as session:
        expected = [[None if v == "" else v for v in reports.safe_rows([row])[0]]
                    for row in reports.export_rows(session, None)]
    assert [list(row) for row in rows[1:]] == expected
    # the workbook grows on disk while rows are still being produced: it never waits for all of them
    target = tmp_path / "big.xlsx"
    sizes = []

    def rows_watched():
        for n in range(20_000):
            if n and n % 5_000 == 0:
                sizes.append(target.stat().st_size)
            yield [f"TS{n:013d}", "诉求", "供电", "西区停电" * 10, "", "", "", "电话", "经发局", "已受理",
                   "2026-01-01 08:00", "2026-01-02", "2026-01-20", "否", "", "", "未评价", "", 0, 0]
    assert reports.write_xlsx(rows_watched(), target) == 20_000
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0] > 0


@pytest.fixture
def run_cli(cli_env):
    def run(*args):
        done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=cli_env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done
    return run


def test_complaints_list_pages_with_a_total_and_export_shows_progress(run_cli, services, tmp_path):
    with services.db.session() as session:
        filed = [tickets.file(services, session, description=f"第{n}件：西区停电", category="供电", source="电话")[0]
                 .ticket_no for n in range(5)]
    page = run_cli("complaints", "list", "--limit", "2", "--page", "2").stdout.splitlines()
    assert [line.split()[0] for line in page[:-1]] == [filed[2], filed[1]] and page[-1] == "共 5 件，第 2/3 页"
    assert [r["ticket"] for r in json.loads(run_cli("complaints", "list", "--limit", "2", "--json").stdout)] == \
        [filed[4], filed[3]]
    assert run_cli("complaints", "list").stdout.splitlines()[-1] == "共 5 件，第 1/1 页"
    out = tmp_path / "export.xlsx"
    done = run_cli("complaints", "export", "--format", "xlsx", "--out", str(out))
    assert "wrote 5 tickets" in done.stdout and "5/5" in done.stderr and "导出" in done.stderr
    assert len(list(load_workbook(out, read_only=True).active.values)) == 6

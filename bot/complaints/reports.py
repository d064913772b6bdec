"""The office's figures and the provincial-platform export, from the ticket records."""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime, timedelta

from bot import clock
from bot.complaints.texts import RATING_NAMES, STATUS_NAMES
from storage import complaints as store
from storage import meetings as meeting_store
from storage import messages
from storage import outreach as outreach_store

# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

EXPORT_COLUMNS = ("工单号", "类型", "类别", "诉求内容", "企业名称", "统一社会信用代码", "联系电话", "来源",
                  "承办部门", "状态", "登记时间", "受理时限", "办结时限", "是否延期", "办结时间", "是否按时办结",
                  "满意度", "评价意见", "重复反映次数", "重新办理次数")


def utc_midnight(day: date | None) -> datetime | None:
    """The park-local start of a day as the naive UTC time the tables store."""
    if day is None:
        return None
    return clock.day_start_utc(day)


def stats(session, since: date | None = None, today: date | None = None, until: date | None = None) -> dict:
    """Handled, closed, in progress, on time, overdue, satisfaction, reopen rate, and breakdowns, for
    the tickets filed from `since` up to (not including) `until`, in their state today."""
    today = today or clock.today()
    start, end = utc_midnight(since), utc_midnight(until)
    tickets = [c for c in store.in_period(session, start)
               if (start is None or c.created_at >= start) and (end is None or c.created_at < end)
               and not c.merged_into]
    closed = [c for c in tickets if c.status == "closed"]
    rated = [c for c in tickets if c.rating]
    levels = Counter(RATING_NAMES[c.rating] for c in rated)
    return {
        "since": since.isoformat() if since else None,
        "complaints": {
            "handled": len(tickets),
            "closed": len(closed),
            "in_progress": len(tickets) - len(closed),
            "closed_on_time": sum(1 for c in closed if c.closed_on_time),
            "overdue": sum(1 for c in tickets if c.status in store.OPEN_STATUSES and c.due < today),
            "by_status": dict(Counter(c.status for c in tickets)),
            "by_category": dict(Counter(c.category for c in tickets)),
            "by_department": dict(Counter(c.department for c in tickets)),
            "by_source": dict(Counter(c.source for c in tickets)),
            "satisfaction": {"rated": len(rated), "levels": {name: levels.get(name, 0) for name in RATING_NAMES.values()},
                             "rate": round(sum(1 for c in rated if c.rating >= 4) / len(rated), 3) if rated else None},
            "reopened": sum(1 for c in tickets if c.reopen_count),
            "reopen_rate": round(sum(1 for c in tickets if c.reopen_count) / len(tickets), 3) if tickets else None,
            "repeats": sum(c.repeat_count for c in tickets),
        },
        "until": until.isoformat() if until else None,
        "outreach": outreach_store.period_figures(session, since, until, start, end),   # issue 17
        "policy_queries": messages.count_intent(session, "policy.query", start, end),
        "signups": meeting_store.count_signups(session, start, end),
    }


def weekly(session, weeks: int = 12, today: date | None = None) -> list[dict]:
    """Tickets filed and closed in each of the last `weeks` weeks (Monday first), oldest first."""
    today = today or clock.today()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    filed, closed = Counter(), Counter()
    for c in store.in_period(session, clock.day_start_utc(first)):
        if c.merged_into:
            continue
        filed[(clock.to_local(c.created_at).date() - first).days // 7] += 1
        if c.closed_at:
            closed[(clock.to_local(c.closed_at).date() - first).days // 7] += 1
    return [{"week": (first + timedelta(days=7 * n)).isoformat(), "filed": filed.get(n, 0), "closed": closed.get(n, 0)}
            for n in range(weeks)]


def summary_line(figures: dict) -> str:
    """The sentence the office reports: 处理并报送诉求53件，办结50件，正在处理3件…"""
    c = figures["complaints"]
    rate = c["satisfaction"]["rate"]
    return (f"处理并报送诉求{c['handled']}件，办结{c['closed']}件，正在处理{c['in_progress']}件；"
            f"按时办结{c['closed_on_time']}件，超期{c['overdue']}件；"
            f"满意率{'—' if rate is None else f'{rate:.0%}'}（已评价{c['satisfaction']['rated']}件），"
            f"重新办理{c['reopened']}件。政策咨询{figures['policy_queries']}次，早茶会报名{figures['signups']}人次。"
            + outreach_line(figures.get("outreach")))


def outreach_line(o: dict | None) -> str:
    """走访重点企业63家… (issue 17): visits, enterprises contacted, survey response, outreach tickets."""
    if not o:
        return ""
    rate = o["survey_response_rate"]
    sources = "，".join(f"{name}{n}件" for name, n in o["tickets_by_source"].items())
    return (f"走访企业{o['enterprises_visited']}家（重点企业{o['key_enterprises_visited']}家）{o['visits']}次，"
            f"联系企业{o['enterprises_contacted']}家；问卷回收{o['survey_answered']}/{o['survey_enterprises']}家"
            f"（{'—' if rate is None else f'{rate:.0%}'}）；诉求来源：{sources}。")


def export_rows(session, since: date | None) -> list[list]:
    start = datetime.combine(since, datetime.min.time()) if since else None
    rows = []
    for c in store.in_period(session, start):
        rows.append([
            c.ticket_no, c.kind, c.category, c.description, c.enterprise_label,
            c.enterprise.credit_code or "" if c.enterprise else "", c.contact_phone, c.source, c.department,
            STATUS_NAMES[c.status], clock.to_local(c.created_at).strftime("%Y-%m-%d %H:%M"), c.accept_due.isoformat(),
            c.due.isoformat(), "是" if c.extended else "否",
            clock.to_local(c.closed_at).strftime("%Y-%m-%d %H:%M") if c.closed_at else "",
            {True: "是", False: "否"}.get(c.closed_on_time, ""), RATING_NAMES.get(c.rating, "未评价"),
            c.rating_comment, c.repeat_count, c.reopen_count])
    return rows


def safe_cell(value):
    """A text cell that a spreadsheet would run as a formula gets a leading ' and stays text.
    Owners write the descriptions, enterprise names and phones, so every text cell is untrusted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_rows(rows) -> list[list]:
    return [[safe_cell(value) for value in row] for row in rows]


def csv_bytes(header, rows) -> bytes:
    """UTF-8 with BOM, so Excel opens the Chinese headers correctly; no cell is a live formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(safe_rows(rows))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_csv(rows: list[list]) -> bytes:
    return csv_bytes(EXPORT_COLUMNS, rows)


def export_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "诉求工单"
    sheet.append(list(EXPORT_COLUMNS))
    for row in safe_rows(rows):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"      # openpyxl would store a text starting with = as a formula
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

"""The office's figures and the provincial-platform export, from the ticket records."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from xml.sax.saxutils import escape

from redis import RedisError

from bot import clock
from bot.complaints.labels import source_name
from bot.complaints.texts import RATING_NAMES, STATUS_NAMES
from storage import complaints as store
from storage import meetings as meeting_store
from storage import messages
from storage import outreach as outreach_store

# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = "".join(FORMULA_STARTS)       # each is one character

# Characters XML 1.0 cannot carry (openpyxl's ILLEGAL_CHARACTERS_RE): dropped from a workbook's cells.
ILLEGAL_XML = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
XML_SPECIAL = re.compile(r"[\000-\010\013\014\016-\037&<>]")    # a text that needs either dropping or escaping
CACHE_SECONDS = 10       # the dashboard's figures: reloads within this many seconds (and no ticket change) are free

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
    the tickets filed from `since` up to (not including) `until`, in their state today: SQL aggregates over
    one scan of the period (storage.complaints.period_groups), folded here."""
    today = today or clock.today()
    start, end = utc_midnight(since), utc_midnight(until)
    groups = store.period_groups(session, start, end, today)
    breakdowns = ({}, {}, {}, {})           # status, category, department, source: value → [count, first id]
    sums = [0] * 12                         # n, then storage.complaints.FIGURE_SUMS in order
    for status, category, department, source, n, first_id, *counted in groups:
        for breakdown, value in zip(breakdowns, (status, category, department, source), strict=True):
            entry = breakdown.get(value)
            if entry is None:
                breakdown[value] = [n, first_id]
            else:
                entry[0] += n
                entry[1] = min(entry[1], first_id)
        sums[0] += n
        for i, value in enumerate(counted, 1):
            sums[i] += value
    handled, closed_on_time, overdue, rated, *levels, satisfied, reopened, repeats = sums
    closed = breakdowns[0].get("closed", [0])[0]
    by_status, by_category, by_department, by_source = (_in_first_order(b) for b in breakdowns)
    return {
        "since": since.isoformat() if since else None,
        "complaints": {
            "handled": handled,
            "closed": closed,
            "in_progress": handled - closed,
            "closed_on_time": closed_on_time,
            "overdue": overdue,
            "by_status": by_status,
            "by_category": by_category,
            "by_department": by_department,
            "by_source": by_source,
            "satisfaction": {"rated": rated,
                             "levels": {RATING_NAMES[level]: count for level, count in zip((5, 4, 3, 2, 1), levels,
                                                                                           strict=True)},
                             "rate": round(satisfied / rated, 3) if rated else None},
            "reopened": reopened,
            "reopen_rate": round(reopened / handled, 3) if handled else None,
            "repeats": repeats,
        },
        "until": until.isoformat() if until else None,
        "outreach": outreach_store.period_figures(session, since, until, start, end, by_source),   # issue 17
        "policy_queries": messages.count_intent(session, "policy.query", start, end),
        "signups": meeting_store.count_signups(session, start, end),
    }


def _in_first_order(breakdown: dict) -> dict:
    """Counts by value, in the order the values first occur among the tickets (oldest first), as a Counter over
    the tickets in id order would list them."""
    return {value: count for value, (count, _first) in sorted(breakdown.items(), key=lambda item: item[1][1])}


def weekly(session, weeks: int = 12, today: date | None = None) -> list[dict]:
    """Tickets filed and closed in each of the last `weeks` weeks (Monday first, park time), oldest first."""
    today = today or clock.today()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    bounds = [clock.day_start_utc(first + timedelta(days=7 * n)) for n in range(weeks + 1)]
    filed = store.counts_by_bucket(session, "created_at", bounds)
    closed = store.counts_by_bucket(session, "closed_at", bounds)
    return [{"week": (first + timedelta(days=7 * n)).isoformat(), "filed": filed.get(n, 0), "closed": closed.get(n, 0)}
            for n in range(weeks)]


def dashboard_figures(session, redis, since: date, until: date, today: date) -> tuple[dict, list[dict]]:
    """The dashboard's figures and weekly chart, kept in Redis for CACHE_SECONDS under the tickets' change mark:
    a page reloaded with nothing changed costs two index probes; any ticket filed or changed (each change is an
    event) shows at once; messages and signups, counted alongside, may lag by CACHE_SECONDS."""
    key = f"report:dashboard:{since}:{until}:{today}:{store.change_mark(session)}"
    try:
        cached = redis.get(key)
    except RedisError:
        cached = None
    if cached:
        figures, weeks = json.loads(cached)
        return figures, weeks
    figures, weeks = stats(session, since, today, until=until), weekly(session, 12, today)
    try:
        redis.set(key, json.dumps([figures, weeks], ensure_ascii=False), ex=CACHE_SECONDS)
    except RedisError:
        pass           # no cache today: the figures are still right
    return figures, weeks


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


def export_rows(session, since: date | None, department: str | None = None) -> list[list]:
    return list(iter_export_rows(session, since, department))


def export_count(session, since: date | None, department: str | None = None) -> int:
    return store.export_count(session, _export_start(since), department)


def _export_start(since: date | None) -> datetime | None:
    return datetime.combine(since, datetime.min.time()) if since else None


def iter_export_rows(session, since: date | None, department: str | None = None) -> Iterator[list]:
    """The provincial platform's columns, one list per ticket filed or closed since `since`, oldest first,
    streamed from the database (a few thousand rows in memory at a time)."""
    on_time, minute = {True: "是", False: "否"}, ParkMinutes()
    for (ticket_no, kind, category, description, enterprise_id, enterprise_name, credit_code, claimed, phone, source,
         handler, status, created_at, accept_due, due, extended, closed_at, closed_on_time, rating, comment,
         repeats, reopens) in store.export_records(session, _export_start(since), department):
        if enterprise_id is not None:
            enterprise, credit_code = enterprise_name, credit_code or ""
        else:
            enterprise, credit_code = f"{claimed}（待核实）" if claimed else "", ""
        yield [ticket_no, kind, category, description, enterprise, credit_code, phone, source_name(source), handler,
               STATUS_NAMES[status], minute(created_at), accept_due.isoformat(), due.isoformat(),
               "是" if extended else "否", minute(closed_at) if closed_at else "", on_time.get(closed_on_time, ""),
               RATING_NAMES.get(rating, "未评价"), comment, repeats, reopens]


class ParkMinutes:
    """Stored (naive UTC) moments as the park's "2026-03-02 01:30": clock.to_local once per UTC hour, since the
    park's offset changes, if ever, on the hour; within it only the minutes differ. An export converts tens of
    thousands of moments, and this is five times cheaper than a conversion each."""

    def __init__(self):
        self.hours: dict[tuple, tuple] = {}

    def __call__(self, moment: datetime) -> str:
        key = (moment.year, moment.month, moment.day, moment.hour)
        known = self.hours.get(key)
        if known is None:
            local = clock.to_local(datetime(*key))
            # a whole-hour offset keeps the minutes: the text is the hour's prefix and the minute
            known = self.hours[key] = (local.isoformat(" ", "minutes")[:-2], None) if local.minute == 0 else ("", local)
        prefix, local = known
        if local is None:
            return f"{prefix}{moment.minute:02d}"
        return (local + timedelta(minutes=moment.minute)).isoformat(" ", "minutes")


def safe_cell(value):
    """A text cell that a spreadsheet would run as a formula gets a leading ' and stays text.
    Owners write the descriptions, enterprise names and phones, so every text cell is untrusted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_rows(rows) -> list[list]:
    return [[safe_cell(value) for value in row] for row in rows]


def csv_chunks(header, rows, batch: int = 500) -> Iterator[bytes]:
    """UTF-8 with BOM, so Excel opens the Chinese headers correctly; no cell is a live formula. Yields the bytes
    `batch` rows at a time: a download of any size starts at once and holds only one batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(value) for value in row])
        if n % batch == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_bytes(header, rows) -> bytes:
    return b"".join(csv_chunks(header, rows))


def export_csv(rows) -> bytes:
    return csv_bytes(EXPORT_COLUMNS, rows)


def write_csv(rows, file, progress=None) -> int:
    """The export as CSV, written to a binary file batch by batch; progress(rows so far) every 1,000 rows.
    Returns the number of rows."""
    count = 0

    def counted():
        nonlocal count
        for count, row in enumerate(rows, 1):
            if progress is not None and count % 1000 == 0:
                progress(count)
            yield row
    for chunk in csv_chunks(EXPORT_COLUMNS, counted()):
        file.write(chunk)
    return count


def write_xlsx(rows, target, progress=None) -> int:
    """The export as an Excel workbook, streamed into the zip as the rows come (memory stays flat); `target` is a
    path or a seekable binary file; progress(rows so far) every 1,000 rows. Returns the number of rows.

    Every part of the package is openpyxl's own write-only workbook (with the header row); only the data rows are
    serialised here, in the very markup openpyxl's write-only mode writes (inline strings, `t="n"` numbers):
    openpyxl spends ~20 µs per cell on it (1,800–2,300 rows/s, lxml or not), this ~1 µs."""
    from openpyxl.utils import get_column_letter
    parts, head, tail = _xlsx_skeleton()
    letters = [get_column_letter(i) for i in range(1, len(EXPORT_COLUMNS) + 1)]
    n = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for name, data in parts:
            if data is not None:
                package.writestr(name, data)
                continue
            with package.open(name, "w") as sheet:
                sheet.write(head)
                batch = []
                for n, row in enumerate(rows, 1):
                    batch.append(_xlsx_row(n + 1, letters, row))
                    if n % 1000 == 0:
                        sheet.write("".join(batch).encode("utf-8"))
                        batch.clear()
                        if progress is not None:
                            progress(n)
                sheet.write("".join(batch).encode("utf-8"))
                sheet.write(tail)
    return n


SHEET_PART = "xl/worksheets/sheet1.xml"


def _xlsx_skeleton() -> tuple[list[tuple[str, bytes | None]], bytes, bytes]:
    """openpyxl's write-only workbook holding only the header row: its parts in order (the sheet's as None),
    and the sheet's XML before and after the point where the data rows go."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet("诉求工单")
    sheet.append(list(EXPORT_COLUMNS))
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as package:
        parts = [(info.filename, package.read(info)) for info in package.infolist()]
    sheet_xml = dict(parts)[SHEET_PART]
    cut = sheet_xml.index(b"</sheetData>")
    return [(name, None if name == SHEET_PART else data) for name, data in parts], sheet_xml[:cut], sheet_xml[cut:]


def _xlsx_row(number: int, letters: list[str], values) -> str:
    """One <row> as openpyxl's write-only mode writes it: text as an inline string (never a formula: quoted as
    safe_cell quotes), numbers as numbers, empty cells left out; characters XML cannot carry are dropped.
    The checks that are nearly always negative (markup, control characters, over-long text) run once a row."""
    texts = "\t".join([value for value in values if value.__class__ is str])
    special, long = XML_SPECIAL.search(texts) is not None, len(texts) > 32767
    cells = []
    for letter, value in zip(letters, values, strict=False):
        if value.__class__ is not str:
            if value is None:
                continue
            if isinstance(value, bool):
                cells.append(f'<c r="{letter}{number}" t="b"><v>{int(value)}</v></c>')
                continue
            if isinstance(value, (int, float)):
                cells.append(f'<c r="{letter}{number}" t="n"><v>{value}</v></c>')
                continue
            value = str(value)
            special = True
        if value and value[0] in FORMULA_FIRST:
            value = "'" + value
        if long:
            value = value[:32767]
        if special:
            value = escape(ILLEGAL_XML.sub("", value))
        if not value:
            cells.append(f'<c r="{letter}{number}" t="inlineStr" />')
        elif value[0].isspace() or value[-1].isspace():
            cells.append(f'<c r="{letter}{number}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>')
        else:
            cells.append(f'<c r="{letter}{number}" t="inlineStr"><is><t>{value}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def export_xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(rows, buffer)
    return buffer.getvalue()

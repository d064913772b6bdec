"""What every command shares: --json output, progress bars, park-local times."""
from __future__ import annotations

import json
import sys
from datetime import datetime

from bot import clock


def emit(args, rows: list[dict], line) -> None:
    """--json: the rows as one JSON document on stdout; otherwise one line per row."""
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        print(line(row))


def progress(label: str):
    """A one-line progress bar on stderr (stdout stays clean for --json)."""
    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


def parse_time(value: str):
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"not an ISO date-time: {value!r} (e.g. 2026-12-05T07:30)")
    if moment.tzinfo is not None:   # stored as park-local time
        moment = clock.from_aware(moment)
    return moment


MAX_RECORD_ID = 2**31 - 1    # the database's INTEGER: a larger number is no record, and SQLite/PostgreSQL choke on it


def check_record_id(value: int, what: str) -> int:
    """A record number as typed; out of the database's range is a one-line error, not an overflow."""
    if not 0 < value <= MAX_RECORD_ID:
        raise SystemExit(f"错误：没有编号为 {value} 的{what}")
    return value

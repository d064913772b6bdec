"""What every command shares: the parser's one-line Chinese errors, --json output and the sentence an empty
listing prints, progress bars, park-local times, statuses typed in Chinese or English, and the audit entry a
change made from the command line leaves (actor "cli:<os user>")."""
from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from datetime import datetime

from bot import clock
from bot.complaints import labels
from storage import staff

MIGRATE_FIRST = "数据库尚未初始化，请先运行 python -m bot migrate"


def fail(message: str) -> SystemExit:
    """Bad input or "not found": one Chinese line on stderr and exit status 1 (`raise fail(...)`)."""
    return SystemExit(f"错误：{message}")


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one Chinese line (the allowed values named) and exit status 2."""

    PATTERNS = (
        (r"the following arguments are required: (.+)", "缺少必填参数：{0}"),
        (r"argument (\S+): invalid choice: '?([^']*)'? \(choose from (.+)\)", "参数 {0} 不能是“{1}”，可选：{2}"),
        (r"argument (\S+): invalid int value: '?([^']*)'?", "参数 {0} 应为整数，不是“{1}”"),
        (r"argument (\S+): expected one argument", "参数 {0} 后面要跟一个值"),
        (r"unrecognized arguments: (.+)", "无法识别的参数：{0}"),
        (r"argument (\S+): not allowed with argument (\S+)", "参数 {0} 和 {1} 不能同时使用"),
        (r"one of the arguments (.+) is required", "要给出其中一个参数：{0}"),
        (r"argument (\S+): (.+)", "参数 {0}：{1}"),
    )

    def error(self, message: str):
        for pattern, text in self.PATTERNS:
            match = re.fullmatch(pattern, message)
            if match:
                message = text.format(*(g.replace("'", "").replace(", ", "、") for g in match.groups()))
                break
        self.exit(2, f"错误：{message}（{self.prog} --help 查看用法）\n")


def emit(args, rows: list[dict], line, empty: str = "没有符合条件的记录") -> None:
    """--json: the rows as one JSON document on stdout; otherwise one line per row, or a sentence for none."""
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        print(empty)
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
    """A date-time as typed (2026-12-05T07:30 or "2026-12-05 07:30"), park-local unless it carries a zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"“{value}”不是日期时间，应写成 2026-12-05T07:30") from None
    if moment.tzinfo is not None:   # stored as park-local time
        moment = clock.from_aware(moment)
    return moment


def park_time(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) moment as the park's wall-clock time, as the console shows it."""
    return clock.to_local(moment).strftime(pattern) if moment else ""


MAX_RECORD_ID = 2**31 - 1    # the database's INTEGER: a larger number is no record, and SQLite/PostgreSQL choke on it


def check_record_id(value: int, what: str) -> int:
    """A record number as typed; out of the database's range is a one-line error, not an overflow."""
    if not 0 < value <= MAX_RECORD_ID:
        raise fail(f"没有编号为 {value} 的{what}")
    return value


def status_arg(value: str) -> str:
    """argparse type of --status: a ticket status in Chinese (办理中) or as its code (in_progress) → the code."""
    code = labels.status_code(value)
    if code is None:
        raise argparse.ArgumentTypeError(f"没有“{value}”这个状态，可选：{labels.status_choices()}")
    return code


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):    # no passwd entry (a container's odd uid) and no LOGNAME/USER
        return os.environ.get("USER") or str(os.getuid())


def cli_actor() -> str:
    """Who made a change from the command line, in the audit log: cli:<os user>."""
    return f"cli:{os_user()}"


def audit(session, action: str, target: str = "", detail: str = "") -> None:
    """The audit entry of a change made here (the console writes the same actions under a login)."""
    staff.audit(session, cli_actor(), action, target, detail)


def schema_missing(exc: Exception) -> bool:
    """A database error that means `migrate` has not been run (SQLite "no such table", PostgreSQL
    "relation … does not exist")."""
    text = str(getattr(exc, "orig", exc) or exc)
    return "no such table" in text or ("relation" in text and "does not exist" in text)

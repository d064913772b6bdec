"""Tickets and the office's figures: complaints list/show/update/file/export, stats."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from bot import services
from bot.cli.common import emit, progress
from bot.complaints import reports as complaint_reports
from bot.complaints import service
from nlp.slots import complaint_category
from storage import complaints as store
from storage import enterprises

MAX_LIMIT = 10_000
MAX_PAGE = 100_000


def _ticket_dict(c, events: bool = False) -> dict:
    data = {"id": c.id, "ticket": c.ticket_no, "kind": c.kind, "category": c.category,
            "department": c.department, "status": c.status, "source": c.source,
            "enterprise": c.enterprise_label or None, "enterprise_verified": c.enterprise is not None,
            "description": c.description,
            "location": c.location, "contact_phone": c.contact_phone, "created_at": c.created_at.isoformat(),
            "accept_due": c.accept_due.isoformat(), "due": c.due.isoformat(), "extended": c.extended,
            "repeat_count": c.repeat_count, "reopen_count": c.reopen_count, "rating": c.rating}
    if events:
        data["events"] = [{"at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "public": e.public,
                           "text": e.text, "data": e.data} for e in c.events]
    return data


def _with_ticket(settings, ref: str, action):
    built = services.build(settings)
    with built.db.session() as session:
        complaint = store.find(session, ref)
        if complaint is None:
            raise SystemExit(f"no ticket {ref}")
        return action(built, session, complaint)


def cmd_complaints_list(args, settings):
    """One page of tickets, newest first, and a line with the total; --json prints the page's tickets only."""
    if not 1 <= args.limit <= MAX_LIMIT:
        raise SystemExit(f"错误：--limit 应为 1 到 {MAX_LIMIT} 之间的整数")
    if not 1 <= args.page <= MAX_PAGE:
        raise SystemExit(f"错误：--page 应为 1 到 {MAX_PAGE} 之间的整数")
    built = services.build(settings)
    with built.db.session() as session:
        tickets, total = store.queue(session, status=args.status, department=args.department,
                                     offset=(args.page - 1) * args.limit, limit=args.limit)
        rows = [_ticket_dict(c) for c in tickets]
    emit(args, rows, lambda r: f"{r['ticket']}  {r['status']:<11} {r['category']:<5} {r['department']:<8} due {r['due']}  "
              f"{r['enterprise'] or '-'}  {r['description'][:30]}")
    if not args.json:
        print(f"共 {total} 件，第 {args.page}/{max((total + args.limit - 1) // args.limit, 1)} 页")


def cmd_complaints_show(args, settings):
    data = _with_ticket(settings, args.id, lambda b, s, c: _ticket_dict(c, events=True))
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return
    for key, value in data.items():
        if key != "events":
            print(f"{key:>14}: {value}")
    for e in data["events"]:
        print(f"  {e['at'][:16]} {e['actor']:<10} {e['kind']:<9} {'公开' if e['public'] else '内部'} {e['text'][:60]}")


def cmd_complaints_update(args, settings):

    def act(built, session, c):
        actor = args.actor
        if args.assign:
            service.assign(built, session, c, actor, department=args.assign)
        if args.extend:
            service.extend(built, session, c, args.extend, args.reason or "", actor)
        if args.reply:
            service.reply(built, session, c, args.reply, actor)
        if args.note:
            service.add_note(session, c, args.note, actor)
        if args.status and args.status != c.status:
            service.change_status(built, session, c, args.status, actor, public_text=args.public or "")
        return c.ticket_no, c.status
    try:
        ticket, status = _with_ticket(settings, args.id, act)
    except service.ComplaintError as exc:
        raise SystemExit(f"not changed: {exc}")
    print(f"{ticket} is now {status}")


def cmd_complaints_file(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        enterprise = enterprises.by_name(session, args.enterprise)
        if enterprise is None:
            raise SystemExit(f"no enterprise named {args.enterprise!r} (see: enterprises list)")
        complaint, merged = service.file(
            built, session, description=args.text, category=args.category or complaint_category(args.text),
            source=args.source, kind=args.kind, enterprise_id=enterprise.id, phone=args.phone or "",
            actor=args.actor)
        print(f"{'merged into' if merged else 'filed'} {complaint.ticket_no}")


def cmd_complaints_export(args, settings):
    """Streamed to the file: rows fetched a few thousand at a time and written as they come (reports.write_csv,
    write_xlsx); a progress bar on stderr."""
    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError:
        raise SystemExit("--since takes an ISO date, e.g. 2026-07-01") from None
    out = Path(args.out or f"complaints-{args.since or 'all'}.{args.format}")
    built = services.build(settings)
    with built.db.session() as session:
        total = complaint_reports.export_count(session, since)
        show = progress(f"导出 {out.name}")
        rows = complaint_reports.iter_export_rows(session, since)
        write = complaint_reports.write_csv if args.format == "csv" else complaint_reports.write_xlsx
        with out.open("wb") as file:
            written = write(rows, file, progress=lambda n: show(n, total) if n < total else None)
        show(total, total)
    print(f"wrote {written} tickets to {out}")


def cmd_stats(args, settings):


    built = services.build(settings)
    with built.db.session() as session:
        try:
            since = date.fromisoformat(args.since) if args.since else None
            until = date.fromisoformat(args.until) if args.until else None
        except ValueError:
            raise SystemExit("--since and --until take ISO dates, e.g. 2026-07-01")
        figures = complaint_reports.stats(session, since, until=until)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    print(complaint_reports.summary_line(figures))
    for name in ("by_category", "by_department", "by_source", "by_status"):
        print(f"{name}: " + "，".join(f"{k} {v}" for k, v in figures["complaints"][name].items()))


def register(sub) -> None:
    comp = sub.add_parser("complaints", help="complaint tickets").add_subparsers(dest="sub", required=True)
    c_list = comp.add_parser("list", help="list tickets, newest first")
    c_list.add_argument("--status", choices=("received", "assigned", "in_progress", "resolved", "closed"))
    c_list.add_argument("--department")
    c_list.add_argument("--limit", type=int, default=50, help="tickets per page (default 50)")
    c_list.add_argument("--page", type=int, default=1, help="page number, 1 = the newest tickets")
    c_list.add_argument("--json", action="store_true", help="the page's tickets as a JSON list (no total line)")
    c_list.set_defaults(fn=cmd_complaints_list)
    c_show = comp.add_parser("show", help="one ticket with its timeline")
    c_show.add_argument("id", help="ticket number (TS…) or id")
    c_show.add_argument("--json", action="store_true")
    c_show.set_defaults(fn=cmd_complaints_show)
    c_upd = comp.add_parser("update", help="assign, reply, note, extend or change status")
    c_upd.add_argument("id", help="ticket number (TS…) or id")
    c_upd.add_argument("--status", choices=("received", "assigned", "in_progress", "resolved", "closed"))
    c_upd.add_argument("--note", help="internal note (staff only)")
    c_upd.add_argument("--reply", help="public reply, pushed to the owner")
    c_upd.add_argument("--public", help="public text with a status change (e.g. how it was resolved)")
    c_upd.add_argument("--assign", metavar="DEPARTMENT", help="hand to a department")
    c_upd.add_argument("--extend", type=int, metavar="WORKING_DAYS", help="extend once, with --reason")
    c_upd.add_argument("--reason", help="reason of the extension (told to the owner)")
    c_upd.add_argument("--actor", default="staff", help="who is making the change (audit log)")
    c_upd.set_defaults(fn=cmd_complaints_update)
    c_file = comp.add_parser("file", help="file on behalf of an enterprise")
    c_file.add_argument("--enterprise", required=True, help="the enterprise's full name")
    c_file.add_argument("--text", required=True, help="what the enterprise raised")
    c_file.add_argument("--source", default="电话", choices=("早茶会", "走访", "电话", "监测员", "12345"))
    c_file.add_argument("--kind", default="诉求", choices=("投诉", "诉求", "咨询"))
    c_file.add_argument("--category", help="default: recognised from the text")
    c_file.add_argument("--phone")
    c_file.add_argument("--actor", default="staff")
    c_file.set_defaults(fn=cmd_complaints_file)
    c_exp = comp.add_parser("export", help="export for the provincial platform")
    c_exp.add_argument("--since", help="ISO date")
    c_exp.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    c_exp.add_argument("--out", help="file to write (default complaints-SINCE.FORMAT)")
    c_exp.set_defaults(fn=cmd_complaints_export)
    stats = sub.add_parser("stats", help="the office's figures for a period")
    stats.add_argument("--since", help="ISO date (default: everything)")
    stats.add_argument("--until", help="ISO date, not included (e.g. the next quarter's first day)")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(fn=cmd_stats)

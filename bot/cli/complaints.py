"""Tickets and the office's figures: complaints list/show/update/file/export, stats."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from bot import services
from bot.cli.common import audit, cli_actor, emit, fail, park_time, progress, status_arg
from bot.complaints import labels, service
from bot.complaints import reports as complaint_reports
from bot.complaints.rules import CATEGORIES
from bot.complaints.texts import STATUS_NAMES
from nlp.slots import complaint_category
from storage import complaints as store
from storage import enterprises, users

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
            raise fail(f"没有找到工单 {ref}，请核对工单号")
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
    emit(args, rows, lambda r: f"{r['ticket']}  {STATUS_NAMES[r['status']]:<6} {r['category']:<5} {r['department']:<8} "
              f"办结时限 {r['due']}  {r['enterprise'] or '-'}  {r['description'][:30]}", empty="没有符合条件的工单")
    if not args.json:
        print(f"共 {total} 件，第 {args.page}/{max((total + args.limit - 1) // args.limit, 1)} 页")


SHOW_FIELDS = (("工单号", "ticket"), ("类型", "kind"), ("类别", "category"), ("承办部门", "department"),
               ("状态", "status"), ("来源", "source"), ("企业", "enterprise"), ("提交人", "submitter"),
               ("联系电话", "contact_phone"), ("地点", "location"), ("诉求内容", "description"),
               ("登记时间", "created_at"), ("受理时限", "accept_due"), ("办结时限", "due"), ("重复反映", "repeat_count"),
               ("重新办理", "reopen_count"), ("评价", "rating"))


def cmd_complaints_show(args, settings):
    """One ticket with its timeline; the text is what the console shows (park time, words for codes), --json
    keeps the codes and the stored UTC times."""
    def read(built, session, c):
        owner = users.get(session, c.user_ref) if c.user_ref else None
        text = {"status": STATUS_NAMES[c.status] + (f"（已并入 {c.merged_into}）" if c.merged_into else ""),
                "source": labels.source_name(c.source), "created_at": park_time(c.created_at),
                "submitter": (owner.display_name or owner.user_id) if owner else "工作人员代登记",
                "contact_phone": c.contact_phone or (f"{owner.phone}（用户资料）" if owner and owner.phone else "—"),
                "due": c.due.isoformat() + ("（已延期）" if c.extended else ""),
                "rating": f"{c.rating} 分" if c.rating else "未评价",
                "timeline": [(park_time(r.at, "%m-%d %H:%M"), r.actor, r.kind, r.public, r.change, r.text)
                             for r in labels.timeline(c.events)]}
        return _ticket_dict(c, events=True), text
    data, text = _with_ticket(settings, args.id, read)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return
    for label, key in SHOW_FIELDS:
        value = text.get(key, data.get(key))
        print(f"{label}：{'—' if value in (None, '') else value}")
    print("办理记录（园区时间）：")
    for at, actor, kind, public, change, said in text["timeline"]:
        line = "  ".join(part for part in (at, actor, kind, change, "公开" if public else "内部", said[:60]) if part)
        print(f"  {line}")


UPDATE_OPTIONS = "--status、--assign、--reply、--note、--extend"


def cmd_complaints_update(args, settings):
    """Assign (and correct the category), extend, reply, note, change status — several at once are done in
    this order, in one transaction: all or nothing. Each change is audited (cli:<os user>)."""
    if args.category and not args.assign:
        raise fail("--category 要和 --assign 一起用：改正类别时一并交办")
    if not any((args.status, args.assign, args.reply, args.note, args.extend is not None)):
        raise fail(f"没有要修改的内容：请至少给出 {UPDATE_OPTIONS} 中的一项")
    if args.extend is not None and not (args.reason or "").strip():
        raise fail("延期要写明原因：--extend 天数 --reason 原因（会告知企业）")
    if args.reason and args.extend is None:
        raise fail("--reason 是延期的原因，要和 --extend 一起用")
    if args.public and not args.status:
        raise fail("--public 是改状态时给企业的说明，要和 --status 一起用；单独答复请用 --reply")
    for name in ("reply", "note", "public"):
        if getattr(args, name) is not None and not getattr(args, name).strip():
            raise fail(f"--{name} 的内容不能为空")
    if args.category and args.category not in CATEGORIES:
        raise fail(f"没有“{args.category}”这个类别，可选：{'、'.join(CATEGORIES)}")

    def act(built, session, c):
        actor, done = args.actor or cli_actor(), []
        if args.assign:
            before = c.category
            service.assign(built, session, c, actor, department=args.assign, category=args.category)
            moved = f"，类别 {before} → {c.category}" if c.category != before else ""
            audit(session, "complaint.assign", c.ticket_no, args.assign + moved)
            done.append(f"交由{c.department}办理{moved}")
        if args.extend is not None:
            service.extend(built, session, c, args.extend, args.reason, actor)
            audit(session, "complaint.extend", c.ticket_no, f"{args.extend} 个工作日：{args.reason}")
            done.append(f"延期至 {c.due.isoformat()}")
        if args.reply:
            service.reply(built, session, c, args.reply, actor)
            audit(session, "complaint.reply", c.ticket_no, args.reply[:200])
            done.append("已答复企业")
        if args.note:
            service.add_note(session, c, args.note, actor)
            audit(session, "complaint.note", c.ticket_no, args.note[:200])
            done.append("已加内部备注")
        if args.status and args.status != c.status:
            before = c.status
            service.change_status(built, session, c, args.status, actor, public_text=args.public or "")
            audit(session, "complaint.status", c.ticket_no, args.status)
            done.append(f"状态 {STATUS_NAMES[before]} → {STATUS_NAMES[c.status]}")
        elif args.status:
            done.append(f"状态本来就是{STATUS_NAMES[c.status]}，未改")
        return c.ticket_no, STATUS_NAMES[c.status], done
    ticket, status, done = _with_ticket(settings, args.id, act)
    print(f"工单 {ticket} 已更新：{'；'.join(done)}。当前状态：{status}。")


def cmd_complaints_file(args, settings):
    if args.category and args.category not in CATEGORIES:
        raise fail(f"没有“{args.category}”这个类别，可选：{'、'.join(CATEGORIES)}")
    if not args.text.strip():
        raise fail("--text 诉求内容不能为空")
    built = services.build(settings)
    with built.db.session() as session:
        enterprise = enterprises.by_name(session, args.enterprise)
        if enterprise is None:
            raise fail(f"企业名录中没有「{args.enterprise}」（见 python -m bot enterprises list）")
        complaint, merged = service.file(
            built, session, description=args.text.strip(), category=args.category or complaint_category(args.text),
            source=args.source, kind=args.kind, enterprise_id=enterprise.id, phone=args.phone or "",
            actor=args.actor or cli_actor())
        audit(session, "complaint.file", complaint.ticket_no, "merged" if merged else args.source)
        if merged:
            print(f"与「{enterprise.name}」办理中的同一事项合并（第 {complaint.repeat_count + 1} 次反映），"
                  f"已并入工单 {complaint.ticket_no}")
        else:
            print(f"已为「{enterprise.name}」登记{args.kind}（{complaint.category}，交{complaint.department}，"
                  f"办结时限 {complaint.due.isoformat()}），工单号 {complaint.ticket_no}")


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
    # The lines staff read name sources and statuses in words; --json above keeps the codes.
    for name, label, word in (("by_category", "按类别", str), ("by_department", "按承办单位", str),
                              ("by_source", "按来源", labels.source_name), ("by_status", "按状态", labels.status_name)):
        print(f"{label}：" + "，".join(f"{word(k)} {v}" for k, v in figures["complaints"][name].items()))


def register(sub) -> None:
    comp = sub.add_parser("complaints", help="complaint tickets").add_subparsers(dest="sub", required=True)
    c_list = comp.add_parser("list", help="list tickets, newest first")
    c_list.add_argument("--status", type=status_arg, help="已受理|已交办|办理中|已办结待评价|已办结 "
                        "(or received|assigned|in_progress|resolved|closed)")
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
    c_upd.add_argument("--status", type=status_arg, help="已受理|已交办|办理中|已办结待评价|已办结 "
                       "(or received|assigned|in_progress|resolved|closed); only the allowed moves")
    c_upd.add_argument("--note", help="internal note (staff only)")
    c_upd.add_argument("--reply", help="public reply, pushed to the owner")
    c_upd.add_argument("--public", help="public text with a status change (e.g. how it was resolved)")
    c_upd.add_argument("--assign", metavar="DEPARTMENT", help="hand to a department (one of config.yaml's)")
    c_upd.add_argument("--category", help="correct the category while assigning (with --assign; recorded)")
    c_upd.add_argument("--extend", type=int, metavar="WORKING_DAYS", help="extend once, with --reason")
    c_upd.add_argument("--reason", help="reason of the extension (told to the owner)")
    c_upd.add_argument("--actor", help="who is making the change, on the ticket's timeline (default cli:<os user>)")
    c_upd.set_defaults(fn=cmd_complaints_update)
    c_file = comp.add_parser("file", help="file on behalf of an enterprise")
    c_file.add_argument("--enterprise", required=True, help="the enterprise's full name")
    c_file.add_argument("--text", required=True, help="what the enterprise raised")
    c_file.add_argument("--source", default="电话", choices=("早茶会", "走访", "电话", "监测员", "12345"))
    c_file.add_argument("--kind", default="诉求", choices=("投诉", "诉求", "咨询"))
    c_file.add_argument("--category", help="default: recognised from the text")
    c_file.add_argument("--phone")
    c_file.add_argument("--actor", help="who filed it, on the ticket's timeline (default cli:<os user>)")
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

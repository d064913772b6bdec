"""`python -m bot …`: the command line of the product (see README "Command line")."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _emit(args, rows: list[dict], line) -> None:
    """--json: the rows as one JSON document on stdout; otherwise one line per row."""
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        print(line(row))


def _progress(label: str):
    """A one-line progress bar on stderr (stdout stays clean for --json)."""
    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


def cmd_migrate(args, settings):
    from storage.migrate import upgrade
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    print("database is up to date")


def cmd_serve(args, settings):
    from bot.serve import run
    run(settings, args.host, args.port)


def cmd_worker(args, settings):
    from bot import services, worker
    return worker.run(services.build(settings), burst=args.burst)


def cmd_seed_demo(args, settings):
    from bot import demo, services
    built = services.build(settings)
    with built.db.session() as session:
        result = demo.seed(session, force=args.force)
    print(result)


def cmd_enterprises_import(args, settings):
    from bot import services
    from storage import enterprises
    built = services.build(settings)
    with built.db.session() as session:
        counts = enterprises.import_csv(session, Path(args.file), progress=_progress("导入企业"))
    print(json.dumps(counts, ensure_ascii=False) if args.json else
          f"created {counts['created']}, updated {counts['updated']}, skipped {counts['skipped']}")


def cmd_enterprises_list(args, settings):
    from bot import services
    from storage import enterprises
    built = services.build(settings)
    with built.db.session() as session:
        rows = [{"id": e.id, "name": e.name, "credit_code": e.credit_code, "industry": e.industry,
                 "tags": e.tags} for e in enterprises.all_enterprises(session)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            print(f"{row['id']:>5}  {row['name']}  {row['industry']}  {','.join(row['tags'])}")


def cmd_users_link(args, settings):
    from bot import services
    from storage import enterprises, users
    built = services.build(settings)
    with built.db.session() as session:
        enterprise = enterprises.by_name(session, args.enterprise)
        if enterprise is None:
            raise SystemExit(f"no enterprise named {args.enterprise!r}")
        user = users.get_or_create(session, args.channel, args.user)
        users.link_enterprise(user, enterprise.id)
        if args.role:
            user.roles = sorted(set(user.roles or []) | {args.role})
    print(f"linked {args.channel}:{args.user} to {args.enterprise}")


def cmd_fake_api(args, settings):
    import time
    from bot import fakeapi
    server, _ = fakeapi.serve(args.host, args.port)
    print(f"fake WeChat/WeCom API on http://{args.host}:{server.server_address[1]}/cgi-bin/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def _ticket_dict(c, events: bool = False) -> dict:
    data = {"id": c.id, "ticket": c.ticket_no, "kind": c.kind, "category": c.category,
            "department": c.department, "status": c.status, "source": c.source,
            "enterprise": c.enterprise.name if c.enterprise else None, "description": c.description,
            "location": c.location, "contact_phone": c.contact_phone, "created_at": c.created_at.isoformat(),
            "accept_due": c.accept_due.isoformat(), "due": c.due.isoformat(), "extended": c.extended,
            "repeat_count": c.repeat_count, "reopen_count": c.reopen_count, "rating": c.rating}
    if events:
        data["events"] = [{"at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "public": e.public,
                           "text": e.text, "data": e.data} for e in c.events]
    return data


def _with_ticket(settings, ref: str, action):
    from bot import services
    from storage import complaints
    built = services.build(settings)
    with built.db.session() as session:
        complaint = complaints.find(session, ref)
        if complaint is None:
            raise SystemExit(f"no ticket {ref}")
        return action(built, session, complaint)


def cmd_complaints_list(args, settings):
    from bot import services
    from storage import complaints
    built = services.build(settings)
    with built.db.session() as session:
        rows = [_ticket_dict(c) for c in complaints.listing(session, status=args.status,
                                                             department=args.department)]
    _emit(args, rows, lambda r: f"{r['ticket']}  {r['status']:<11} {r['category']:<5} {r['department']:<8} due {r['due']}  "
              f"{r['enterprise'] or '-'}  {r['description'][:30]}")


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
    from bot import tickets

    def act(built, session, c):
        actor = args.actor
        if args.assign:
            tickets.assign(built, session, c, actor, department=args.assign)
        if args.extend:
            tickets.extend(built, session, c, args.extend, args.reason or "", actor)
        if args.reply:
            tickets.reply(built, session, c, args.reply, actor)
        if args.note:
            tickets.add_note(session, c, args.note, actor)
        if args.status and args.status != c.status:
            tickets.change_status(built, session, c, args.status, actor, public_text=args.public or "")
        return c.ticket_no, c.status
    try:
        ticket, status = _with_ticket(settings, args.id, act)
    except tickets.TicketError as exc:
        raise SystemExit(f"not changed: {exc}")
    print(f"{ticket} is now {status}")


def cmd_complaints_file(args, settings):
    from bot import services, tickets
    from nlp.slots import complaint_category
    from storage import enterprises
    built = services.build(settings)
    with built.db.session() as session:
        enterprise = enterprises.by_name(session, args.enterprise)
        if enterprise is None:
            raise SystemExit(f"no enterprise named {args.enterprise!r} (see: enterprises list)")
        complaint, merged = tickets.file(
            built, session, description=args.text, category=args.category or complaint_category(args.text),
            source=args.source, kind=args.kind, enterprise_id=enterprise.id, phone=args.phone or "",
            actor=args.actor)
        print(f"{'merged into' if merged else 'filed'} {complaint.ticket_no}")


def cmd_complaints_export(args, settings):
    from datetime import date

    from bot import complaint_reports, services
    built = services.build(settings)
    with built.db.session() as session:
        rows = complaint_reports.export_rows(session, date.fromisoformat(args.since) if args.since else None)
    data = complaint_reports.export_csv(rows) if args.format == "csv" else complaint_reports.export_xlsx(rows)
    out = Path(args.out or f"complaints-{args.since or 'all'}.{args.format}")
    out.write_bytes(data)
    print(f"wrote {len(rows)} tickets to {out}")


def cmd_stats(args, settings):
    from datetime import date

    from bot import complaint_reports, services
    built = services.build(settings)
    with built.db.session() as session:
        figures = complaint_reports.stats(session, date.fromisoformat(args.since) if args.since else None)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    print(complaint_reports.summary_line(figures))
    for name in ("by_category", "by_department", "by_source", "by_status"):
        print(f"{name}: " + "，".join(f"{k} {v}" for k, v in figures["complaints"][name].items()))


def _parse_time(value: str):
    from datetime import datetime
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"not an ISO date-time: {value!r} (e.g. 2026-12-05T07:30)")
    if moment.tzinfo is not None:   # stored as park-local time
        from bot.tickets import PARK_TZ
        moment = moment.astimezone(PARK_TZ).replace(tzinfo=None)
    return moment


def _attendee_rows(session, meeting_id: int) -> list[dict]:
    from storage import meetings as store
    rows, position = [], 0
    waitlist = {s.id: n for n, s in enumerate(store.waitlist(session, meeting_id), 1)}
    for record in store.roster(session, meeting_id):
        position += 1
        rows.append({"user": record.user.user_id, "name": record.user.display_name,
                     "enterprise": record.enterprise.name if record.enterprise else "",
                     "status": record.status, "position": waitlist.get(record.id, position),
                     "seats": record.seats, "no_show": record.no_show, "note": record.note})
    return rows


def cmd_meetings_create(args, settings):
    from bot import meetings, services
    built = services.build(settings)
    with built.db.session() as session:
        try:
            meeting = meetings.create(session, title=args.title, starts_at=_parse_time(args.starts_at),
                                      venue=args.venue, capacity=args.capacity, theme=args.theme or "",
                                      host=args.host or "", sector=args.sector or "",
                                      signup_deadline=_parse_time(args.signup_deadline) if args.signup_deadline else None,
                                      per_enterprise_limit=args.per_enterprise_limit)
        except meetings.MeetingError as exc:
            raise SystemExit(f"not created: {exc}")
        print(meeting.id)


def cmd_meetings_edit(args, settings):
    from bot import meetings, services
    from storage import meetings as store
    built = services.build(settings)
    with built.db.session() as session:
        meeting = store.get(session, args.id) or sys.exit(f"no meeting {args.id}")
        changes = {name: getattr(args, name) for name in ("title", "venue", "theme", "host", "sector", "status",
                                                           "capacity")}
        changes["starts_at"] = _parse_time(args.starts_at) if args.starts_at else None
        changes["signup_deadline"] = _parse_time(args.signup_deadline) if args.signup_deadline else None
        try:
            promoted = meetings.edit(built, session, meeting, **changes)
        except meetings.MeetingError as exc:
            raise SystemExit(f"not changed: {exc}")
        print(f"meeting {meeting.id} updated" + (f"; {len(promoted)} promoted from the waitlist" if promoted else ""))


def cmd_meetings_list(args, settings):
    from bot import services
    from storage import meetings as store
    built = services.build(settings)
    with built.db.session() as session:
        rows = [{"id": m.id, "title": m.title, "theme": m.theme, "starts_at": m.starts_at.isoformat(),
                 "venue": m.venue, "capacity": m.capacity, "seats_taken": m.seats_taken,
                 "signup_deadline": m.signup_deadline.isoformat(), "status": m.status}
                for m in store.all_meetings(session)]
    _emit(args, rows, lambda r: f"{r['id']:>4}  {r['starts_at'][:16]}  {r['status']:<9} {r['seats_taken']}/{r['capacity']}  "
              f"{r['title']}  @{r['venue']}")


def cmd_meetings_attendees(args, settings):
    import csv
    import io

    from bot import services
    built = services.build(settings)
    with built.db.session() as session:
        rows = _attendee_rows(session, args.id)
    if args.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["序号", "姓名", "企业", "状态", "人数", "未到场", "备注", "用户ID"])
        names = {"confirmed": "已确认", "waitlisted": "候补", "cancelled": "已取消", "attended": "已签到"}
        for r in rows:
            writer.writerow([r["position"], r["name"], r["enterprise"], names[r["status"]], r["seats"],
                             "是" if r["no_show"] else "", r["note"], r["user"]])
        sys.stdout.buffer.write(("\ufeff" + buffer.getvalue()).encode("utf-8"))   # Excel reads UTF-8 with a BOM
        return
    _emit(args, rows, lambda r: f"{r['position']:>3}  {r['status']:<10} {r['seats']}人  {r['name'] or r['user']}  {r['enterprise']}")


def cmd_meetings_show(args, settings):
    from bot import services
    from bot.complaint_texts import STATUS_NAMES
    from storage import meetings as store
    built = services.build(settings)
    with built.db.session() as session:
        meeting = store.get(session, args.id) or sys.exit(f"no meeting {args.id}")
        data = {"id": meeting.id, "title": meeting.title, "theme": meeting.theme, "host": meeting.host,
                "starts_at": meeting.starts_at.isoformat(), "venue": meeting.venue, "capacity": meeting.capacity,
                "seats_taken": meeting.seats_taken, "status": meeting.status,
                "attendees": _attendee_rows(session, meeting.id),
                "tickets": [{"ticket": c.ticket_no, "enterprise": c.enterprise.name if c.enterprise else "",
                             "status": c.status, "description": c.description}
                            for c in store.tickets_raised(session, meeting.id)]}
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return
    print(f"{data['title']}  {data['starts_at'][:16]}  {data['venue']}  {data['status']}  "
          f"{data['seats_taken']}/{data['capacity']}")
    tickets = data["tickets"]
    assigned = sum(1 for t in tickets if t["status"] != "received")
    print(f"诉求 {len(tickets)} 件，已交办 {assigned} 件：")
    for t in tickets:
        print(f"  {t['ticket']}  {STATUS_NAMES[t['status']]}  {t['enterprise']}  {t['description'][:40]}")


def _signup_by_user(session, meeting_id: int, user: str):
    from storage import meetings as store
    match = [s for s in store.roster(session, meeting_id) if user in (s.user.user_id, s.user.display_name)
             or (s.enterprise and s.enterprise.name == user)]
    if not match:
        raise SystemExit(f"nobody matching {user!r} signed up for meeting {meeting_id}")
    return match


def cmd_meetings_checkin(args, settings):
    from bot import meetings, services
    built = services.build(settings)
    with built.db.session() as session:
        for record in _signup_by_user(session, args.id, args.user):
            try:
                meetings.check_in(session, record)
            except meetings.MeetingError as exc:
                raise SystemExit(str(exc))
            print(f"checked in {record.user.display_name or record.user.user_id}")


def cmd_meetings_finish(args, settings):
    from bot import meetings, services
    from storage import meetings as store
    built = services.build(settings)
    with built.db.session() as session:
        meeting = store.get(session, args.id) or sys.exit(f"no meeting {args.id}")
        print(f"meeting {meeting.id} held; no-shows: {meetings.finish(session, meeting)}")


def cmd_meetings_raise(args, settings):
    from bot import meetings, services
    from storage import enterprises
    from storage import meetings as store
    built = services.build(settings)
    with built.db.session() as session:
        meeting = store.get(session, args.id) or sys.exit(f"no meeting {args.id}")
        enterprise = enterprises.by_name(session, args.enterprise) or sys.exit(f"no enterprise {args.enterprise!r}")
        complaint = meetings.raise_topic(built, session, meeting, enterprise, args.text, args.category)
        if args.assign:
            from bot import tickets
            tickets.assign(built, session, complaint, "staff", department=args.assign)
        print(complaint.ticket_no)


def _policy_dict(p) -> dict:
    return {"id": p.id, "title": p.title, "issuer": p.issuer, "level": p.level, "category": p.category,
            "topics": p.topics, "summary": p.summary, "amount": p.amount, "payout_mode": p.payout_mode,
            "deadline": p.deadline.isoformat() if p.deadline else None, "how_to_apply": p.how_to_apply,
            "contact": p.contact, "demo": p.demo}


def cmd_policies_import(args, settings):
    from bot import policies, services
    built = services.build(settings)
    try:
        records = policies.read_file(Path(args.file))
        with built.db.session() as session:
            counts = policies.import_records(built, session, records, progress=_progress("导入政策"))
    except (policies.PolicyFileError, OSError) as exc:
        raise SystemExit(f"not imported: {exc}")
    print(json.dumps(counts, ensure_ascii=False) if args.json else
          f"created {counts['created']}, updated {counts['updated']}")


def cmd_policies_list(args, settings):
    from bot import services
    from storage import policies as store
    built = services.build(settings)
    with built.db.session() as session:
        rows = [_policy_dict(p) for p in store.all_policies(session)]
    _emit(args, rows, lambda r: f"{r['id']:>4}  {r['deadline'] or '常年':<10}  {','.join(r['topics']):<8}  {r['title']}")


def cmd_policies_search(args, settings):
    from bot import policies, services
    built = services.build(settings)
    with built.db.session() as session:
        rows = [dict(_policy_dict(p), score=score) for p, score in policies.search(built, session, args.text, limit=5)]
    _emit(args, rows, lambda r: f"{r['score']:6.2f}  {r['title']}  {r['amount']}")


def cmd_broadcast_send(args, settings):
    import time

    from bot import broadcasts, services
    built = services.build(settings)
    try:
        with built.db.session() as session:
            broadcast_id = broadcasts.create(built, session, args.title, args.body, args.to, url=args.url or "",
                                             created_by=args.actor).id
    except broadcasts.TargetError as exc:
        raise SystemExit(str(exc))
    print(broadcast_id, flush=True)
    if not args.wait:
        return
    show = _progress(f"广播 {broadcast_id}")
    while True:
        with built.db.session() as session:
            figures = broadcasts.status(session, broadcast_id)
        show(figures["sent"] + figures["failed"], figures["total"])
        if figures["pending"] == 0:
            break
        time.sleep(0.5)
    print(f"sent {figures['sent']}, failed {figures['failed']} (see: broadcast failures {broadcast_id})",
          file=sys.stderr)


def cmd_broadcast_status(args, settings):
    from bot import broadcasts, services
    built = services.build(settings)
    with built.db.session() as session:
        figures = broadcasts.status(session, args.id)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"broadcast {args.id}: {figures['sent']}/{figures['total']} sent, {figures['failed']} failed, "
              f"{figures['pending']} pending")


def cmd_broadcast_failures(args, settings):
    from bot import services
    from storage import broadcasts as store
    built = services.build(settings)
    with built.db.session() as session:
        rows = [{"channel": d.channel, "recipient": d.recipient, "kind": d.kind, "attempts": d.attempts,
                 "error": d.error} for d in store.failures(session, args.id)]
    _emit(args, rows, lambda r: f"{r['channel']}:{r['recipient']}  {r['kind']}  tries {r['attempts']}  {r['error']}")


def cmd_staff_add(args, settings):
    import getpass

    from bot import services
    from storage import staff
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise SystemExit("the passwords differ")
    built = services.build(settings)
    try:
        with built.db.session() as session:
            staff.add(session, args.username, password, args.role, args.department or "")
            staff.audit(session, "cli", "staff.add", args.username, args.role)
    except ValueError as exc:
        raise SystemExit(f"not added: {exc}")
    print(f"staff account {args.username} ({args.role}) saved")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="联企助手 command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(fn=cmd_migrate)
    serve = sub.add_parser("serve", help="serve the webhooks and console (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(fn=cmd_serve)
    worker = sub.add_parser("worker", help="run background jobs and the scheduler")
    worker.add_argument("--burst", action="store_true", help="work through what is queued and due, then exit")
    worker.set_defaults(fn=cmd_worker)
    seed = sub.add_parser("seed-demo", help="load demo enterprises and a staff account (once)")
    seed.add_argument("--force", action="store_true", help="load again even if demo data exists")
    seed.set_defaults(fn=cmd_seed_demo)
    ent = sub.add_parser("enterprises", help="the enterprise roster").add_subparsers(dest="sub", required=True)
    imp = ent.add_parser("import", help="import a roster CSV")
    imp.add_argument("file")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(fn=cmd_enterprises_import)
    lst = ent.add_parser("list", help="list enterprises")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(fn=cmd_enterprises_list)
    usr = sub.add_parser("users", help="channel users").add_subparsers(dest="sub", required=True)
    link = usr.add_parser("link", help="link a channel user to an enterprise")
    link.add_argument("user", help="the channel user id (openid)")
    link.add_argument("enterprise", help="the enterprise's full name")
    link.add_argument("--channel", default="wechat", choices=("wechat", "wecom", "group"))
    link.add_argument("--role", choices=("staff", "admin"), help="also give this role")
    link.set_defaults(fn=cmd_users_link)
    comp = sub.add_parser("complaints", help="complaint tickets").add_subparsers(dest="sub", required=True)
    c_list = comp.add_parser("list", help="list tickets, newest first")
    c_list.add_argument("--status", choices=("received", "assigned", "in_progress", "resolved", "closed"))
    c_list.add_argument("--department")
    c_list.add_argument("--json", action="store_true")
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
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(fn=cmd_stats)
    meet = sub.add_parser("meetings", help="government–enterprise breakfast meetings").add_subparsers(
        dest="sub", required=True)
    m_create = meet.add_parser("create", help="create a meeting; prints its id")
    m_create.add_argument("--title", required=True)
    m_create.add_argument("--starts-at", required=True, help="ISO date-time, park-local unless it has a zone")
    m_create.add_argument("--venue", required=True)
    m_create.add_argument("--capacity", type=int, required=True, help="seats")
    m_create.add_argument("--signup-deadline", help="ISO date-time (default: the start)")
    m_create.add_argument("--theme")
    m_create.add_argument("--host")
    m_create.add_argument("--sector", help="only enterprises whose industry contains this")
    m_create.add_argument("--per-enterprise-limit", type=int, default=2)
    m_create.set_defaults(fn=cmd_meetings_create)
    m_edit = meet.add_parser("edit", help="change a meeting")
    m_edit.add_argument("id", type=int)
    for name in ("title", "venue", "theme", "host", "sector", "starts-at", "signup-deadline"):
        m_edit.add_argument(f"--{name}")
    m_edit.add_argument("--capacity", type=int)
    m_edit.add_argument("--status", choices=("open", "closed", "held", "cancelled"))
    m_edit.set_defaults(fn=cmd_meetings_edit)
    m_list = meet.add_parser("list", help="all meetings, newest first")
    m_list.add_argument("--json", action="store_true")
    m_list.set_defaults(fn=cmd_meetings_list)
    m_att = meet.add_parser("attendees", help="the roster with the waitlist")
    m_att.add_argument("id", type=int)
    m_att.add_argument("--json", action="store_true")
    m_att.add_argument("--csv", action="store_true", help="CSV with Chinese headers (UTF-8 with BOM)")
    m_att.set_defaults(fn=cmd_meetings_attendees)
    m_show = meet.add_parser("show", help="a meeting, its roster and the tickets raised there")
    m_show.add_argument("id", type=int)
    m_show.add_argument("--json", action="store_true")
    m_show.set_defaults(fn=cmd_meetings_show)
    m_in = meet.add_parser("checkin", help="mark an attendee as arrived")
    m_in.add_argument("id", type=int)
    m_in.add_argument("user", help="openid, display name or enterprise name")
    m_in.set_defaults(fn=cmd_meetings_checkin)
    m_fin = meet.add_parser("finish", help="mark the meeting held; unchecked attendees become no-shows")
    m_fin.add_argument("id", type=int)
    m_fin.set_defaults(fn=cmd_meetings_finish)
    m_raise = meet.add_parser("raise", help="file a problem raised at the meeting as a ticket (source 早茶会)")
    m_raise.add_argument("id", type=int)
    m_raise.add_argument("--enterprise", required=True)
    m_raise.add_argument("--text", required=True)
    m_raise.add_argument("--category")
    m_raise.add_argument("--assign", metavar="DEPARTMENT", help="assign on the spot")
    m_raise.set_defaults(fn=cmd_meetings_raise)
    pol = sub.add_parser("policies", help="the policy base").add_subparsers(dest="sub", required=True)
    p_imp = pol.add_parser("import", help="import a YAML or CSV file (same title updates)")
    p_imp.add_argument("file")
    p_imp.add_argument("--json", action="store_true")
    p_imp.set_defaults(fn=cmd_policies_import)
    p_list = pol.add_parser("list", help="every policy")
    p_list.add_argument("--json", action="store_true")
    p_list.set_defaults(fn=cmd_policies_list)
    p_search = pol.add_parser("search", help="ranked search, as the chat answers (expired ones excluded)")
    p_search.add_argument("text")
    p_search.add_argument("--json", action="store_true")
    p_search.set_defaults(fn=cmd_policies_search)
    bc = sub.add_parser("broadcast", help="policy notices to many people").add_subparsers(dest="sub", required=True)
    b_send = bc.add_parser("send", help="send a notice; prints the broadcast id")
    b_send.add_argument("--title", required=True)
    b_send.add_argument("--body", required=True)
    b_send.add_argument("--to", required=True, metavar="TARGET", help="all, topic:NAME, tag:NAME or group:ID")
    b_send.add_argument("--url", help="policy link")
    b_send.add_argument("--actor", default="staff")
    b_send.add_argument("--wait", action="store_true", help="show progress until every delivery is done")
    b_send.set_defaults(fn=cmd_broadcast_send)
    b_status = bc.add_parser("status", help="total / sent / failed / pending")
    b_status.add_argument("id", type=int)
    b_status.add_argument("--json", action="store_true")
    b_status.set_defaults(fn=cmd_broadcast_status)
    b_fail = bc.add_parser("failures", help="deliveries that failed, with reasons")
    b_fail.add_argument("id", type=int)
    b_fail.add_argument("--json", action="store_true")
    b_fail.set_defaults(fn=cmd_broadcast_failures)
    stf = sub.add_parser("staff", help="console accounts").add_subparsers(dest="sub", required=True)
    s_add = stf.add_parser("add", help="add an account (or reset its password and role)")
    s_add.add_argument("username")
    s_add.add_argument("--role", required=True, choices=("admin", "staff", "viewer"))
    s_add.add_argument("--department", help="staff only: see and handle this department's tickets only")
    s_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s_add.set_defaults(fn=cmd_staff_add)
    fake = sub.add_parser("fake-api", help="run the local fake WeChat/WeCom API (offline demo)")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=8001)
    fake.set_defaults(fn=cmd_fake_api)
    return parser


def main(argv=None) -> int:
    from bot.config import ConfigError, load_settings
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return args.fn(args, settings) or 0

"""Breakfast meetings: create, edit, list, attendees, show, checkin, finish, raise."""
from __future__ import annotations

import csv
import io
import json
import sys

from bot import services
from bot.cli.common import emit, parse_time
from bot.complaints import service as complaints
from bot.complaints.texts import STATUS_NAMES
from bot.meetings import service as meetings
from storage import enterprises
from storage import meetings as store


def _attendee_rows(session, meeting_id: int) -> list[dict]:
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
    built = services.build(settings)
    with built.db.session() as session:
        try:
            meeting = meetings.create(session, title=args.title, starts_at=parse_time(args.starts_at),
                                      venue=args.venue, capacity=args.capacity, theme=args.theme or "",
                                      host=args.host or "", sector=args.sector or "",
                                      signup_deadline=parse_time(args.signup_deadline) if args.signup_deadline else None,
                                      per_enterprise_limit=args.per_enterprise_limit or settings.meetings.per_enterprise_limit)
        except meetings.MeetingError as exc:
            raise SystemExit(f"not created: {exc}")
        print(meeting.id)


def cmd_meetings_edit(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        meeting = store.get(session, args.id) or sys.exit(f"no meeting {args.id}")
        changes = {name: getattr(args, name) for name in ("title", "venue", "theme", "host", "sector", "status",
                                                           "capacity")}
        changes["starts_at"] = parse_time(args.starts_at) if args.starts_at else None
        changes["signup_deadline"] = parse_time(args.signup_deadline) if args.signup_deadline else None
        try:
            promoted = meetings.edit(built, session, meeting, **changes)
        except meetings.MeetingError as exc:
            raise SystemExit(f"not changed: {exc}")
        print(f"meeting {meeting.id} updated" + (f"; {len(promoted)} promoted from the waitlist" if promoted else ""))


def cmd_meetings_list(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        rows = [{"id": m.id, "title": m.title, "theme": m.theme, "starts_at": m.starts_at.isoformat(),
                 "venue": m.venue, "capacity": m.capacity, "seats_taken": m.seats_taken,
                 "signup_deadline": m.signup_deadline.isoformat(), "status": m.status}
                for m in store.all_meetings(session)]
    emit(args, rows, lambda r: f"{r['id']:>4}  {r['starts_at'][:16]}  {r['status']:<9} {r['seats_taken']}/{r['capacity']}  "
              f"{r['title']}  @{r['venue']}")


def cmd_meetings_attendees(args, settings):

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
    emit(args, rows, lambda r: f"{r['position']:>3}  {r['status']:<10} {r['seats']}人  "
                               f"{r['name'] or r['user']}  {r['enterprise']}")


def cmd_meetings_show(args, settings):
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
    match = [s for s in store.roster(session, meeting_id) if user in (s.user.user_id, s.user.display_name)
             or (s.enterprise and s.enterprise.name == user)]
    if not match:
        raise SystemExit(f"nobody matching {user!r} signed up for meeting {meeting_id}")
    return match


def cmd_meetings_checkin(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        for record in _signup_by_user(session, args.id, args.user):
            try:
                meetings.check_in(session, record)
            except meetings.MeetingError as exc:
                raise SystemExit(str(exc))
            print(f"checked in {record.user.display_name or record.user.user_id}")


def cmd_meetings_finish(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        meeting = store.get(session, args.id) or sys.exit(f"no meeting {args.id}")
        print(f"meeting {meeting.id} held; no-shows: {meetings.finish(session, meeting)}")


def cmd_meetings_raise(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        meeting = store.get(session, args.id) or sys.exit(f"no meeting {args.id}")
        enterprise = enterprises.by_name(session, args.enterprise) or sys.exit(f"no enterprise {args.enterprise!r}")
        complaint = meetings.raise_topic(built, session, meeting, enterprise, args.text, args.category)
        if args.assign:
            complaints.assign(built, session, complaint, "staff", department=args.assign)
        print(complaint.ticket_no)


def register(sub) -> None:
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
    m_create.add_argument("--per-enterprise-limit", type=int,
                          help="seats one enterprise may take (default: meetings.per_enterprise_limit in config.yaml)")
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

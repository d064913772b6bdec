"""Breakfast meetings: create, edit, list, attendees, show, checkin, finish, raise."""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys

from bot import clock, services
from bot.cli.common import audit, check_record_id, cli_actor, emit, fail, parse_time
from bot.complaints import service as complaints
from bot.complaints.texts import STATUS_NAMES
from bot.meetings import service as meetings
from storage import enterprises
from storage import meetings as store

SIGNUP_NAMES = {"confirmed": "已确认", "waitlisted": "候补", "cancelled": "已取消", "attended": "已签到"}
MEETING_NAMES = {"open": "报名中", "closed": "报名截止", "held": "已举行", "cancelled": "已取消"}
ROSTER_COLUMNS = ["序号", "姓名", "企业", "电话", "状态", "人数", "未到场", "想反映的问题", "用户ID"]


def _meeting(session, meeting_id: int):
    meeting = store.get(session, check_record_id(meeting_id, "早茶会"))
    if meeting is None:
        raise fail(f"没有编号为 {meeting_id} 的早茶会（见 python -m bot meetings list）")
    return meeting


def _topic(record) -> str:
    """What the owner wants to raise: the signup's topic when it has one, else its note (which carries it)."""
    return getattr(record, "topic", None) or record.note or ""


def _attendee_rows(session, meeting_id: int) -> list[dict]:
    rows, position = [], 0
    waitlist = {s.id: n for n, s in enumerate(store.waitlist(session, meeting_id), 1)}
    for record in store.roster(session, meeting_id):
        position += 1
        rows.append({"user": record.user.user_id, "name": record.user.display_name,
                     "enterprise": record.enterprise.name if record.enterprise else "",
                     "status": record.status, "position": waitlist.get(record.id, position),
                     "seats": record.seats, "no_show": record.no_show, "note": record.note,
                     "phone": record.user.phone or "", "topic": _topic(record)})
    return rows


def _meeting_status(value: str) -> str:
    """argparse type of meetings edit --status: 报名中 or open … → the code."""
    code = value if value in MEETING_NAMES else next((k for k, v in MEETING_NAMES.items() if v == value), None)
    if code is None:
        raise argparse.ArgumentTypeError(f"没有“{value}”这个状态，可选："
                                         + "、".join(f"{v}（{k}）" for k, v in MEETING_NAMES.items()))
    return code


def _capacity_problem(meeting, capacity: int) -> str:
    if capacity < max(meeting.seats_taken, 1):
        return (f"座位数不能改为 {capacity}：已有 {meeting.seats_taken} 个座位确认报名，座位数至少要 {meeting.seats_taken}"
                if meeting.seats_taken else "座位数至少为 1")
    return ""


def cmd_meetings_create(args, settings):
    starts_at = parse_time(args.starts_at)
    if starts_at <= clock.now():
        raise fail(f"开始时间 {starts_at:%Y-%m-%d %H:%M} 已经过去（园区时间现在是 {clock.now():%Y-%m-%d %H:%M}），"
                   "请给出以后的时间")
    if args.capacity < 1:
        raise fail("--capacity 座位数至少为 1")
    built = services.build(settings)
    with built.db.session() as session:
        meeting = meetings.create(session, title=args.title, starts_at=starts_at,
                                  venue=args.venue, capacity=args.capacity, theme=args.theme or "",
                                  host=args.host or "", sector=args.sector or "",
                                  signup_deadline=parse_time(args.signup_deadline) if args.signup_deadline else None,
                                  per_enterprise_limit=args.per_enterprise_limit or settings.meetings.per_enterprise_limit)
        audit(session, "meeting.create", str(meeting.id), meeting.title)
        print(f"已创建早茶会「{meeting.title}」：{meeting.starts_at:%Y年}{meetings.when(meeting.starts_at)}，{meeting.venue}，"
              f"{meeting.capacity} 个座位，报名截止 {meetings.when(meeting.signup_deadline)}。编号 {meeting.id}")


EDITABLE = ("title", "venue", "theme", "host", "sector", "status", "capacity", "starts_at", "signup_deadline")


def cmd_meetings_edit(args, settings):
    if all(getattr(args, name) is None for name in EDITABLE):
        raise fail("没有要修改的内容：请至少给出 --title、--venue、--theme、--host、--sector、--starts-at、"
                   "--signup-deadline、--capacity、--status 中的一项")
    built = services.build(settings)
    with built.db.session() as session:
        meeting = _meeting(session, args.id)
        changes = {name: getattr(args, name) for name in ("title", "venue", "theme", "host", "sector", "status",
                                                           "capacity")}
        changes["starts_at"] = parse_time(args.starts_at) if args.starts_at else None
        changes["signup_deadline"] = parse_time(args.signup_deadline) if args.signup_deadline else None
        if args.capacity is not None and _capacity_problem(meeting, args.capacity):
            raise fail(_capacity_problem(meeting, args.capacity))
        promoted = meetings.edit(built, session, meeting, **changes)
        audit(session, "meeting.edit", str(meeting.id), ", ".join(n for n in EDITABLE if getattr(args, n) is not None))
        print(f"早茶会 {meeting.id}「{meeting.title}」已修改（{meetings.when(meeting.starts_at)}，{meeting.venue}，"
              f"座位 {meeting.seats_taken}/{meeting.capacity}，{MEETING_NAMES[meeting.status]}）"
              + (f"；候补中的 {len(promoted)} 位已转为确认并收到通知。" if promoted else "。"))


def cmd_meetings_list(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        rows = [{"id": m.id, "title": m.title, "theme": m.theme, "starts_at": m.starts_at.isoformat(),
                 "venue": m.venue, "capacity": m.capacity, "seats_taken": m.seats_taken,
                 "signup_deadline": m.signup_deadline.isoformat(), "status": m.status}
                for m in store.all_meetings(session)]
    emit(args, rows, lambda r: f"{r['id']:>4}  {r['starts_at'][:16].replace('T', ' ')}  {MEETING_NAMES[r['status']]:<5} "
              f"座位 {r['seats_taken']}/{r['capacity']}  {r['title']}  @{r['venue']}",
         empty="还没有早茶会（新建：python -m bot meetings create …）")


def _roster_line(r: dict) -> str:
    status = f"候补第{r['position']}位" if r["status"] == "waitlisted" else SIGNUP_NAMES[r["status"]]
    return (f"{r['position']:>3}  {status}{'（未到场）' if r['no_show'] else ''}  {r['seats']}人  "
            f"{r['name'] or r['user']}  {r['enterprise'] or '—'}  {r['phone'] or '—'}"
            + (f"  想反映：{r['topic'][:40]}" if r["topic"] else ""))


def cmd_meetings_attendees(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        _meeting(session, args.id)
        rows = _attendee_rows(session, args.id)
    if args.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(ROSTER_COLUMNS)
        for r in rows:
            writer.writerow([r["position"], r["name"], r["enterprise"], r["phone"], SIGNUP_NAMES[r["status"]], r["seats"],
                             "是" if r["no_show"] else "", r["topic"], r["user"]])
        sys.stdout.buffer.write(("\ufeff" + buffer.getvalue()).encode("utf-8"))   # Excel reads UTF-8 with a BOM
        return
    emit(args, rows, _roster_line, empty=f"早茶会 {args.id} 还没有人报名")


def cmd_meetings_show(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        meeting = _meeting(session, args.id)
        data = {"id": meeting.id, "title": meeting.title, "theme": meeting.theme, "host": meeting.host,
                "starts_at": meeting.starts_at.isoformat(), "venue": meeting.venue, "capacity": meeting.capacity,
                "seats_taken": meeting.seats_taken, "status": meeting.status,
                "signup_deadline": meeting.signup_deadline.isoformat(),
                "attendees": _attendee_rows(session, meeting.id),
                "tickets": [{"ticket": c.ticket_no, "enterprise": c.enterprise.name if c.enterprise else "",
                             "status": c.status, "description": c.description}
                            for c in store.tickets_raised(session, meeting.id)]}
        when, deadline = meetings.when(meeting.starts_at), meetings.when(meeting.signup_deadline)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return
    print(f"早茶会 {data['id']}「{data['title']}」{('（' + data['theme'] + '）') if data['theme'] else ''}")
    print(f"{when}，{data['venue']}；{MEETING_NAMES[data['status']]}，座位 {data['seats_taken']}/{data['capacity']}，"
          f"报名截止 {deadline}")
    attendees = data["attendees"]
    print(f"报名 {len(attendees)} 条：" if attendees else "还没有人报名。")
    for r in attendees:
        print("  " + _roster_line(r))
    tickets = data["tickets"]
    assigned = sum(1 for t in tickets if t["status"] != "received")
    print(f"诉求 {len(tickets)} 件，已交办 {assigned} 件" + ("：" if tickets else "。"))
    for t in tickets:
        print(f"  {t['ticket']}  {STATUS_NAMES[t['status']]}  {t['enterprise']}  {t['description'][:40]}")


def _signup_by_user(session, meeting_id: int, user: str):
    match = [s for s in store.roster(session, meeting_id) if user in (s.user.user_id, s.user.display_name)
             or (s.enterprise and s.enterprise.name == user)]
    if not match:
        raise fail(f"早茶会 {meeting_id} 的报名名单中没有“{user}”（可用微信号、姓名或企业全称）")
    return match


def cmd_meetings_checkin(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        _meeting(session, args.id)
        for record in _signup_by_user(session, args.id, args.user):
            meetings.check_in(session, record)
            audit(session, "meeting.checkin", str(args.id), record.user.user_id)
            who = record.user.display_name or record.user.user_id
            print(f"已签到：{who}" + (f"（{record.enterprise.name}）" if record.enterprise else "") + f"，{record.seats} 人。")


def cmd_meetings_finish(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        meeting = _meeting(session, args.id)
        no_shows = meetings.finish(session, meeting)
        audit(session, "meeting.finish", str(meeting.id), f"no-shows {no_shows}")
        print(f"早茶会 {meeting.id}「{meeting.title}」已标记为已举行，未到场 {no_shows} 人。")


def cmd_meetings_raise(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        meeting = _meeting(session, args.id)
        enterprise = enterprises.by_name(session, args.enterprise)
        if enterprise is None:
            raise fail(f"企业名录中没有「{args.enterprise}」（见 python -m bot enterprises list）")
        if not args.text.strip():
            raise fail("--text 问题内容不能为空")
        complaint = meetings.raise_topic(built, session, meeting, enterprise, args.text.strip(), args.category)
        if args.assign:
            complaints.assign(built, session, complaint, cli_actor(), department=args.assign)
        audit(session, "meeting.raise", str(meeting.id), complaint.ticket_no)
        print(f"已把「{enterprise.name}」在早茶会上提出的问题登记为{complaint.category}类诉求，"
              f"交{complaint.department}办理，工单号 {complaint.ticket_no}")


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
    m_edit.add_argument("--status", type=_meeting_status, help="报名中|报名截止|已举行|已取消 (or open|closed|held|cancelled)")
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

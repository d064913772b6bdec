"""Outreach on the command line: enterprises assign (包联), liaisons list/contact, visits add/list,
monitors add/remove/list, surveys create/list/preview/send/results/export/ticket/close."""
from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from bot import clock, services
from bot.cli.common import check_record_id, emit
from bot.complaints import reports
from bot.outreach import service as outreach
from bot.outreach import surveys, texts
from storage import outreach as store


def _day(value: str | None, label: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise SystemExit(f"错误：{label}应为 ISO 日期，如 2026-03-15")


# --- liaisons ---

def cmd_assign(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        enterprise = outreach.enterprise_named(session, args.enterprise)
        row = outreach.assign(session, enterprise, args.liaison, args.leader, args.key, actor="cli")
        leader = row.leader.username if row.leader else "—"
        key = "，重点企业" if store.KEY_TAG in (enterprise.tags or []) else ""
        print(f"「{enterprise.name}」联络员 {row.liaison.username}，包联领导 {leader}{key}")


def _assignment_row(session, row) -> dict:
    people = store.contacts(session, [row.liaison_id, row.leader_id])

    def person(account):
        if account is None:
            return None
        contact = people.get(account.id)
        return {"username": account.username, "name": contact.name if contact else "",
                "department": account.department, "phone": contact.phone if contact else "",
                "wecom_id": contact.wecom_id if contact else ""}
    return {"enterprise": row.enterprise.name, "key": store.KEY_TAG in (row.enterprise.tags or []),
            "liaison": person(row.liaison), "leader": person(row.leader)}


def cmd_liaisons_list(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        account = outreach.account_named(session, args.liaison) if args.liaison else None
        rows = [_assignment_row(session, r) for r in store.assignments(session, account.id if account else None)]
    emit(args, rows, lambda r: f"{r['enterprise']}{'（重点）' if r['key'] else ''}  "
                               f"联络员 {(r['liaison'] or {}).get('username', '—')}  "
                               f"包联领导 {(r['leader'] or {}).get('username', '—')}")


def cmd_liaisons_contact(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        contact = outreach.set_contact(session, args.username, args.name, args.wecom_id, args.phone)
        print(f"{args.username}：{contact.name or '—'}，企业微信 {contact.wecom_id or '—'}，电话 {contact.phone or '—'}")


# --- visits ---

def cmd_visits_add(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        enterprise = outreach.enterprise_named(session, args.enterprise)
        visit = outreach.record_visit(built, session, enterprise, _day(args.date, "--date") or clock.today(),
                                      args.by, args.notes or "", args.problem or [], "cli", args.kind, args.met or "")
        session.flush()
        tickets, visit_id = list(visit.tickets), visit.id
    if tickets:
        print(f"问题已登记为工单：{'、'.join(tickets)}")
    print(f"已记录{args.kind}：{args.enterprise}，编号 {visit_id}")


def cmd_visits_list(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        ids = [outreach.enterprise_named(session, args.enterprise).id] if args.enterprise else None
        rows = [{"id": v.id, "date": v.visited_on.isoformat(), "kind": v.kind, "enterprise": v.enterprise.name,
                 "staff": v.staff, "met": v.met, "notes": v.notes, "tickets": v.tickets}
                for v in store.visits(session, ids, since=_day(args.since, "--since"))]
    emit(args, rows, lambda r: f"{r['id']:>5}  {r['date']}  {r['kind']}  {r['enterprise']}  {r['staff']}  "
                               f"{r['notes'][:40]}  {' '.join(r['tickets'])}")


# --- monitors ---

def cmd_monitors_set(args, settings):
    built = services.build(settings)
    on = args.sub == "add"
    with built.db.session() as session:
        user = outreach.set_monitor(session, args.channel, args.user, on)
        name = user.enterprise.name if user.enterprise else ""
    print(f"{args.channel}:{args.user}（{name}）{'已设为' if on else '不再是'}营商环境监测员")


def cmd_monitors_list(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        rows = [{"user": u.user_id, "channel": u.channel, "name": u.display_name, "enterprise": u.enterprise.name}
                for u in store.monitors(session)]
    emit(args, rows, lambda r: f"{r['channel']}:{r['user']}  {r['name']}  {r['enterprise']}")


# --- surveys ---

def _survey(session, survey_id: int):
    found = store.get_survey(session, check_record_id(survey_id, "问卷"))
    if found is None:
        raise SystemExit(f"错误：没有编号为 {survey_id} 的问卷")
    return found


def cmd_surveys_create(args, settings):
    data = surveys.read_yaml(Path(args.file).read_text(encoding="utf-8-sig"))
    built = services.build(settings)
    with built.db.session() as session:
        survey = surveys.create(session, data.get("title"), data.get("purpose"), data.get("questions"),
                                data.get("intro") or "", actor="cli")
        session.flush()
        print(f"问卷已创建（{len(survey.questions)} 题，草稿），编号 {survey.id}")


def cmd_surveys_list(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        rows = []
        for s in store.surveys(session):
            figures = surveys.results(session, s)
            rows.append({"id": s.id, "title": s.title, "purpose": s.purpose, "status": s.status, "target": s.target,
                         "questions": len(s.questions), "sent": figures["sent"], "enterprises": figures["enterprises"],
                         "answered": figures["answered"]})
    emit(args, rows, lambda r: f"{r['id']:>4}  {texts.SURVEY_STATUS[r['status']]}  {r['purpose']}  {r['title']}  "
                               f"{r['answered']}/{r['enterprises']} 家已答")


def cmd_surveys_preview(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        survey = _survey(session, args.id)
        figures = surveys.reach(session, args.to)
        print(f"发送对象 {args.to}：{figures['people']} 人，{figures['enterprises']} 家企业")
        print(f"【{survey.title}】\n{surveys.invitation(survey)}")
        for n in range(len(survey.questions)):
            print(surveys.question_text(survey, n))


def cmd_surveys_send(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        people = surveys.reach(session, args.to)["people"]
        survey_id = surveys.send(built, session, _survey(session, args.id), args.to, actor=args.actor).id
    print(f"问卷已交给发送队列（{people} 人），编号 {survey_id}")


def cmd_surveys_results(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        figures = surveys.results(session, _survey(session, args.id))
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    rate = figures["response_rate"]
    print(f"{figures['title']}（{figures['purpose']}）：发送 {figures['sent']}/{figures['recipients']} 人，"
          f"{figures['answered']}/{figures['enterprises']} 家企业已答，回收率 {'—' if rate is None else f'{rate:.0%}'}")
    for n, q in enumerate(figures["questions"], 1):
        answers = q["answers"]
        shown = "；".join(a[:40] for a in answers) if isinstance(answers, list) else \
            "，".join(f"{k} {v}" for k, v in answers.items())
        print(f"{n}. {q['text']}：{shown or '—'}")


def cmd_surveys_export(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        header, rows = surveys.export_rows(session, _survey(session, args.id))
    data = surveys.export_xlsx(header, rows) if args.format == "xlsx" else reports.csv_bytes(header, rows)
    Path(args.out).write_bytes(data)
    print(f"{len(rows)} 份答卷已导出到 {args.out}")


def cmd_surveys_ticket(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        survey = _survey(session, args.id)
        response = store.get_response(session, check_record_id(args.response, "答卷"))
        if response is None:
            raise SystemExit(f"错误：没有编号为 {args.response} 的答卷")
        complaint, merged = surveys.to_ticket(built, session, survey, response, args.question - 1, "cli")
        ticket = complaint.ticket_no
    print(f"同一事项已在办理，已并入工单 {ticket}" if merged else f"已转为诉求（来源：问需），工单号 {ticket}")


def cmd_surveys_close(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        survey = surveys.close(_survey(session, args.id))
        print(f"问卷「{survey.title}」已结束收集")


def _subcommands(sub, name: str):
    """The subcommands of a group another module registered (`enterprises`: bot/cli/directory.py)."""
    return next(a for a in sub.choices[name]._actions if isinstance(a, argparse._SubParsersAction))


def register(sub) -> None:
    assign = _subcommands(sub, "enterprises").add_parser("assign", help="an enterprise's liaison (包联) and leading cadre")
    assign.add_argument("enterprise", help="the enterprise's full name")
    assign.add_argument("--liaison", required=True, help="the liaison officer's console username")
    assign.add_argument("--leader", help="the leading cadre's username (omitted: unchanged; \"\": nobody)")
    assign.add_argument("--key", action=argparse.BooleanOptionalAction, default=None, help="mark as 重点企业 (--no-key: unmark)")
    assign.set_defaults(fn=cmd_assign)
    lia = sub.add_parser("liaisons", help="liaison officers and their enterprises").add_subparsers(dest="sub", required=True)
    l_list = lia.add_parser("list", help="enterprises with their liaison and leader")
    l_list.add_argument("--liaison", help="only this staff member's enterprises")
    l_list.add_argument("--json", action="store_true")
    l_list.set_defaults(fn=cmd_liaisons_list)
    contact = lia.add_parser("contact", help="a staff member's name, WeCom id and phone, told to their enterprises")
    contact.add_argument("username")
    contact.add_argument("--name")
    contact.add_argument("--wecom-id", dest="wecom_id", help="WeCom userid: their enterprises' tickets are sent there")
    contact.add_argument("--phone")
    contact.set_defaults(fn=cmd_liaisons_contact)
    vis = sub.add_parser("visits", help="visits (走访记录)").add_subparsers(dest="sub", required=True)
    v_add = vis.add_parser("add", help="record a visit; each --problem becomes a ticket (source 走访); prints the id")
    v_add.add_argument("--enterprise", required=True)
    v_add.add_argument("--by", required=True, help="who went (park side), e.g. \"张伟,李娜\"")
    v_add.add_argument("--date", help="ISO date (default today)")
    v_add.add_argument("--kind", default="走访", choices=texts.VISIT_KINDS)
    v_add.add_argument("--met", help="whom they met at the enterprise")
    v_add.add_argument("--notes")
    v_add.add_argument("--problem", action="append", help="a problem raised (repeatable)")
    v_add.set_defaults(fn=cmd_visits_add)
    v_list = vis.add_parser("list", help="visits, newest first")
    v_list.add_argument("--enterprise")
    v_list.add_argument("--since")
    v_list.add_argument("--json", action="store_true")
    v_list.set_defaults(fn=cmd_visits_list)
    mon = sub.add_parser("monitors", help="business-environment monitors (监测员)").add_subparsers(dest="sub", required=True)
    for name, text in (("add", "make a verified member a monitor"), ("remove", "a monitor no more")):
        one = mon.add_parser(name, help=text)
        one.add_argument("user", help="the channel user id (openid)")
        one.add_argument("--channel", default="wechat", choices=("wechat", "wecom"))
        one.set_defaults(fn=cmd_monitors_set)
    m_list = mon.add_parser("list")
    m_list.add_argument("--json", action="store_true")
    m_list.set_defaults(fn=cmd_monitors_list)
    _register_surveys(sub)


def _register_surveys(sub) -> None:
    srv = sub.add_parser("surveys", help="三问三促 surveys").add_subparsers(dest="sub", required=True)
    create = srv.add_parser("create", help="a survey from YAML (title, purpose, questions); prints the id")
    create.add_argument("file")
    create.set_defaults(fn=cmd_surveys_create)
    lst = srv.add_parser("list")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(fn=cmd_surveys_list)
    for name, fn, text in (("preview", cmd_surveys_preview, "who a target reaches and what they will read"),
                           ("send", cmd_surveys_send, "send to all, topic:, tag: or liaison:USERNAME")):
        one = srv.add_parser(name, help=text)
        one.add_argument("id", type=int)
        one.add_argument("--to", required=True)
        one.add_argument("--actor", default="cli")
        one.set_defaults(fn=fn)
    res = srv.add_parser("results", help="recipients sent to, enterprises that answered, each question's answers")
    res.add_argument("id", type=int)
    res.add_argument("--json", action="store_true")
    res.set_defaults(fn=cmd_surveys_results)
    exp = srv.add_parser("export", help="one row per enterprise, Chinese headers")
    exp.add_argument("id", type=int)
    exp.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    exp.add_argument("--out", required=True)
    exp.set_defaults(fn=cmd_surveys_export)
    tick = srv.add_parser("ticket", help="turn a free-text answer into a ticket (source 问需)")
    tick.add_argument("id", type=int)
    tick.add_argument("--response", type=int, required=True, help="the answer sheet's number (see results --json)")
    tick.add_argument("--question", type=int, required=True, help="the question's number, from 1")
    tick.set_defaults(fn=cmd_surveys_ticket)
    cls = srv.add_parser("close", help="stop taking answers")
    cls.add_argument("id", type=int)
    cls.set_defaults(fn=cmd_surveys_close)

"""Outreach (issue 17): liaisons (包联), visits, monitors and 三问三促 surveys, through the real entries —
signed Official Account callbacks, the console (login, CSRF) and the CLI."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import GroupMember, OfficialAccountUser, console_login, csrf
from openpyxl import load_workbook

from bot import clock
from bot.complaints import reports
from bot.complaints import service as complaint_service
from bot.outreach import service as outreach
from bot.outreach import surveys
from storage import complaints as complaint_store
from storage import enterprises, identity, staff, users
from storage import outreach as store
from storage.models import utcnow

ROOT = Path(__file__).resolve().parent.parent
WECOM_SEND = "/cgi-bin/message/send"
OA_SEND, OA_TEMPLATE = "/cgi-bin/message/custom/send", "/cgi-bin/message/template/send"
FIRM, OTHER, LONE = "滇中新材料有限公司", "楚雄云药业有限公司", "大理数字科技有限公司"
QUESTIONS = [
    {"text": "贵企业目前的生产经营状况？", "type": "single", "options": ["满负荷生产", "基本正常", "开工不足"]},
    {"text": "最需要园区帮助的方面", "type": "multiple", "options": ["融资", "用工", "用地", "物流"]},
    {"text": "对园区政务服务的总体评价", "type": "scale", "options": []},
    {"text": "还有什么具体困难或建议？", "type": "text", "options": []},
]


@pytest.fixture
def park(services):
    """Two enterprises served by liaison zhangwei (FIRM a key one, led by lijun), one without a liaison;
    verified owners owner-a (FIRM), owner-a2 (FIRM's colleague), owner-b (OTHER), owner-c (LONE)."""
    with services.db.session() as session:
        staff.add(session, "admin1", "admin-pass-1", "admin")
        liaison = staff.add(session, "zhangwei", "zhangwei-pass-1", "staff", department="经发局")
        leader = staff.add(session, "lijun", "lijun-pass-1", "staff", department="园区管委会")
        store.set_contact(session, liaison, "张伟", "zhangwei-wx", "13800001111")
        store.set_contact(session, leader, "李军", "lijun-wx", "13900002222")
        for name in (FIRM, OTHER, LONE):
            enterprises.upsert(session, name, industry="新材料")
        firm, other = enterprises.by_name(session, FIRM), enterprises.by_name(session, OTHER)
        store.assign(session, firm, liaison, leader, "test")
        store.assign(session, other, liaison, None, "test")
        enterprises.set_tags(firm, [store.KEY_TAG])
        for openid, name in (("owner-a", FIRM), ("owner-a2", FIRM), ("owner-b", OTHER), ("owner-c", LONE)):
            member = users.get_or_create(session, "wechat", openid, openid)
            identity.staff_link(session, member, enterprises.by_name(session, name), "test")
    return services


def _survey(services, target="all", questions=QUESTIONS) -> int:
    with services.db.session() as session:
        survey = surveys.create(session, "四季度问需于企", "问需", questions, "请抽一分钟回答。", actor="test")
        surveys.send(services, session, survey, target, actor="test")
        return survey.id


def _sent_to(fake_api, *paths) -> list[str]:
    """Who was pushed to: Official Account users (a custom message, or a template one outside the 48 hours)."""
    return [c["body"].get("touser") for c in fake_api.calls if c["path"] in (paths or (OA_SEND, OA_TEMPLATE))]


def _texts(fake_api) -> list[str]:
    return [c["body"]["text"]["content"] if c["path"] == OA_SEND else c["body"]["data"]["keyword1"]["value"]
            for c in fake_api.calls if c["path"] in (OA_SEND, OA_TEMPLATE)]


# --- 我的联络员是谁 ---

def test_a_verified_owner_is_told_their_liaison_and_nobody_else_is(client, settings, park):
    owner = OfficialAccountUser(client, settings, "owner-a")
    reply = owner.say("我的联络员是谁")
    assert "张伟" in reply and "经发局" in reply and "13800001111" in reply and "李军" in reply
    assert "张伟" in OfficialAccountUser(client, settings, "owner-b").say("有事找谁")
    traditional = owner.say("我的聯絡員是誰")
    assert "聯絡員" in traditional and "張偉" in traditional and "13800001111" in traditional
    assert "暂未安排专属联络员" in OfficialAccountUser(client, settings, "owner-c").say("有事找谁")
    stranger = OfficialAccountUser(client, settings, "stranger").say("我的联络员是谁")
    assert "13800001111" not in stranger and "已认证的企业成员" in stranger


# --- surveys in the chat ---

def test_a_survey_reaches_verified_members_and_is_answered_one_question_at_a_time(client, settings, park, fake_api):
    survey_id = _survey(park)
    assert sorted(_sent_to(fake_api)) == ["owner-a", "owner-a2", "owner-b", "owner-c"]
    assert "回复“问卷”开始填写" in _texts(fake_api)[0]
    owner = OfficialAccountUser(client, settings, "owner-a")
    first = owner.say("问卷")
    assert "（1/4）贵企业目前的生产经营状况？" in first and "1. 满负荷生产" in first
    assert "（2/4）" in owner.say("2")
    assert "（3/4）" in owner.say("1,3")
    assert "（4/4）" in owner.say("5分")
    assert "已填写完毕" in owner.say("招工难，缺少熟练技术工人，希望园区组织专场招聘会")
    colleague = OfficialAccountUser(client, settings, "owner-a2").say("问卷")
    assert "已于" in colleague and "每家企业填一份" in colleague
    with park.db.session() as session:
        results = surveys.results(session, store.get_survey(session, survey_id))
    assert (results["sent"], results["enterprises"], results["answered"]) == (4, 3, 1)
    assert results["questions"][0]["answers"] == {"满负荷生产": 0, "基本正常": 1, "开工不足": 0}
    assert results["questions"][1]["answers"] == {"融资": 1, "用工": 0, "用地": 1, "物流": 0}
    assert results["questions"][2]["answers"]["5"] == 1
    assert results["questions"][3]["answers"] == ["招工难，缺少熟练技术工人，希望园区组织专场招聘会"]


def test_skip_cancel_resume_traditional_and_a_digression_that_keeps_the_question(client, settings, park, fake_api):
    _survey(park)
    owner = OfficialAccountUser(client, settings, "owner-b")
    owner.say("填写问卷")
    assert "（2/4）" in owner.say("跳過")                                  # Traditional 跳过
    digression = owner.say("我的联络员是谁")
    assert "张伟" in digression and "第 2 题还在等您" in digression
    assert "（3/4）" in owner.say("融資、用工")                              # Traditional options
    paused = owner.say("取消")           # written alike in both scripts: answered in the last one the owner used
    assert "暫停" in paused and "已答的 2 題已保存" in paused
    assert "张伟" in owner.say("有事找谁")                                    # no survey pending now
    resumed = owner.say("问卷")
    assert "已答 2/4 题" in resumed and "（3/4）" in resumed
    ttl = park.redis.ttl("conv:wechat:-:owner-b")
    assert 6 * 86400 < ttl <= 7 * 86400                                       # resumable for 7 days
    assert "没看明白" in owner.say("还行吧")                                  # not a 1–5 answer: asked again
    assert "（4/4）" in owner.say("四")
    assert "已填写完毕" in owner.say("跳过")


def test_one_reminder_goes_to_those_who_have_not_answered(client, settings, park, fake_api):
    survey_id = _survey(park)
    owner = OfficialAccountUser(client, settings, "owner-a")
    owner.say("问卷")
    for answer in ("1", "1", "3", "跳过"):
        owner.say(answer)
    fake_api.calls.clear()
    assert surveys.remind(park, utcnow() + timedelta(days=1)) == 0            # too early
    later = utcnow() + timedelta(days=4)
    assert surveys.remind(park, later) == 2
    assert sorted(_sent_to(fake_api)) == ["owner-b", "owner-c"]               # FIRM answered: neither colleague
    assert "还未填写" in _texts(fake_api)[0]
    assert surveys.remind(park, later + timedelta(days=3)) == 0               # once
    with park.db.session() as session:
        assert store.get_survey(session, survey_id).reminder_broadcast_id is not None


def test_a_closed_survey_takes_no_more_answers_and_a_group_is_asked_to_go_private(client, settings, park, fake_api):
    survey_id = _survey(park)
    owner = OfficialAccountUser(client, settings, "owner-b")
    owner.say("问卷")
    with park.db.session() as session:
        surveys.close(store.get_survey(session, survey_id))
    assert "已结束收集" in owner.say("1")
    assert "没有需要贵企业填写的问卷" in owner.say("问卷")
    assert "私聊" in GroupMember(client, settings, "老板", "wxid-b").say("问卷", mentioned=True)


def test_a_liaison_target_reaches_only_their_enterprises(park, fake_api):
    with park.db.session() as session:
        assert surveys.reach(session, "liaison:zhangwei") == {"people": 3, "enterprises": 2}
        assert surveys.reach(session, "tag:重点企业") == {"people": 2, "enterprises": 1}
        with pytest.raises(surveys.SurveyError):
            surveys.recipients(session, "group:chat-1")
        with pytest.raises(surveys.SurveyError):
            surveys.create(session, "太短", "问需", QUESTIONS[:2])


# --- tickets told to the liaison, the leading cadre, the supervisor ---

def test_tickets_are_told_to_the_liaison_overdue_ones_to_the_leader(client, settings, park, fake_api):
    reply = OfficialAccountUser(client, settings, "owner-a").say("厂区门口的路灯坏了一个月了，晚上很不安全")
    assert "TS" in reply
    assert any("zhangwei-wx" in (to or "").split("|") for to in _sent_to(fake_api, WECOM_SEND))
    fake_api.calls.clear()
    with park.db.session() as session:
        ticket = complaint_store.listing(session)[0]
        due = ticket.due
    complaint_service.deadline_checks(park, today=due + timedelta(days=3))
    told = [to.split("|") for to in _sent_to(fake_api, WECOM_SEND)]
    assert any("lijun-wx" in to for to in told)


def test_a_monitors_ticket_carries_source_jianceyuan_and_reaches_the_supervisor(client, settings, park, fake_api):
    with park.db.session() as session:
        store.set_monitor(users.find(session, "wechat", "owner-b"), True)
    OfficialAccountUser(client, settings, "owner-b").say("园区内部道路货车乱停，堵塞消防通道，存在安全隐患")
    with park.db.session() as session:
        assert complaint_store.listing(session)[0].source == "监测员"
    told = [to.split("|") for to in _sent_to(fake_api, WECOM_SEND)]
    assert park.complaint_rules.supervisor and any(set(park.complaint_rules.supervisor) & set(to) for to in told)
    assert any("zhangwei-wx" in to for to in told)                            # and OTHER's liaison


# --- the console ---

def _login(client, username="admin1", password="admin-pass-1"):
    assert console_login(client, username, password).status_code == 302


def _table(page: str, table_id: str) -> str:
    start = page.index(f'id="{table_id}"')
    return page[start:page.index("</table>", start)]


def _form(**fields) -> dict:
    data = {"title": "四季度问需于企", "purpose": "问需", "intro": ""}
    for n, q in enumerate(QUESTIONS, 1):
        data[f"q{n}_text"], data[f"q{n}_type"], data[f"q{n}_options"] = q["text"], q["type"], "\n".join(q["options"])
    data.update(fields)
    return data


def test_console_compose_preview_send_results_export_and_ticket(client, settings, park, fake_api):
    _login(client)
    token = csrf(client, "/admin/surveys")
    refused = client.post("/admin/surveys", data=_form(q2_text="", q3_text="", q4_text="", csrf_token=token))
    assert refused.status_code == 400 and "3–10 道题" in refused.get_data(as_text=True)
    created = client.post("/admin/surveys", data=_form(csrf_token=token))
    assert created.status_code == 302
    detail = created.headers["Location"]
    preview = client.get(detail + "?to=liaison:zhangwei").get_data(as_text=True)
    assert "（1/4）贵企业目前的生产经营状况？" in preview and "<b>3</b> 位企业成员" in preview and "<b>2</b> 家企业" in preview
    assert not _sent_to(fake_api)                                             # a preview sends nothing
    sent = client.post(detail + "/send", data={"target": "liaison:zhangwei", "csrf_token": csrf(client, detail)})
    assert sent.status_code == 302 and sorted(_sent_to(fake_api)) == ["owner-a", "owner-a2", "owner-b"]
    for openid, answers in (("owner-a", ("1", "2", "4", "新厂房用电报装进度慢，影响投产")),
                            ("owner-b", ("2", "1 2", "5", "跳过"))):
        owner = OfficialAccountUser(client, settings, openid)
        owner.say("问卷")
        for answer in answers:
            owner.say(answer)
    results_url = detail + "/results"
    page = client.get(results_url).get_data(as_text=True)
    assert "2</b>家企业已答" in page and "100%" in page and "<svg" in page and "新厂房用电报装进度慢" in page
    exported = client.get(detail + "/export.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["企业名称", "填写人", "提交时间"] and rows[0][3].startswith("1. 贵企业")
    assert sorted(r[0] for r in rows[1:]) == sorted([FIRM, OTHER])
    book = load_workbook(io.BytesIO(client.get(detail + "/export.xlsx").data))
    assert book.active["A1"].value == "企业名称" and book.active.max_row == 3
    with park.db.session() as session:
        response = store.response_of(session, int(detail.rsplit("/", 1)[1]), enterprises.by_name(session, FIRM).id)
        response_id = response.id
    ticketed = client.post(f"{detail}/responses/{response_id}/ticket/3", data={"csrf_token": csrf(client, results_url)})
    assert ticketed.status_code == 302
    with park.db.session() as session:
        ticket = complaint_store.listing(session)[0]
        assert ticket.source == "问需" and ticket.enterprise.name == FIRM and "新厂房用电报装进度慢" in ticket.description
    page = client.get(results_url).get_data(as_text=True)
    assert ticket.ticket_no in page
    again = client.post(f"{detail}/responses/{response_id}/ticket/3", data={"csrf_token": csrf(client, results_url)},
                        follow_redirects=True)
    assert "已转为诉求" in again.get_data(as_text=True)
    with park.db.session() as session:
        assert complaint_store.count(session) == 1


def test_console_my_enterprises_visit_log_assignment_contact_and_monitors(client, settings, park, fake_api):
    OfficialAccountUser(client, settings, "owner-a").say("厂区门口的路灯坏了一个月了，晚上很不安全")
    _login(client, "zhangwei", "zhangwei-pass-1")
    mine = _table(client.get("/admin/outreach").get_data(as_text=True), "my-enterprises")
    assert FIRM in mine and OTHER in mine and LONE not in mine and "重点" in mine and "TS" in mine and "（消息）" in mine
    token = csrf(client, "/admin/outreach/visits")
    done = client.post("/admin/outreach/visits", data={
        "enterprise": OTHER, "visited_on": clock.today().isoformat(), "kind": "走访", "staff": "张伟、李军",
        "notes": "了解扩产进度", "problems": "新厂房用电报装进度慢\n缺少熟练技术工人", "csrf_token": token},
        follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "问题已登记为工单" in page and "了解扩产进度" in page
    with park.db.session() as session:
        raised = [c for c in complaint_store.listing(session) if c.source == "走访"]
        assert len(raised) == 2 and {c.enterprise.name for c in raised} == {OTHER}
    assert "（走访）" in _table(client.get("/admin/outreach").get_data(as_text=True), "my-enterprises")
    token = csrf(client, "/admin/outreach")
    client.post("/admin/outreach/contact", data={"name": "张伟", "wecom_id": "zw", "phone": "13700003333", "csrf_token": token})
    assert "13700003333" in OfficialAccountUser(client, settings, "owner-b").say("我的联络员是谁")
    client.post("/admin/outreach/assign", data={"enterprise": LONE, "liaison": "zhangwei", "leader": "", "key": "1",
                                                "csrf_token": token})
    assert LONE in _table(client.get("/admin/outreach").get_data(as_text=True), "my-enterprises")
    client.post("/admin/outreach/monitors", data={"user": "owner-c", "csrf_token": token})
    with park.db.session() as session:
        assert store.is_monitor(users.find(session, "wechat", "owner-c"))
        assert store.KEY_TAG in enterprises.by_name(session, LONE).tags
    admin = client.application.test_client()
    _login(admin)
    audit = admin.get("/admin/audit").get_data(as_text=True)        # the user and the role in words, not codes
    assert "公众号用户（owner-c）" in audit and "监测员" in audit and "wechat:owner-c" not in audit
    forbidden = client.post("/admin/outreach/contact", data={"username": "lijun", "phone": "1", "csrf_token": token})
    assert forbidden.status_code == 403


def test_the_roster_import_takes_liaison_and_leader_columns(client, park):
    _login(client)
    roster = ("name,industry,tags,liaison,leader\n"
              "普洱茶业有限公司,茶叶加工,重点企业,zhangwei,lijun\n"
              f"{LONE},数字经济,,lijun,\n")
    done = client.post("/admin/enterprises/import", data={
        "file": (io.BytesIO(roster.encode("utf-8")), "roster.csv"), "csrf_token": csrf(client, "/admin/enterprises")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "新增 1 家" in done.get_data(as_text=True)
    with park.db.session() as session:
        tea = store.liaison_of(session, enterprises.by_name(session, "普洱茶业有限公司").id)
        assert (tea.liaison.username, tea.leader.username) == ("zhangwei", "lijun")
        assert store.liaison_of(session, enterprises.by_name(session, LONE).id).liaison.username == "lijun"
    bad = client.post("/admin/enterprises/import", data={
        "file": (io.BytesIO(b"name,liaison\nX\xe5\x85\xac\xe5\x8f\xb8,nobody\n"), "roster.csv"),
        "csrf_token": csrf(client, "/admin/enterprises")}, content_type="multipart/form-data", follow_redirects=True)
    assert "nobody" in bad.get_data(as_text=True)
    with park.db.session() as session:
        assert enterprises.by_name(session, "X公司") is None                 # nothing of a refused file is kept


def test_the_dashboard_and_stats_show_the_quarters_outreach(client, settings, park, fake_api):
    _survey(park)
    owner = OfficialAccountUser(client, settings, "owner-a")
    owner.say("问卷")
    for answer in ("1", "1", "3", "跳过"):
        owner.say(answer)
    with park.db.session() as session:
        outreach.record_visit(park, session, enterprises.by_name(session, FIRM), clock.today(), "张伟", "座谈",
                              ["希望协调银行贷款"], "test")
    _login(client)
    page = client.get("/admin/").get_data(as_text=True)
    assert "走访" in page and "联系企业" in page and "问卷回收率" in page and "33%" in page
    with park.db.session() as session:
        figures = reports.stats(session, clock.today().replace(day=1))
    outreach_figures = figures["outreach"]
    assert outreach_figures["visits"] == 1 and outreach_figures["key_enterprises_visited"] == 1
    assert outreach_figures["tickets_by_source"]["走访"] == 1
    assert outreach_figures["survey_response_rate"] == pytest.approx(0.333, abs=0.001)
    assert outreach_figures["enterprises_contacted"] >= 1
    assert "走访企业1家" in reports.summary_line(figures)


# --- the command line ---

@pytest.fixture
def run_cli(cli_env, fake_api):
    """`python -m bot …` on the test database and Redis, pushing to the fake WeChat/WeCom API."""
    env = dict(cli_env, WECHAT_API_BASE=fake_api.base, WECOM_API_BASE=fake_api.base)

    def run(*args, check=True):
        done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        if check:
            assert done.returncode == 0, done.stderr
            return done.stdout
        return done
    return run


def test_cli_assign_contact_visits_monitors_and_surveys(park, run_cli, tmp_path, fake_api):
    assert "联络员 lijun" in run_cli("enterprises", "assign", LONE, "--liaison", "lijun", "--key")
    run_cli("liaisons", "contact", "lijun", "--phone", "13500004444", "--wecom-id", "lijun-wx")
    listing = json.loads(run_cli("liaisons", "list", "--liaison", "lijun", "--json"))
    assert {"enterprise": LONE, "key": True, "leader": None, "liaison": {
        "username": "lijun", "name": "李军", "department": "园区管委会", "phone": "13500004444",
        "wecom_id": "lijun-wx"}} in listing
    missing = run_cli("enterprises", "assign", "不存在的公司", "--liaison", "lijun", check=False)
    assert missing.returncode != 0 and "没有「不存在的公司」" in missing.stderr and "Traceback" not in missing.stderr
    out = run_cli("visits", "add", "--enterprise", FIRM, "--by", "张伟", "--notes", "调研达产情况",
                  "--problem", "希望协调银行贷款解决流动资金紧张")
    visit_id = out.split()[-1]
    assert visit_id.isdigit() and "TS" in out
    visits = json.loads(run_cli("visits", "list", "--json"))
    assert visits[0]["enterprise"] == FIRM and len(visits[0]["tickets"]) == 1
    assert "已设为营商环境监测员" in run_cli("monitors", "add", "owner-b")
    assert json.loads(run_cli("monitors", "list", "--json"))[0]["enterprise"] == OTHER
    survey_file = tmp_path / "survey.yaml"
    survey_file.write_text("title: 问效于企\npurpose: 问效\nquestions:\n"
                           "  - {text: 办事是否方便, type: single, options: [方便, 一般, 不方便]}\n"
                           "  - {text: 服务评分, type: scale}\n  - {text: 意见建议, type: text}\n", encoding="utf-8")
    survey_id = run_cli("surveys", "create", str(survey_file)).split()[-1]
    assert "3 人，2 家企业" in run_cli("surveys", "preview", survey_id, "--to", "liaison:zhangwei")
    assert run_cli("surveys", "send", survey_id, "--to", "tag:重点企业").split()[-1] == survey_id
    run_cli("worker", "--burst")
    results = json.loads(run_cli("surveys", "results", survey_id, "--json"))
    assert {"id", "sent", "answered", "questions"} <= set(results)
    assert results["sent"] >= 1 and results["answered"] == 0
    assert results["questions"][0]["answers"] == {"方便": 0, "一般": 0, "不方便": 0}
    twice = run_cli("surveys", "send", survey_id, "--to", "all", check=False)
    assert twice.returncode != 0 and "已发送过" in twice.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\npurpose: 问天\nquestions: []\n", encoding="utf-8")
    refused = run_cli("surveys", "create", str(bad), check=False)
    assert refused.returncode != 0 and "问政、问需、问效" in refused.stderr
    out_file = tmp_path / "results.xlsx"
    run_cli("surveys", "export", survey_id, "--format", "xlsx", "--out", str(out_file))
    assert out_file.stat().st_size > 0
    stats = json.loads(run_cli("stats", "--json"))
    assert stats["outreach"]["visits"] == 1 and stats["outreach"]["tickets_by_source"]["走访"] == 1

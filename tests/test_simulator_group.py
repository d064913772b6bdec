"""The chat simulator acting as a WeCom group talking to the intelligent robot (issue 18), through the
real app: a staff member makes a group (sim-…) with two members (sim-…), types as either, with or
without @联企助手; the simulator posts the encrypted callback WeCom would, shows the robot's stream
answer, its later answers through response_url and the private pushes to a member. And the robot's
own enter-chat welcome, which is not a "关注" (tests/aibot_payloads.py builds that callback)."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from aibot_payloads import WeComRobotServer, event_message
from helpers import console_login, csrf

from storage import enterprises, staff, users
from storage.models import AuditEntry, Complaint, InboundMessage

GROUP = "sim-liangqi1"
TICKET = re.compile(r"TS\d{13}")


def _client(app, username="clerk", password="clerk-pass-1", role="staff"):
    """A console login sending the simulator page's CSRF token, as the page does."""
    with app.extensions["bot"].db.session() as session:
        staff.add(session, username, password, role)
    client = app.test_client()
    assert console_login(client, username, password).status_code == 302
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf(client, "/") if role != "viewer" else csrf(client, "/admin/")
    return client


def _group(make_app, **changes):
    app = make_app(simulator=True, **changes)
    services = app.extensions["bot"]
    with services.db.session() as session:
        enterprises.upsert(session, "金马物流有限公司")
    client = _client(app)
    for user, name, firm in (("sim-li", "李经理", "金马物流有限公司"), ("sim-wang", "王会计", "")):
        made = client.post("/simulator/user", json={"mode": "group", "user": user, "name": name, "enterprise": firm})
        assert made.status_code == 200, made.get_json()
    return client, services


def _say(client, user: str, text: str, mention: bool = True, chat: str = GROUP) -> dict:
    answer = client.post("/simulator/send", json={"mode": "group", "chat": chat, "user": user, "text": text,
                                                  "mention": mention})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _stored(services) -> list[InboundMessage]:
    with services.db.session() as session:
        rows = session.query(InboundMessage).order_by(InboundMessage.id).all()
        session.expunge_all()
        return rows


def test_a_group_of_two_members_talks_to_the_robot_only_when_it_is_mentioned(make_app):
    client, services = _group(make_app)
    asked = _say(client, "sim-li", "你能干什么")
    assert asked["delivered"] is True and asked["status"] == 200 and "园区联企助手" in asked["reply"]

    chatter = _say(client, "sim-wang", "西区又停电了，生产线全停，三天了", mention=False)
    assert chatter == {"status": None, "reply": None, "delivered": False, "msgid": None}
    assert [m.text for m in _stored(services)] == ["你能干什么"]          # WeCom told the robot nothing

    filed = _say(client, "sim-wang", "@联企助手 西区又停电了，生产线全停，三天了", mention=False)   # typed the @ itself
    assert filed["delivered"] is True and TICKET.search(filed["reply"])
    with services.db.session() as session:
        complaint = session.query(Complaint).one()
        assert complaint.source == "wecom" and complaint.description == "西区又停电了，生产线全停，三天了"
        assert complaint.ticket_no == TICKET.search(filed["reply"]).group(0)

    listed = client.get("/simulator/users?mode=group").get_json()["users"]
    assert {"user": "sim-li", "name": "李经理", "enterprise": "金马物流有限公司"} in listed
    assert {p["user"] for p in listed} == {"sim-li", "sim-wang"}
    assert client.get("/simulator/users").get_json()["users"] == []       # followers are another list


def test_a_complaint_from_a_member_is_filed_for_their_firm_and_stored_as_a_group_message(make_app):
    client, services = _group(make_app)
    answer = _say(client, "sim-li", "园区北门道路塌陷一个星期了，货车进不来")
    ticket = TICKET.search(answer["reply"]).group(0)
    with services.db.session() as session:
        complaint = session.query(Complaint).filter_by(ticket_no=ticket).one()
        assert complaint.enterprise.name == "金马物流有限公司" and complaint.source == "wecom"
        assert complaint.user_ref == users.find(session, "wecom", "sim-li").id       # the member who told it
    [stored] = _stored(services)
    # The robot's sender is a WeCom user (channel wecom), the line a group one with the simulated chat id.
    assert stored.channel == "wecom" and stored.chat_id == GROUP
    assert stored.payload["via"] == "aibot" and stored.payload["chattype"] == "group"
    assert stored.payload["mentioned"] is True and stored.text == "园区北门道路塌陷一个星期了，货车进不来"
    with services.db.session() as session:
        assert users.find(session, "wechat", "sim-li") is None             # not an Official Account follower
        audit = session.query(AuditEntry).filter_by(action="simulator.user").all()
        assert {a.target for a in audit} == {"wecom:sim-li", "wecom:sim-wang"}


def test_status_asked_in_the_group_is_pushed_to_the_member_alone_and_shown_as_such(make_app):
    client, services = _group(make_app)
    ticket = TICKET.search(_say(client, "sim-li", "仓库门口的排水沟堵了，一下雨就淹")["reply"]).group(0)
    answer = _say(client, "sim-li", f"查询 {ticket}")
    assert ticket not in answer["reply"] and "单独发给您" in answer["reply"]
    polled = client.get(f"/simulator/group?chat={GROUP}&users=sim-li,sim-wang&after=0").get_json()
    [push] = polled["pushes"]
    assert push["to"] == "sim-li" and ticket in push["text"] and push["status"] == "sent"


def test_an_answer_too_slow_for_the_callback_arrives_through_response_url(make_app, settings, fake_api):
    client, services = _group(make_app, wecom_bot=replace(settings.wecom_bot, passive_budget_s=0))
    start = client.get(f"/simulator/group?chat={GROUP}&users=sim-li").get_json()
    assert start["replies"] == [] and start["latest_reply"] == 0
    answer = _say(client, "sim-li", "菜单")
    assert answer["delivered"] is True and answer["status"] == 200 and answer["reply"] is None
    [call] = [c for c in fake_api.calls if c["path"] == "/cgi-bin/aibot/response"]   # posted by the worker's job
    assert "园区联企助手" in call["body"]["markdown"]["content"]
    polled = client.get(f"/simulator/group?chat={GROUP}&users=sim-li&replies_after=0").get_json()
    [reply] = polled["replies"]
    assert reply["status"] == "sent" and reply["user"] == "sim-li" and reply["name"] == "李经理"
    assert "园区联企助手" in reply["text"]
    other = client.get("/simulator/group?chat=sim-othergroup&users=sim-li&replies_after=0").get_json()
    assert other["replies"] == []                                          # another group's answers stay there


REAL_MEMBER = "zhangsan"          # a WeCom user id as a company gives it


@pytest.mark.parametrize("payload", [
    {"user": REAL_MEMBER, "chat": GROUP, "text": "我的诉求", "mention": True},
    {"user": "sim-li", "chat": "wrkSFfCgAAreal", "text": "我的诉求", "mention": True},   # a real group
    {"user": "sim-li", "chat": "", "text": "菜单", "mention": True},
    {"user": REAL_MEMBER, "event": "enter_chat"},
])
def test_the_simulator_never_speaks_as_a_real_member_or_in_a_real_group(make_app, payload):
    client, services = _group(make_app)
    answer = client.post("/simulator/send", json=dict(payload, mode="group"))
    assert answer.status_code == 403
    assert "sim-" in answer.get_json()["error"]
    assert _stored(services) == []


def test_real_ids_are_refused_everywhere_in_group_mode(make_app):
    client, services = _group(make_app)
    made = client.post("/simulator/user", json={"mode": "group", "user": REAL_MEMBER, "name": "冒名"})
    assert made.status_code == 403
    with services.db.session() as session:
        assert users.find(session, "wecom", REAL_MEMBER) is None
    assert client.get(f"/simulator/group?chat={GROUP}&users=sim-li,{REAL_MEMBER}").status_code == 403
    assert client.get("/simulator/group?chat=wrkReal&users=sim-li").status_code == 403
    assert client.get(f"/simulator/group?chat={GROUP}&users=sim-li&after=-1").status_code == 400
    assert client.post("/simulator/send", json={"mode": "robot", "user": "sim-li", "text": "hi"}).status_code == 400


def test_a_viewer_and_an_anonymous_visitor_cannot_use_group_mode(make_app):
    client, services = _group(make_app)
    viewer = _client(client.application, "reader", "reader-pass-1", role="viewer")
    said = viewer.post("/simulator/send", json={"mode": "group", "chat": GROUP, "user": "sim-li", "text": "菜单",
                                                "mention": True})
    assert said.status_code == 403 and said.get_json()["error"] == "只读账号不能使用模拟器"
    assert viewer.get(f"/simulator/group?chat={GROUP}&users=sim-li").status_code == 403
    anonymous = client.application.test_client()
    assert anonymous.post("/simulator/send", json={"mode": "group", "chat": GROUP, "user": "sim-li",
                                                   "text": "菜单", "mention": True}).status_code == 401
    assert _stored(services) == []


def test_the_enter_chat_welcome_tells_how_to_use_the_robot_in_wecom(client, settings):
    wecom = WeComRobotServer(settings.wecom_bot.token, settings.wecom_bot.aes_key)
    query, body = wecom.callback(event_message("enter_chat", user="zhaoliu"))
    answer = wecom.answer(client.post(f"/wecom/aibot?{query}", data=body, content_type="application/json"))
    welcome = answer["text"]["content"]
    assert answer["msgtype"] == "text"
    assert "企业微信" in welcome and "@联企助手" in welcome and "关注" not in welcome
    assert "菜单" in welcome or "反映问题" in welcome                          # and what the robot can do


def test_the_simulator_opens_a_members_one_to_one_chat_and_gets_that_welcome(make_app):
    client, _ = _group(make_app)
    opened = client.post("/simulator/send", json={"mode": "group", "user": "sim-wang", "event": "enter_chat"})
    welcome = opened.get_json()["reply"]
    assert opened.status_code == 200 and "企业微信" in welcome and "@" in welcome and "关注" not in welcome

"""Issue #11 (2): the chat simulator was open to everyone and spoke for any openid.

Now it is off unless SIMULATOR=1, every page and endpoint needs a console login (staff or admin),
state-changing calls carry the console's CSRF token, and it speaks only for users it created
itself (ids `sim-…`): a real follower can be neither impersonated, read nor renamed.
"""
from __future__ import annotations

import re

import pytest
from helpers import OfficialAccountUser, console_login, csrf

from bot.complaints import service as tickets
from storage import complaints, enterprises, messages, outbound, staff, users

REAL = "oAbCdEfGhIjKlMnOpQrStUvWx01"    # a real follower's openid, as WeChat writes it


@pytest.fixture
def sim(make_app, settings):
    """The simulator switched on, a staff account and a viewer, and a real follower of the account
    who is linked to an enterprise, has filed a ticket and has been pushed a staff reply."""
    app = make_app(simulator=True)
    services = app.extensions["bot"]
    client = app.test_client()
    with services.db.session() as session:
        staff.add(session, "clerk", "clerk-pass-1", "staff")
        staff.add(session, "reader", "reader-pass-1", "viewer")
        staff.add(session, "taxdesk", "taxdesk-pass-1", "staff", department="税务分局")
        enterprises.upsert(session, "湘西龙腾酒业有限公司")
        enterprises.upsert(session, "金马物流有限公司")
    follower = OfficialAccountUser(client, settings, user=REAL)
    follower.say("你好")
    with services.db.session() as session:
        user = users.get_or_create(session, "wechat", REAL, "龙腾周总")
        users.link_enterprise(user, enterprises.by_name(session, "湘西龙腾酒业有限公司").id)
    assert "工单号" in follower.say("厂区门口的路灯坏了一个月，晚上工人下班很危险")
    with services.db.session() as session:
        user = users.find(session, "wechat", REAL)
        ticket = complaints.of_owner(session, user.enterprise_id, user.id)[0]
        tickets.reply(services, session, ticket, "城建局明天派人更换路灯", "staff")
        session.commit()
    return client, services


def _login(client, username="clerk", password="clerk-pass-1") -> str:
    """Log in to the console; the simulator page's CSRF token."""
    assert console_login(client, username, password).status_code == 302
    return csrf(client, "/")


def test_anonymous_visitors_get_the_login_page_and_every_endpoint_refuses(sim):
    client, services = sim
    page = client.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/admin/login?next=")
    assert "对话模拟器" not in page.get_data(as_text=True)
    with services.db.session() as session:
        before = messages.count(session, "wechat")

    listed = client.get("/simulator/users")
    assert listed.status_code == 401 and REAL not in listed.get_data(as_text=True)
    assert "龙腾周总" not in listed.get_data(as_text=True)
    pushes = client.get(f"/simulator/pushes?user={REAL}&after=0")
    assert pushes.status_code == 401 and "路灯" not in pushes.get_data(as_text=True)
    sent = client.post("/simulator/send", json={"user": REAL, "text": "我的诉求"})
    assert sent.status_code == 401 and "路灯" not in sent.get_data(as_text=True)
    renamed = client.post("/simulator/user", json={"user": REAL, "name": "冒名", "enterprise": "金马物流有限公司"})
    assert renamed.status_code == 401
    own = client.post("/simulator/send", json={"user": "sim-anon", "text": "菜单"})
    assert own.status_code == 401
    assert listed.get_json()["error"] == pushes.get_json()["error"] == "请先登录工作台"

    with services.db.session() as session:
        assert messages.count(session, "wechat") == before
        user = users.find(session, "wechat", REAL)
        assert user.display_name == "龙腾周总" and user.enterprise.name == "湘西龙腾酒业有限公司"
        assert users.find(session, "wechat", "sim-anon") is None


def test_the_login_page_leads_back_to_the_simulator(sim):
    client, _ = sim
    login = client.get("/")
    token = csrf(client, login.headers["Location"])
    back = client.post(login.headers["Location"], data={"username": "clerk", "password": "clerk-pass-1",
                                                         "csrf_token": token})
    assert back.status_code == 302 and back.headers["Location"] == "/"
    assert "对话模拟器" in client.get("/").get_data(as_text=True)


def test_staff_cannot_speak_as_a_real_follower(sim):
    client, services = sim
    token = _login(client)
    with services.db.session() as session:
        before = messages.count(session, "wechat")
    for payload in ({"user": REAL, "text": "我的诉求"}, {"user": REAL, "event": "subscribe"},
                    {"user": "openid-1", "text": "广播"}, {"user": "sim", "text": "菜单"}):
        answer = client.post("/simulator/send", json=payload, headers={"X-CSRFToken": token})
        assert answer.status_code == 403, payload
        assert "路灯" not in answer.get_data(as_text=True)
        assert answer.get_json()["error"] == "模拟器只能以模拟用户（sim- 开头，仅字母、数字、-、_）的身份对话"
    with services.db.session() as session:
        assert messages.count(session, "wechat") == before


def test_staff_cannot_read_what_was_pushed_to_a_real_follower(sim):
    client, services = sim
    _login(client)
    with services.db.session() as session:
        assert outbound.to_user_after(session, "wechat", REAL, 0)     # there is something to steal
    answer = client.get(f"/simulator/pushes?user={REAL}&after=0")
    assert answer.status_code == 403 and "路灯" not in answer.get_data(as_text=True)


def test_staff_cannot_rename_or_relink_a_real_follower(sim):
    client, services = sim
    token = _login(client)
    answer = client.post("/simulator/user", json={"user": REAL, "name": "冒名", "enterprise": "金马物流有限公司"},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 403
    with services.db.session() as session:
        user = users.find(session, "wechat", REAL)
        assert user.display_name == "龙腾周总" and user.enterprise.name == "湘西龙腾酒业有限公司"


def test_the_user_list_shows_only_simulator_users(sim):
    client, services = sim
    token = _login(client)
    made = client.post("/simulator/user", json={"user": "sim-li", "name": "李经理", "enterprise": "金马物流有限公司"},
                       headers={"X-CSRFToken": token})
    assert made.status_code == 200
    listed = client.get("/simulator/users")
    assert listed.status_code == 200
    data = listed.get_json()
    assert data["users"] == [{"user": "sim-li", "name": "李经理", "enterprise": "金马物流有限公司"}]
    assert REAL not in listed.get_data(as_text=True) and "龙腾周总" not in listed.get_data(as_text=True)
    assert set(data["enterprises"]) == {"湘西龙腾酒业有限公司", "金马物流有限公司"}   # the roster, to pick from


def test_a_simulator_user_works_end_to_end(sim):
    client, services = sim
    token = _login(client)
    headers = {"X-CSRFToken": token}
    made = client.post("/simulator/user", json={"user": "sim-wang", "name": "王经理", "enterprise": "金马物流有限公司"},
                       headers=headers).get_json()
    assert made == {"user": "sim-wang", "name": "王经理", "enterprise": "金马物流有限公司", "after": 0}
    welcome = client.post("/simulator/send", json={"user": "sim-wang", "event": "subscribe"}, headers=headers)
    assert welcome.status_code == 200 and welcome.get_json()["reply"]
    filed = client.post("/simulator/send", json={"user": "sim-wang", "text": "仓库门口的排水沟堵了，一下雨就淹"},
                        headers=headers).get_json()
    assert filed["status"] == 200 and "工单号" in filed["reply"]
    with services.db.session() as session:
        user = users.find(session, "wechat", "sim-wang")
        ticket = complaints.of_owner(session, user.enterprise_id, user.id)[0]
        assert ticket.enterprise.name == "金马物流有限公司"
        tickets.reply(services, session, ticket, "已通知物业今天疏通", "staff")
        session.commit()
    pushes = client.get("/simulator/pushes?user=sim-wang&after=0").get_json()["pushes"]
    assert [p["text"] for p in pushes if "疏通" in p["text"]] and all("路灯" not in p["text"] for p in pushes)
    with services.db.session() as session:          # linking a sim user to a firm is a staff act: audited
        assert any(entry.action == "simulator.user" and entry.target == "sim-wang" and entry.actor == "clerk"
                   for entry in staff.audit_log(session))


def test_state_changing_calls_need_the_csrf_token(sim):
    client, services = sim
    _login(client)
    assert client.post("/simulator/send", json={"user": "sim-x", "text": "菜单"}).status_code == 400
    assert client.post("/simulator/user", json={"user": "sim-x", "name": "x"},
                       headers={"X-CSRFToken": "forged"}).status_code == 400
    with services.db.session() as session:
        assert users.find(session, "wechat", "sim-x") is None


def test_a_read_only_viewer_cannot_use_the_simulator(sim):
    client, _ = sim
    assert console_login(client, "reader", "reader-pass-1").status_code == 302
    assert client.get("/").status_code == 403
    assert client.get("/simulator/users").status_code == 403
    assert client.post("/simulator/send", json={"user": "sim-v", "text": "菜单"}).status_code == 403


def test_scoped_staff_cannot_link_a_sim_user_to_an_enterprise(sim):
    """Found by the attacker pass: a department-scoped account linked a sim user to any enterprise and read
    that enterprise's tickets through it."""
    client, services = sim
    token = _login(client, "taxdesk", "taxdesk-pass-1")
    linked = client.post("/simulator/user", json={"user": "sim-tax", "enterprise": "湘西龙腾酒业有限公司"},
                         headers={"X-CSRFToken": token})
    assert linked.status_code == 403
    with services.db.session() as session:
        user = users.find(session, "wechat", "sim-tax")
        assert user is None or user.enterprise_id is None
    plain = client.post("/simulator/user", json={"user": "sim-tax", "name": "税务"}, headers={"X-CSRFToken": token})
    assert plain.status_code == 200


def test_switched_off_the_simulator_is_not_there_even_for_staff(make_app):
    app = make_app()                      # the default: SIMULATOR unset
    services = app.extensions["bot"]
    with services.db.session() as session:
        staff.add(session, "clerk", "clerk-pass-1", "staff")
    client = app.test_client()
    assert client.get("/").status_code == 404
    assert client.get("/simulator/users").status_code == 404
    assert client.post("/simulator/send", json={"user": "sim-1", "text": "菜单"}).status_code == 404
    assert console_login(client, "clerk", "clerk-pass-1").status_code == 302
    assert client.get("/").status_code == 404
    assert client.get("/simulator/pushes?user=sim-1&after=0").status_code == 404
    assert client.get("/healthz").status_code == 200


def test_the_page_runs_no_inline_script(sim):
    client, _ = sim
    _login(client)
    page = client.get("/").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", page)          # no inline event handlers either
    script = client.get("/static/simulator.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]

"""The chat simulator at /: signed callbacks, picking a user with an enterprise, pushed follow-ups.
(Who may use it and for whom: tests/security/test_simulator.py.)"""
from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import console_login, csrf

from bot.complaints import service as tickets
from storage import complaints as store
from storage import enterprises, messages, staff, users


def _staff_client(app):
    """A test client logged in to the console, sending the simulator page's CSRF token."""
    with app.extensions["bot"].db.session() as session:
        staff.add(session, "clerk", "clerk-pass-1", "staff")
    client = app.test_client()
    assert console_login(client, "clerk", "clerk-pass-1").status_code == 302
    token = csrf(client, "/")
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


@pytest.fixture
def sim(make_app):
    app = make_app(simulator=True)
    return _staff_client(app), app.extensions["bot"]


def test_simulator_sends_real_callbacks_and_shows_pushed_follow_ups(sim):
    client, services = sim
    with services.db.session() as session:
        enterprises.upsert(session, "金马物流有限公司")
    chosen = client.post("/simulator/user", json={"user": "sim-li", "name": "李经理", "enterprise": "金马物流有限公司"})
    assert chosen.status_code == 200 and chosen.get_json()["after"] == 0
    reply = client.post("/simulator/send", json={"user": "sim-li", "text": "园区北门道路塌陷，货车进不来"}).get_json()
    assert reply["status"] == 200 and "工单号" in reply["reply"]
    with services.db.session() as session:
        user = users.find(session, "wechat", "sim-li")
        assert user.display_name == "李经理" and user.enterprise.name == "金马物流有限公司"
        complaint = store.of_owner(session, user.enterprise_id, user.id)[0]
        assert complaint.enterprise.name == "金马物流有限公司"
        tickets.reply(services, session, complaint, "已安排施工队今晚抢修", "staff")
        session.commit()
    pushes = client.get("/simulator/pushes?user=sim-li&after=0").get_json()["pushes"]
    assert len(pushes) == 1 and "已安排施工队今晚抢修" in pushes[0]["text"] and pushes[0]["status"] == "sent"
    assert client.get(f"/simulator/pushes?user=sim-li&after={pushes[0]['id']}").get_json()["pushes"] == []
    listed = client.get("/simulator/users").get_json()
    assert {"user": "sim-li", "name": "李经理", "enterprise": "金马物流有限公司"} in listed["users"]
    assert "金马物流有限公司" in listed["enterprises"]


def test_simulator_follow_event_and_bad_input(sim):
    client, _ = sim
    welcome = client.post("/simulator/send", json={"user": "sim-new", "event": "subscribe"}).get_json()
    assert welcome["status"] == 200 and welcome["reply"]
    empty = client.post("/simulator/send", json={"user": "sim-x", "text": "   "})
    assert empty.status_code == 400 and empty.get_json()["error"] == "消息不能为空"
    assert client.post("/simulator/send", data="not json", content_type="application/json").status_code == 400
    unknown = client.post("/simulator/user", json={"user": "sim-x", "enterprise": "没有这家"})
    assert unknown.status_code == 400 and unknown.get_json()["error"] == "企业名录中没有「没有这家」"
    for after in ("-1", "²", "9" * 40):
        assert client.get(f"/simulator/pushes?user=sim-x&after={after}").status_code == 400
    odd = client.post("/simulator/send", json={"user": "sim-odd", "text": "你好]]><x/>"}).get_json()
    assert odd["status"] == 200 and odd["reply"]
    for bad_id in ("<b>]]>", "sim-<b>", "sim-", 5, None, "sim-" + "x" * 61):
        assert client.post("/simulator/send", json={"user": bad_id, "text": "你好"}).status_code == 403, bad_id


def test_simulator_speaks_in_safe_mode_too(make_app, settings):
    """With the account in safe mode the simulator's callbacks are encrypted, as WeChat's would be."""
    app = make_app(simulator=True, wechat=replace(settings.wechat, encrypt_mode="safe"))
    client = _staff_client(app)
    reply = client.post("/simulator/send", json={"user": "sim-safe", "text": "菜单"}).get_json()
    assert reply["status"] == 200 and "园区联企助手" in reply["reply"]
    with app.extensions["bot"].db.session() as session:
        assert messages.count(session, "wechat") == 1


def test_simulator_can_be_switched_off(make_app):
    off = make_app(simulator=False).test_client()
    assert off.get("/").status_code == 404
    assert off.post("/simulator/send", json={"text": "hi"}).status_code == 404
    assert off.get("/healthz").status_code == 200


def test_the_simulator_switch_reads_the_environment(var_dir):
    from bot.config import load_settings
    assert load_settings(environ={"SIMULATOR": "1"}, var_dir=var_dir).simulator is True
    assert load_settings(environ={"SIMULATOR": "0"}, var_dir=var_dir).simulator is False
    assert load_settings(environ={"SIMULATOR": "off"}, var_dir=var_dir).simulator is False
    assert load_settings(environ={}, var_dir=var_dir).simulator is False          # off unless turned on

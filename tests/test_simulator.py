"""The chat simulator at /: signed callbacks, picking a user with an enterprise, pushed follow-ups."""
from __future__ import annotations

from bot import tickets
from storage import complaints as store
from storage import enterprises, users


def test_simulator_sends_real_callbacks_and_shows_pushed_follow_ups(client, services):
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


def test_simulator_follow_event_and_bad_input(client):
    welcome = client.post("/simulator/send", json={"user": "sim-new", "event": "subscribe"}).get_json()
    assert welcome["status"] == 200 and welcome["reply"]
    assert client.post("/simulator/send", json={"user": "x", "text": "   "}).status_code == 400
    assert client.post("/simulator/send", data="not json", content_type="application/json").status_code == 400
    assert client.post("/simulator/user", json={"user": "x", "enterprise": "没有这家"}).status_code == 400
    assert client.get("/simulator/pushes?user=x&after=-1").status_code == 400
    odd = client.post("/simulator/send", json={"user": "<b>]]>", "text": "你好]]><x/>"}).get_json()
    assert odd["status"] == 200


def test_simulator_can_be_switched_off(make_app):
    off = make_app(simulator=False).test_client()
    assert off.get("/").status_code == 404
    assert off.post("/simulator/send", json={"text": "hi"}).status_code == 404
    assert off.get("/healthz").status_code == 200


def test_the_simulator_switch_reads_the_environment(var_dir):
    from bot.config import load_settings
    assert load_settings(environ={"SIMULATOR": "0"}, var_dir=var_dir).simulator is False
    assert load_settings(environ={"SIMULATOR": "off"}, var_dir=var_dir).simulator is False
    assert load_settings(environ={}, var_dir=var_dir).simulator is True

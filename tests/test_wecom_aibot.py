"""The WeCom intelligent robot (智能机器人) channel, driven with callbacks encrypted exactly as WeCom
encrypts them (tests/aibot_payloads.py, written from the published scheme): URL check, group and
one-to-one messages, quotes, retries, forged/stale/garbage/oversized input, answers passive and
through response_url (never to another host), the welcome, card clicks, status asked in a group."""
from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from aibot_payloads import WeComRobotServer, event_message, text_message
from sqlalchemy.engine import make_url

from storage import aibot_replies as reply_store
from storage import messages
from storage.models import AibotReply, Complaint, InboundMessage, utcnow
from tests.configs import write_config

ROOT = Path(__file__).resolve().parent.parent
TICKET = re.compile(r"TS\d{13}")
RESPONSE_PATH = "/cgi-bin/aibot/response"


@pytest.fixture
def wecom(settings) -> WeComRobotServer:
    return WeComRobotServer(settings.wecom_bot.token, settings.wecom_bot.aes_key)


def _post(client, wecom, message: dict, **query):
    q, body = wecom.callback(message, **query)
    return client.post(f"/wecom/aibot?{q}", data=body, content_type="application/json")


def _say(client, wecom, message: dict) -> str | None:
    """The content of the robot's finished stream answer (None for an empty answer)."""
    answer = wecom.answer(_post(client, wecom, message))
    if answer is None:
        return None
    assert answer["msgtype"] == "stream" and answer["stream"]["finish"] is True
    return answer["stream"]["content"]


def _response_url(fake_api, code: str | None = None) -> str:
    return f"{fake_api.base}aibot/response?response_code={code or uuid.uuid4().hex}"


def _responses(fake_api) -> list[dict]:
    return [c for c in fake_api.calls if c["path"] == RESPONSE_PATH]


def _wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    return predicate()


def _complaints(services) -> list[Complaint]:
    with services.db.session() as session:
        rows = session.query(Complaint).order_by(Complaint.id).all()
        session.expunge_all()
        return rows


def _with_bot(make_app, settings, **changes):
    """An app whose robot settings differ (e.g. passive_budget_s=0: every answer by response_url)."""
    return make_app(wecom_bot=replace(settings.wecom_bot, **changes))


# --- the URL check ---

def test_url_check_answers_the_decrypted_echostr_as_plain_text(client, wecom):
    response = client.get(f"/wecom/aibot?{wecom.verify_url('<script>alert(1)</script>7261')}")
    assert response.status_code == 200
    assert response.data.decode() == "<script>alert(1)</script>7261"
    assert response.mimetype == "text/plain" and response.headers["X-Content-Type-Options"] == "nosniff"


def test_url_check_with_a_forged_or_stale_signature_is_403(client, settings, wecom):
    forged = WeComRobotServer("not-the-token", settings.wecom_bot.aes_key)
    assert client.get(f"/wecom/aibot?{forged.verify_url('hi')}").status_code == 403
    stale = wecom.verify_url("hi", timestamp=str(int(time.time()) - 3600))
    assert client.get(f"/wecom/aibot?{stale}").status_code == 403


# --- messages in a group and one-to-one ---

def test_a_problem_told_to_the_robot_in_a_group_is_filed_and_answered_with_a_finished_stream(
        client, wecom, services):
    answer = _say(client, wecom, text_message("@联企助手 西区停电三天了，生产线全停", user="lisi", chat_id="wrkChat-1"))
    ticket = TICKET.search(answer).group(0)
    [complaint] = _complaints(services)
    assert complaint.ticket_no == ticket and complaint.source == "wecom"
    assert complaint.description == "西区停电三天了，生产线全停"      # the @mention is not part of the problem
    with services.db.session() as session:
        stored = session.query(InboundMessage).filter_by(channel="wecom").one()
        assert stored.chat_id == "wrkChat-1" and stored.payload["mentioned"] is True


@pytest.mark.parametrize("content", ["@联企助手 你能干什么", "你能干什么"])
def test_a_question_in_a_group_is_answered_with_or_without_the_at(client, wecom, content):
    answer = _say(client, wecom, text_message(content, chat_id="wrkChat-2"))
    assert "园区联企助手" in answer


def test_a_one_to_one_chat_is_a_private_conversation(client, wecom, services):
    assert "园区联企助手" in _say(client, wecom, text_message("菜单", user="wangwu"))
    _say(client, wecom, text_message("东区路灯坏了一个星期了，晚上很不安全", user="wangwu"))
    mine = _say(client, wecom, text_message("我的诉求", user="wangwu"))
    assert TICKET.search(mine)                       # in private, the details themselves
    with services.db.session() as session:
        chats = {m.chat_id for m in session.query(InboundMessage).filter_by(channel="wecom")}
        assert chats == {""}


def test_a_quoted_complaint_is_filed_when_someone_asks_the_robot_to(client, wecom, services):
    quoted = "厂区门口的路灯坏了好几天，晚上下班很危险"
    answer = _say(client, wecom, text_message("@联企助手 这个问题帮我登记", user="zhaoliu", chat_id="wrkChat-3",
                                               quote=quoted))
    assert TICKET.search(answer)
    [complaint] = _complaints(services)
    assert quoted in complaint.description and "帮我登记" not in complaint.description


def test_a_quote_without_a_request_to_file_it_files_nothing(client, wecom, services):
    _say(client, wecom, text_message("@联企助手 你好", chat_id="wrkChat-3", quote="厂区门口的路灯坏了好几天"))
    assert _complaints(services) == []


def test_a_retried_callback_files_one_ticket_and_gets_the_same_answer(client, wecom, services):
    message = text_message("@联企助手 南区道路施工把我们厂门堵了，货车进不来", chat_id="wrkChat-4",
                           msgid="CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=")
    first = wecom.answer(_post(client, wecom, message))
    again = wecom.answer(_post(client, wecom, message))     # WeCom encrypts each delivery anew
    assert first == again and TICKET.search(first["stream"]["content"])
    assert len(_complaints(services)) == 1
    with services.db.session() as session:
        assert messages.count(session, "wecom") == 1


# --- hostile input ---

def test_forged_and_stale_signatures_are_403(client, settings, wecom, services):
    q, body = wecom.callback(text_message("西区停电三天了"))
    forged = re.sub(r"msg_signature=[0-9a-f]+", "msg_signature=" + "0" * 40, q)
    assert client.post(f"/wecom/aibot?{forged}", data=body).status_code == 403
    assert client.post(f"/wecom/aibot?{q.replace('msg_signature', 'signature')}", data=body).status_code == 403
    other_token = WeComRobotServer("someone-elses-token", settings.wecom_bot.aes_key)
    assert _post(client, other_token, text_message("西区停电三天了")).status_code == 403
    stale = _post(client, wecom, text_message("西区停电三天了"), timestamp=str(int(time.time()) - 3600))
    assert stale.status_code == 403
    assert _complaints(services) == []


def _signed(wecom, encrypt: str) -> tuple[str, bytes]:
    return wecom.query(encrypt), json.dumps({"encrypt": encrypt}).encode()


GARBAGE = {
    "not base64": "not base64 at all!",
    "not whole AES blocks": base64.b64encode(b"abc").decode(),
    "random blocks": base64.b64encode(os.urandom(64)).decode(),
    "another robot's key": WeComRobotServer("t", "a" * 43).encrypt(b'{"msgid": "x", "msgtype": "text"}'),
}


@pytest.mark.parametrize("encrypt", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_ciphertext_is_400(client, wecom, services, encrypt):
    q, body = _signed(wecom, encrypt)      # properly signed: only the ciphertext is wrong
    assert client.post(f"/wecom/aibot?{q}", data=body).status_code == 400


def test_a_message_for_another_receiver_is_403(client, settings):
    corp_app = WeComRobotServer(settings.wecom_bot.token, settings.wecom_bot.aes_key, receive_id="wwcorp0000000000")
    assert _post(client, corp_app, text_message("西区停电三天了")).status_code == 403


def test_an_oversized_body_is_413(client, wecom, settings):
    q, _ = wecom.callback(text_message("x"))
    assert client.post(f"/wecom/aibot?{q}", data=b"{" + b" " * settings.max_body_bytes + b"}").status_code == 413


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b'{"encrypt": 5}', b"{}",
                                  b"[" * 100000 + b"]" * 100000])
def test_malformed_envelopes_are_400(client, wecom, body):
    assert client.post(f"/wecom/aibot?{wecom.query('x')}", data=body).status_code == 400


@pytest.mark.parametrize("plaintext", [
    b"not json", b"[]", b'"text"', json.dumps({"msgtype": "text", "from": {"userid": "u"}}).encode(),
    json.dumps({"msgid": "m1", "msgtype": "text", "from": "zhangsan"}).encode(),
    json.dumps({"msgid": "m1", "msgtype": "text", "from": {"userid": "u"}, "chattype": "channel"}).encode(),
    json.dumps({"msgid": "m1", "msgtype": "text", "from": {"userid": "u"}, "chattype": "group"}).encode(),
    b"[" * 100000 + b"]" * 100000,
])
def test_malformed_messages_are_400(client, wecom, services, plaintext):
    q, body = _signed(wecom, wecom.encrypt(plaintext))
    assert client.post(f"/wecom/aibot?{q}", data=body).status_code == 400
    with services.db.session() as session:
        assert messages.count(session, "wecom") == 0


def test_the_channel_switched_off_answers_404(make_app, settings, wecom):
    client = _with_bot(make_app, settings, enabled=False).test_client()
    assert client.get(f"/wecom/aibot?{wecom.verify_url('hi')}").status_code == 404
    assert _post(client, wecom, text_message("你好")).status_code == 404


# --- answers through response_url ---

def test_an_answer_not_ready_in_time_goes_once_to_the_response_url(make_app, settings, wecom, fake_api, services):
    client = _with_bot(make_app, settings, passive_budget_s=0).test_client()
    code = uuid.uuid4().hex
    message = text_message("@联企助手 西区停电三天了，生产线全停", chat_id="wrkChat-5",
                           response_url=_response_url(fake_api, code))
    assert wecom.answer(_post(client, wecom, message)) is None        # empty now …
    [call] = _responses(fake_api)                                      # … the answer by response_url
    assert call["query"] == {"response_code": code}
    assert call["body"]["msgtype"] == "markdown" and TICKET.search(call["body"]["markdown"]["content"])
    assert wecom.answer(_post(client, wecom, message)) is None         # WeCom retries the callback:
    assert len(_responses(fake_api)) == 1 and len(_complaints(services)) == 1   # still once


@contextmanager
def _database_busy(services, seconds: float):
    """Another process holds a write lock this long (a long import, a vacuum): every answer that needs
    to write waits for it, so it cannot be ready within a short budget."""
    url = make_url(services.settings.database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        release = holder.rollback
    else:
        holder = services.db.engine.connect()
        holder.begin()
        holder.exec_driver_sql("LOCK TABLE channel_users IN EXCLUSIVE MODE")
        release = holder.rollback
    timer = threading.Timer(seconds, release)
    timer.start()
    try:
        yield
    finally:
        timer.join()
        holder.close()


def test_a_slow_answer_is_sent_later_by_response_url(make_app, settings, wecom, fake_api):
    app = _with_bot(make_app, settings, passive_budget_s=0.3)
    client, services = app.test_client(), app.extensions["bot"]
    message = text_message("菜单", response_url=_response_url(fake_api))
    with _database_busy(services, 3.0):
        started = time.monotonic()
        assert wecom.answer(_post(client, wecom, message)) is None     # answered (empty) within the budget
        assert time.monotonic() - started < 2.5
    [call] = _wait_for(lambda: _responses(fake_api))
    assert "园区联企助手" in call["body"]["markdown"]["content"]


@pytest.mark.parametrize("where", [
    "http://127.0.0.1:{other}/cgi-bin/aibot/response?response_code=secret-c1",    # same host, another port
    "http://localhost:{port}/cgi-bin/aibot/response?response_code=secret-c2",     # another name for it
    "{base}webhook/send?key=secret-c3",                                            # the API host, another path
    "{base}aibot/response/../../evil?response_code=secret-c4",
    "http://user@127.0.0.1:{port}/cgi-bin/aibot/response?response_code=secret-c5",
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
])
def test_a_response_url_that_is_not_wecoms_is_never_called(make_app, settings, wecom, fake_api, where, caplog):
    from bot.push import fakeapi
    other, other_state = fakeapi.serve()
    try:
        port = fake_api.base.split(":")[2].split("/")[0]
        url = where.format(other=other.server_address[1], port=port, base=fake_api.base)
        client = _with_bot(make_app, settings, passive_budget_s=0).test_client()
        answer = wecom.answer(_post(client, wecom, text_message("菜单", user="sunqi", response_url=url)))
        assert answer is None
        time.sleep(0.2)
        assert fake_api.calls == [] and other_state.calls == []
        assert "secret-" not in caplog.text
    finally:
        other.shutdown()


def test_an_expired_response_url_is_never_used(services, fake_api):
    from bot.push import aibot_replies
    with services.db.session() as session:
        row = reply_store.add(session, "aibot:old", _response_url(fake_api), "迟到的回答", utcnow())
        reply_id = row.id
    assert aibot_replies.send(reply_id) == "expired"
    assert _responses(fake_api) == []
    with services.db.session() as session:
        assert session.get(AibotReply, reply_id).status == "expired"


def test_a_response_url_failing_for_a_moment_is_tried_again_and_sent_once(make_app, settings, wecom, fake_api,
                                                                           services):
    from bot.push import aibot_replies
    client = _with_bot(make_app, settings, passive_budget_s=0).test_client()
    fake_api.failures.append({"path": RESPONSE_PATH, "errcode": -1, "times": 1})
    _post(client, wecom, text_message("菜单", user="zhouba", response_url=_response_url(fake_api)))
    with services.db.session() as session:
        [row] = session.query(AibotReply).all()
        assert row.status == "queued" and row.attempts == 1 and row.error.startswith("-1")
        reply_id = row.id
    assert aibot_replies.send(reply_id) == "sent"          # the back-off has come round
    assert aibot_replies.send(reply_id) == "skipped"       # never twice
    assert len(_responses(fake_api)) == 2                   # the failed try and the one that went through


# --- events ---

def test_the_enter_chat_welcome_is_answered_with_text(client, wecom):
    answer = wecom.answer(_post(client, wecom, event_message("enter_chat", user="wuji")))
    assert answer["msgtype"] == "text" and "园区联企助手" in answer["text"]["content"]


def test_a_template_card_click_is_answered_through_the_response_url(client, wecom, fake_api):
    click = event_message("template_card_event", user="wuji", response_url=_response_url(fake_api),
                          detail={"card_type": "button_interaction", "event_key": "MENU_HELP",
                                  "task_id": "task-1"})
    assert wecom.answer(_post(client, wecom, click)) is None
    [call] = _responses(fake_api)
    assert "园区联企助手" in call["body"]["markdown"]["content"]


def test_a_stream_refresh_gets_an_empty_answer(client, wecom):
    refresh = {"msgid": "m-refresh", "aibotid": "AIBOTID", "chattype": "single", "from": {"userid": "u"},
               "msgtype": "stream", "stream": {"id": "s1"}}
    assert wecom.answer(_post(client, wecom, refresh)) is None


# --- ticket status asked in a group ---

def test_status_asked_in_a_group_goes_to_the_asker_alone(client, wecom, fake_api):
    filed = _say(client, wecom, text_message("北区污水管道堵了好几天，车间里都是臭味", user="qianjiu"))
    ticket = TICKET.search(filed).group(0)
    answer = _say(client, wecom, text_message(f"@联企助手 查询 {ticket}", user="qianjiu", chat_id="wrkChat-6"))
    assert ticket not in answer and "单独发给您" in answer
    pushed = [c["body"] for c in fake_api.calls if c["path"] == "/cgi-bin/message/send"
              and c["body"].get("touser") == "qianjiu"]
    assert any(ticket in p["text"]["content"] for p in pushed)


def test_status_asked_by_an_external_contact_in_a_group_is_not_told_there(client, wecom, fake_api):
    external = "wmAbCdEfGhIjKlMnOpQrStUvWx0123"
    filed = _say(client, wecom, text_message("北区污水管道堵了好几天，车间里都是臭味", user=external))
    ticket = TICKET.search(filed).group(0)
    answer = _say(client, wecom, text_message("@联企助手 我的诉求", user=external, chat_id="wrkChat-7"))
    assert ticket not in answer and "私聊" in answer
    assert not [c for c in fake_api.calls
                if c["path"] == "/cgi-bin/message/send" and c["body"].get("touser") == external]


# --- settings ---

def test_the_robot_needs_its_token_and_a_well_formed_key_when_enabled(tmp_path):
    from bot.config import ConfigError, load_settings

    def load(path=None, **env):
        return load_settings(path, environ=dict(env, BOT_ENV="test"), var_dir=tmp_path)
    assert load(WECOM_BOT_TOKEN="tok-123").wecom_bot.token == "tok-123"
    write_config(tmp_path / "c.yaml", {"wecom_bot": {"token": ""}})
    with pytest.raises(ConfigError, match="wecom_bot.token"):
        load(tmp_path / "c.yaml")
    with pytest.raises(ConfigError, match="wecom_bot.aes_key"):
        load(WECOM_BOT_AES_KEY="too-short")
    write_config(tmp_path / "off.yaml", {"wecom_bot": {"token": "", "enabled": False}})
    assert load(tmp_path / "off.yaml").wecom_bot.enabled is False


def test_production_refuses_the_demo_robot_secrets(cli_env):
    env = dict(cli_env, BOT_ENV="production")
    done = subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "configuration error: WECOM_BOT_TOKEN is the demo value" in done.stderr.splitlines()
    assert "configuration error: WECOM_BOT_AES_KEY is the demo value" in done.stderr.splitlines()

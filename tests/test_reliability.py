"""Persist before acknowledging, never twice: retries, concurrency, database down, handler bugs."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
from helpers import OfficialAccountUser
from payloads import oa_xml, plain_query, reply_content

from bot.chat.router import Route, always
from storage import messages


def test_wechat_retries_are_answered_alike_and_stored_once(client, settings, services):
    user = OfficialAccountUser(client, settings)
    replies = {user.say("你好", msg_id="555") for _ in range(3)}
    assert len(replies) == 1 and None not in replies
    with services.db.session() as session:
        assert messages.count(session) == 1


def test_retry_is_recognised_even_when_redis_forgot(client, settings, services):
    user = OfficialAccountUser(client, settings)
    first = user.say("菜单", msg_id="777")
    services.redis.flushdb()          # Redis lost its keys: the database's unique key still holds
    assert user.say("菜单", msg_id="777") == first
    with services.db.session() as session:
        assert messages.count(session) == 1


def test_database_down_is_503_so_wechat_retries(app, settings):
    from bot import create_app
    app = create_app(settings=settings.with_overrides(database_url="postgresql://bot@127.0.0.1:1/unreachable"))
    response = app.test_client().post(f"/wechat?{plain_query(settings.wechat.token)}",
                                      data=oa_xml("你好").encode(), content_type="text/xml")
    assert response.status_code == 503
    assert app.test_client().get("/healthz").status_code == 503


def test_a_failing_handler_gets_an_apology_and_the_message_waits_for_staff(client, settings, services, monkeypatch):
    def broken(msg, ctx):
        raise RuntimeError("bug")
    dispatcher = services.dispatcher
    monkeypatch.setattr(dispatcher, "routes", [Route(always(), broken, "test.broken"), *dispatcher.routes])
    reply = OfficialAccountUser(client, settings).say("你好", msg_id="4040")
    assert "抱歉" in reply
    with services.db.session() as session:
        stored = messages.find(session, "wechat", "4040")
        assert stored.handled_state == "failed" and stored.handling_error == "builtins.RuntimeError"


def test_concurrent_retries_against_gunicorn_file_once(running_server, settings, services):
    xml = oa_xml("我要投诉，西区停电三天了", user="openid-concurrent", msg_id="424242").encode()
    url = f"{running_server}/wechat?{plain_query(settings.wechat.token)}"

    def post(_):
        return requests.post(url, data=xml, headers={"Content-Type": "text/xml"}, timeout=10)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(post, range(8)))
    assert all(r.status_code == 200 for r in responses)
    answers = {reply_content(r.text) for r in responses if r.text != "success"}
    assert len(answers) == 1 and "TS" in answers.pop()   # every attempt that answered says the same
    with services.db.session() as session:
        assert messages.count(session) == 1


def test_phone_numbers_are_masked_in_logs(caplog):
    import logging

    from bot.logs import MaskPersonalData
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "user %s left %s", ("张三", "13812345678"), None)
    MaskPersonalData().filter(record)
    assert record.getMessage() == "user 张三 left 138****5678"


def test_a_long_reply_is_cut_and_the_rest_pushed(client, settings, services, monkeypatch, fake_api):
    long_text = "\n".join(f"第{i}条：" + "这是一段很长的政策说明" * 8 for i in range(40))
    dispatcher = services.dispatcher
    monkeypatch.setattr(dispatcher, "routes", [Route(always(), lambda m, c: long_text, "test.long"), *dispatcher.routes])
    user = OfficialAccountUser(client, settings, "openid-long")
    reply = user.say("政策")
    assert len(reply.encode()) <= 2048 and "随后发送" in reply
    pushed = [c["body"]["text"]["content"] for c in fake_api.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert pushed and all(len(p.encode()) <= 2048 for p in pushed)
    assert long_text.replace("\n", "").endswith(pushed[-1].replace("\n", "")[-50:])


def test_template_job_finished_events_are_recorded(client, settings, services):
    from sqlalchemy import select

    from storage.models import InboundMessage
    user = OfficialAccountUser(client, settings, "openid-t")
    assert user.event("TEMPLATESENDJOBFINISH", MsgID="200163836", Status="failed:user block") is None
    with services.db.session() as session:
        row = session.scalar(select(InboundMessage).where(InboundMessage.msg_type == "event"))
        assert row.payload["event"] == "template_finished" and row.payload["Status"] == "failed:user block"

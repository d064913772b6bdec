"""Pushes through the (fake) WeChat/WeCom API: channel choice, tokens, retries, failures."""
from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import OfficialAccountUser

from bot.push import jobs, outbound
from storage import outbound as pushes
from storage import users
from storage.models import utcnow


def _sends(fake_api, path):
    return [c for c in fake_api.calls if c["path"] == path]


def test_push_inside_48h_is_a_customer_service_message(client, settings, services, fake_api):
    OfficialAccountUser(client, settings, "openid-p").say("你好")
    with services.db.session() as session:
        push_id = jobs.queue_push(services, session, "wechat", "openid-p", "您的诉求已受理")
    sent = _sends(fake_api, "/cgi-bin/message/custom/send")
    assert sent and sent[-1]["body"]["touser"] == "openid-p"
    assert sent[-1]["body"]["text"]["content"] == "您的诉求已受理"
    with services.db.session() as session:
        assert pushes.get(session, push_id).status == "sent"


def test_push_outside_48h_is_a_template_message(client, settings, services, fake_api):
    OfficialAccountUser(client, settings, "openid-old").say("你好")
    with services.db.session() as session:
        users.find(session, "wechat", "openid-old").last_inbound_at = utcnow() - timedelta(hours=49)
    with services.db.session() as session:
        jobs.queue_push(services, session, "wechat", "openid-old", "政策提醒", title="新政策")
    sent = _sends(fake_api, "/cgi-bin/message/template/send")
    assert sent and sent[-1]["body"]["template_id"] == settings.wechat.template_id


def test_expired_token_is_refreshed_once_and_the_call_retried(services, fake_api):
    fake_api.failures.append({"path": "/cgi-bin/message/custom/send", "errcode": 40001, "times": 1})
    result = outbound.send(services, "custom", "openid-1", {"text": "hi"})
    assert result["errcode"] == 0
    assert len(_sends(fake_api, "/cgi-bin/message/custom/send")) == 2
    assert len(_sends(fake_api, "/cgi-bin/token")) == 2


def test_a_token_that_keeps_failing_is_not_retried_forever(services, fake_api):
    from wechatpy.exceptions import WeChatClientException
    fake_api.failures.append({"path": "/cgi-bin/message/custom/send", "errcode": 40001, "times": 10})
    with pytest.raises(WeChatClientException):
        outbound.send(services, "custom", "openid-1", {"text": "hi"})
    assert len(_sends(fake_api, "/cgi-bin/message/custom/send")) == 2


def test_token_is_shared_through_redis(services, fake_api):
    outbound.send(services, "custom", "a", {"text": "1"})
    outbound.send(services, "custom", "b", {"text": "2"})
    assert len(_sends(fake_api, "/cgi-bin/token")) == 1


def test_permanent_error_is_recorded_not_retried(client, settings, services, fake_api):
    OfficialAccountUser(client, settings, "openid-gone").say("你好")
    fake_api.failures.append({"path": "/cgi-bin/message/custom/send", "errcode": 43004, "times": 5})
    with services.db.session() as session:
        push_id = jobs.queue_push(services, session, "wechat", "openid-gone", "通知")
    with services.db.session() as session:
        row = pushes.get(session, push_id)
        assert row.status == "failed" and "43004" in row.error
    assert len(_sends(fake_api, "/cgi-bin/message/custom/send")) == 1


def test_transient_error_is_retried_by_the_worker(make_app, settings, fake_api):
    from bot import worker
    app = make_app(jobs_inline=False)
    services = app.extensions["bot"]
    fake_api.failures.append({"path": "/cgi-bin/message/send", "errcode": -1, "times": 1})
    with services.db.session() as session:
        push_id = jobs.queue_push(services, session, "wecom", "zhangsan", "预警：工单即将超期")
    worker.run(services, burst=True)
    with services.db.session() as session:
        assert pushes.get(session, push_id).status == "retrying"
    assert len(services.queue.scheduled_job_registry) == 1   # back-off, not an immediate hammering
    worker.run(services, burst=True, horizon_s=60)              # as a burst run after the back-off
    with services.db.session() as session:
        assert pushes.get(session, push_id).status == "sent"
    assert len(_sends(fake_api, "/cgi-bin/message/send")) == 2


def test_asking_for_a_person_notifies_duty_staff_on_wecom(client, settings, fake_api):
    OfficialAccountUser(client, settings, "openid-h").say("转人工")
    sent = _sends(fake_api, "/cgi-bin/message/send")
    assert sent and sent[-1]["body"]["touser"] == "zhangsan"
    assert "转人工" in sent[-1]["body"]["text"]["content"]

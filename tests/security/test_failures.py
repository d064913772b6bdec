"""Never acknowledge without acting: when Redis is down or a handler has a bug, a message is still
handled (or answered 503 so WeChat retries) and whatever could not be handled waits for staff in
the console's 未处理消息 queue. Redis is made really down: the app's REDIS_URL points at a closed
port, so a real client meets a real refused connection."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import OfficialAccountUser, console_login, csrf
from payloads import oa_xml, plain_query, reply_content
from sqlalchemy import func, select

from handlers import general
from storage import messages
from storage.models import AuditEntry, Complaint, DeferredJob, InboundMessage

ROOT = Path(__file__).resolve().parents[2]
REDIS_DOWN = "redis://127.0.0.1:1/0"       # nothing listens on port 1: connections are refused
TICKET = re.compile(r"TS\d{13}")
APOLOGY_WORDS = "系统刚才出了点问题"
PROBLEM = "东区今天上午没有任何通知就停电了，我们机房的服务器全部宕机，损失很大"


def _seed(services):
    from bot import demo
    with services.db.session() as session:
        demo.seed(session)


def _linked_user(client, settings, services, openid="openid-owner"):
    """A WeChat user staff have linked to 武陵云科技有限公司 (a demo enterprise)."""
    from storage import enterprises, users
    _seed(services)
    with services.db.session() as session:
        users.link_enterprise(users.get_or_create(session, "wechat", openid),
                              enterprises.by_name(session, "武陵云科技有限公司").id)
    return OfficialAccountUser(client, settings, openid)


@pytest.fixture
def redis_down(app, settings):
    """Builds an app on the same database and settings as `app`, but with Redis unreachable
    (call it after the test's set-up: the process's jobs then run with these services)."""
    from bot import create_app
    return lambda: create_app(settings=settings.with_overrides(redis_url=REDIS_DOWN))


def _count(services, model, *where) -> int:
    with services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _break_smalltalk(monkeypatch, services):
    """Simulates a bug: the smalltalk handler (which answers "你好") raises. Replacing this one route's
    handler in the app's dispatcher is the only stand-in used here: no other part of the app is replaced."""
    def smalltalk_with_a_bug(msg, ctx):
        raise KeyError("greeting")
    dispatcher = services.dispatcher
    monkeypatch.setattr(dispatcher, "routes", [dataclasses.replace(r, handler=smalltalk_with_a_bug)
                                               if r.handler is general.smalltalk else r for r in dispatcher.routes])


def _unhandled_id(services, text: str) -> int:
    with services.db.session() as session:
        return session.scalar(select(InboundMessage.id).where(InboundMessage.text == text))


def _post(client, path: str, **data):
    return client.post(path, data=dict(data, csrf_token=csrf(client, "/admin/unhandled")))


def _pushed_texts(fake_api) -> list[str]:
    return [c["body"]["text"]["content"] for c in fake_api.calls if c["path"] == "/cgi-bin/message/custom/send"]


# --- Redis down: the message is still handled ---

def test_redis_down_a_complaint_is_filed_not_apologised(client, settings, services, redis_down):
    _linked_user(client, settings, services)
    owner = OfficialAccountUser(redis_down().test_client(), settings, "openid-owner")
    reply = owner.say(PROBLEM)
    assert APOLOGY_WORDS not in reply
    ticket = TICKET.search(reply).group(0)
    assert _count(services, Complaint, Complaint.ticket_no == ticket) == 1


def test_redis_down_a_retry_of_the_same_msgid_files_once(client, settings, services, redis_down):
    _linked_user(client, settings, services)
    owner = OfficialAccountUser(redis_down().test_client(), settings, "openid-owner")
    answers = {owner.say(PROBLEM, msg_id="880001") for _ in range(3)}
    assert len(answers) == 1 and TICKET.search(answers.pop())
    assert _count(services, Complaint) == 1
    assert _count(services, InboundMessage, InboundMessage.dedupe_key == "880001") == 1


def test_redis_down_concurrent_retries_file_once(client, settings, services, redis_down):
    """WeChat's retries racing each other, with no Redis claim: the database's unique key decides."""
    from concurrent.futures import ThreadPoolExecutor
    _linked_user(client, settings, services)
    down = redis_down()
    xml = oa_xml(PROBLEM, user="openid-owner", msg_id="880002").encode()

    def post(_):
        return down.test_client().post(f"/wechat?{plain_query(settings.wechat.token)}", data=xml,
                                       content_type="text/xml")
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(post, range(6)))
    assert all(r.status_code == 200 for r in responses)
    answers = {reply_content(r.get_data(as_text=True)) for r in responses} - {None}
    assert len(answers) == 1 and TICKET.search(answers.pop())
    assert _count(services, Complaint) == 1


def test_redis_down_a_policy_question_is_answered(client, settings, services, redis_down):
    _seed(services)     # policies loaded while Redis was up; their remembered answers live in Redis
    reply = OfficialAccountUser(redis_down().test_client(), settings, "openid-p").say("研发费用加计扣除怎么申请")
    assert APOLOGY_WORDS not in reply and "加计扣除" in reply


def test_redis_down_a_started_flow_is_forgotten_but_the_next_message_is_still_routed(client, settings, services,
                                                                                       redis_down):
    owner = OfficialAccountUser(redis_down().test_client(), settings, "openid-flow")
    assert APOLOGY_WORDS not in owner.say("我要投诉")
    assert APOLOGY_WORDS not in owner.say("菜单")


def test_redis_down_jobs_that_cannot_be_queued_are_kept_and_sent_when_redis_is_back(
        client, settings, services, redis_down, cli_env, fake_api):
    _linked_user(client, settings, services)
    fake_api.calls.clear()
    owner = OfficialAccountUser(redis_down().test_client(), settings, "openid-owner")
    ticket = TICKET.search(owner.say(PROBLEM)).group(0)
    staff_notices = [c for c in fake_api.calls if c["path"] == "/cgi-bin/message/send"]
    assert staff_notices == []                      # RQ could not take the job …
    assert _count(services, DeferredJob) >= 1       # … so it waits in the database
    env = dict(cli_env, WECHAT_API_BASE=fake_api.base, WECOM_API_BASE=fake_api.base)
    worker = subprocess.run([sys.executable, "-m", "bot", "worker", "--burst"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    notices = [c["body"]["text"]["content"] for c in fake_api.calls if c["path"] == "/cgi-bin/message/send"]
    assert any("新诉求" in n and ticket in n for n in notices)
    assert _count(services, DeferredJob) == 0


def test_database_down_is_still_503(settings):
    from bot import create_app
    app = create_app(settings=settings.with_overrides(database_url="postgresql://bot@127.0.0.1:1/unreachable",
                                                      redis_url=REDIS_DOWN))
    response = app.test_client().post(f"/wechat?{plain_query(settings.wechat.token)}",
                                      data=oa_xml(PROBLEM).encode(), content_type="text/xml")
    assert response.status_code == 503


# --- a handler bug: apology, and the message waits in 未处理消息 ---

def test_a_handler_bug_gets_the_apology_and_appears_in_the_unhandled_queue(client, settings, services, accounts,
                                                                           monkeypatch):
    user = _linked_user(client, settings, services, "openid-bug-1234")
    _break_smalltalk(monkeypatch, services)
    assert APOLOGY_WORDS in user.say("你好")
    console_login(client, "admin1", "admin-pass-1")
    assert "未处理消息（1）" in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/unhandled").get_data(as_text=True)
    assert "你好" in page and "公众号" in page and "武陵云科技有限公司" in page
    assert "程序错误" in page and "KeyError" in page
    assert "openid-bug-1234" not in page             # the WeChat id is masked


def test_retry_from_the_page_answers_the_user_and_clears_the_queue(client, settings, services, accounts,
                                                                    monkeypatch, fake_api):
    user = _linked_user(client, settings, services)
    _break_smalltalk(monkeypatch, services)
    user.say("你好")
    message_id = _unhandled_id(services, "你好")
    monkeypatch.undo()                                 # the bug is fixed
    console_login(client, "admin1", "admin-pass-1")
    fake_api.calls.clear()
    response = _post(client, f"/admin/unhandled/{message_id}/retry")
    assert response.status_code == 302
    assert any("您好" in text for text in _pushed_texts(fake_api))   # the greeting reaches the user
    page = client.get("/admin/unhandled").get_data(as_text=True)
    assert "已处理并推送给用户" in page and "暂无未处理消息" in page
    assert _count(services, AuditEntry, AuditEntry.action == "unhandled.retry") == 1


def test_after_three_failed_retries_only_marking_by_hand_is_offered(client, settings, services, accounts,
                                                                     monkeypatch, fake_api):
    user = OfficialAccountUser(client, settings, "openid-3")
    _break_smalltalk(monkeypatch, services)
    user.say("你好")
    message_id = _unhandled_id(services, "你好")
    console_login(client, "admin1", "admin-pass-1")
    retry = f"/admin/unhandled/{message_id}/retry"
    for attempt in (1, 2, 3):
        assert f'action="{retry}"' in client.get("/admin/unhandled").get_data(as_text=True)
        _post(client, retry)
        assert f"已重试 {attempt} 次" in client.get("/admin/unhandled").get_data(as_text=True)
    page = client.get("/admin/unhandled").get_data(as_text=True)
    assert f'action="{retry}"' not in page and "标记已处理" in page
    fake_api.calls.clear()
    _post(client, retry)                               # a hand-made request is refused too
    page = client.get("/admin/unhandled").get_data(as_text=True)
    assert "已达重试上限" in page and "已重试 3 次" in page
    assert _pushed_texts(fake_api) == []


def test_a_viewer_sees_the_queue_but_cannot_retry_or_mark_it(client, settings, services, accounts, monkeypatch):
    user = OfficialAccountUser(client, settings, "openid-v")
    _break_smalltalk(monkeypatch, services)
    user.say("你好")
    message_id = _unhandled_id(services, "你好")
    monkeypatch.undo()
    console_login(client, "reader", "reader-pass-1")
    page = client.get("/admin/unhandled").get_data(as_text=True)
    assert "你好" in page and "/retry" not in page
    assert _post(client, f"/admin/unhandled/{message_id}/retry").status_code == 403
    assert _post(client, f"/admin/unhandled/{message_id}/resolve", note="已电话联系").status_code == 403
    assert "你好" in client.get("/admin/unhandled").get_data(as_text=True)


def test_marking_handled_by_hand_needs_a_note_and_is_audited(client, settings, services, accounts, monkeypatch):
    user = OfficialAccountUser(client, settings, "openid-m")
    _break_smalltalk(monkeypatch, services)
    user.say("你好")
    message_id = _unhandled_id(services, "你好")
    console_login(client, "admin1", "admin-pass-1")
    resolve = f"/admin/unhandled/{message_id}/resolve"
    _post(client, resolve, note=" ")
    assert "请填写处理说明" in client.get("/admin/unhandled").get_data(as_text=True)
    _post(client, resolve, note="已电话联系企业说明情况")
    assert "暂无未处理消息" in client.get("/admin/unhandled").get_data(as_text=True)
    with services.db.session() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "unhandled.resolve"))
        assert entry.actor == "admin1" and "已电话联系企业说明情况" in entry.detail


def test_a_message_stored_but_never_answered_appears_after_two_minutes(client, settings, services, accounts):
    """A process that died (or lost the database) between storing a message and answering it."""
    from bot.chat.message import Message
    from storage import users
    msg = Message(channel="wechat", user_id="openid-crash", msg_type="text", text="你好", dedupe_key="crash-1")
    with services.db.session() as session:
        message_id = messages.record(session, msg, users.seen(session, "wechat", "openid-crash"))
    console_login(client, "admin1", "admin-pass-1")
    assert "你好" not in client.get("/admin/unhandled").get_data(as_text=True)    # may still be in hand
    with services.db.session() as session:
        session.get(InboundMessage, message_id).received_at -= timedelta(minutes=3)
    page = client.get("/admin/unhandled").get_data(as_text=True)
    assert "你好" in page and "处理中断" in page


def test_with_redis_down_the_console_pages_after_login_answer(client, settings, services, accounts, redis_down):
    console_login(client, "admin1", "admin-pass-1")
    down = redis_down().test_client()
    down.set_cookie("session", client.get_cookie("session").value)
    for page in ("/admin/", "/admin/complaints", "/admin/policies", "/admin/broadcasts", "/admin/meetings",
                 "/admin/enterprises", "/admin/users", "/admin/staff", "/admin/audit", "/admin/unhandled"):
        assert down.get(page).status_code == 200, page


def test_with_redis_down_a_console_change_files_its_pushes_for_later(client, settings, services, accounts, redis_down):
    """Working a ticket queues a push to its owner; with RQ unreachable the push waits in the database."""
    _linked_user(client, settings, services)
    ticket = TICKET.search(OfficialAccountUser(client, settings, "openid-owner").say(PROBLEM)).group(0)
    console_login(client, "admin1", "admin-pass-1")
    down = redis_down().test_client()
    down.set_cookie("session", client.get_cookie("session").value)
    before = _count(services, DeferredJob)
    response = down.post(f"/admin/complaints/{ticket}", data={
        "action": "reply", "text": "明天上午上门维修", "csrf_token": csrf(down, f"/admin/complaints/{ticket}")})
    assert response.status_code == 302
    assert _count(services, DeferredJob) > before


def test_with_redis_down_a_console_change_that_needs_redis_is_a_clear_503_and_changes_nothing(
        client, settings, services, accounts, redis_down):
    """Expiring a policy tells every process, through Redis, to rebuild its search index."""
    from storage import policies
    _seed(services)
    with services.db.session() as session:
        policy = policies.all_policies(session)[0]
        policy_id, valid_to = policy.id, policy.valid_to
    console_login(client, "admin1", "admin-pass-1")
    down = redis_down().test_client()
    down.set_cookie("session", client.get_cookie("session").value)
    response = down.post(f"/admin/policies/{policy_id}/expire", data={"csrf_token": csrf(down, "/admin/policies")})
    assert response.status_code == 503 and "缓存服务（Redis）暂时不可用" in response.get_data(as_text=True)
    with services.db.session() as session:
        assert policies.get(session, policy_id).valid_to == valid_to

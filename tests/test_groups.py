"""Group pushes through WeCom group robots: the registry (CLI and console, keys never shown in full),
`broadcast send --to group:NAME` reaching the robot's webhook, the robot's rate limit, retries and
failures, and breakfast-meeting reminders posted once per group."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import console_login, csrf

from bot import clock
from bot.broadcasts import service as broadcasts
from bot.meetings import service as meetings
from bot.push import group_robots as groups
from storage import groups as store
from storage.models import Delivery, utcnow

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK = "/cgi-bin/webhook/send"


def _key() -> str:
    return str(uuid.uuid4())            # what WeCom's robot keys look like


def _posts(fake_api, key: str | None = None) -> list[dict]:
    return [c for c in fake_api.calls if c["path"] == WEBHOOK and (key is None or c["query"].get("key") == key)]


def _register(services, name: str, key: str, reminders: bool = True):
    with services.db.session() as session:
        return groups.register(session, name, key, "test", reminders=reminders).id


@pytest.fixture
def cli(cli_env, fake_api):
    env = dict(cli_env, WECOM_API_BASE=fake_api.base, WECHAT_API_BASE=fake_api.base)

    def run(*args, stdin=None, check=True):
        done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)
        if check:
            assert done.returncode == 0, done.stderr
        return done
    return run


# --- the registry on the command line ---

def test_groups_add_and_list_never_print_the_key(cli):
    key = _key()
    added = cli("groups", "add", "联企一群", "--webhook-key", key).stdout
    assert added.split()[-1].isdigit()                        # ends with the new id
    assert key not in added and f"****{key[-4:]}" in added
    listed = json.loads(cli("groups", "list", "--json").stdout)
    assert [(g["name"], g["webhook_key"], g["reminders"]) for g in listed] == [("联企一群", f"****{key[-4:]}", True)]
    assert key not in cli("groups", "list").stdout


def test_the_key_can_come_from_stdin_or_as_the_whole_webhook_address(cli):
    key, other = _key(), _key()
    assert key not in cli("groups", "add", "园区二群", "--webhook-key-stdin", stdin=key + "\n").stdout
    address = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={other}"
    assert other not in cli("groups", "add", "园区三群", "--webhook-key", address, "--no-reminders").stdout
    listed = {g["name"]: g for g in json.loads(cli("groups", "list", "--json").stdout)}
    assert listed["园区二群"]["webhook_key"].endswith(key[-4:]) and listed["园区三群"]["reminders"] is False


@pytest.mark.parametrize("args, reason", [
    (["联企一群", "--webhook-key", "short"], "机器人密钥格式不对"),
    (["联企一群", "--webhook-key", "abc def ghi jkl mno pqr"], "机器人密钥格式不对"),
    (["", "--webhook-key", "0f0e0d0c-0b0a-0908-0706-050403020100"], "请填写群名称"),
])
def test_bad_group_input_is_one_clear_line(cli, args, reason):
    done = cli("groups", "add", *args, check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert reason in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_group_name_or_robot_registered_twice_is_refused(cli):
    key = _key()
    cli("groups", "add", "联企一群", "--webhook-key", key)
    again = cli("groups", "add", "联企一群", "--webhook-key", _key(), check=False)
    assert again.returncode != 0 and "已登记过" in again.stderr
    same_robot = cli("groups", "add", "另一个群", "--webhook-key", key, check=False)
    assert same_robot.returncode != 0 and "另一个群名下" in same_robot.stderr and key not in same_robot.stderr


# --- broadcasts to a group ---

def test_broadcast_to_a_registered_group_reaches_its_webhook(make_app, cli, fake_api):
    services = make_app(jobs_inline=False).extensions["bot"]
    key = _key()
    cli("groups", "add", "联企一群", "--webhook-key", key)
    broadcast_id = cli("broadcast", "send", "--title", "研发补助申报", "--body", "请于12月底前申报",
                       "--to", "group:联企一群").stdout.split()[-1]
    assert cli("worker", "--burst").returncode == 0
    [post] = _posts(fake_api, key)
    assert post["body"] == {"msgtype": "text", "text": {"content": "【研发补助申报】\n请于12月底前申报"}}
    assert json.loads(cli("broadcast", "status", broadcast_id, "--json").stdout) == {
        "id": int(broadcast_id), "total": 1, "sent": 1, "failed": 0, "pending": 0}
    with services.db.session() as session:
        assert session.query(Delivery).one().kind == "webhook"


def test_group_id_that_is_not_registered_still_means_a_wecom_app_chat(services, fake_api):
    _register(services, "联企一群", _key())
    with services.db.session() as session:
        assert broadcasts.recipients(session, "group:wrkChat-9") == [("wecom", "wrkChat-9", "appchat")]
        assert broadcasts.recipients(session, "group:联企一群") == [("wecom", "联企一群", "webhook")]
        broadcasts.create(services, session, "通知", "内容", "group:wrkChat-9")
    assert [c["body"]["chatid"] for c in fake_api.calls if c["path"] == "/cgi-bin/appchat/send"] == ["wrkChat-9"]
    assert _posts(fake_api) == []


def test_a_long_notice_goes_as_markdown_within_wecoms_limit(services, fake_api):
    key = _key()
    _register(services, "联企一群", key)
    body = "\n".join(f"第{i}条：" + "申报材料说明" * 10 for i in range(60))
    with services.db.session() as session:
        broadcasts.create(services, session, "长通知", body, "group:联企一群")
    [post] = _posts(fake_api, key)
    assert post["body"]["msgtype"] == "markdown"
    assert len(post["body"]["markdown"]["content"].encode()) <= groups.MARKDOWN_MAX_BYTES


def test_the_robots_rate_limit_holds_the_rest_back(make_app, settings, fake_api):
    limits = dict(settings.broadcasts.rate_limits, wecom_group_per_minute=2)
    services = make_app(broadcasts=replace(settings.broadcasts, rate_limits=limits)).extensions["bot"]
    key = _key()
    _register(services, "联企一群", key)
    with services.db.session() as session:
        for n in range(3):
            broadcasts.create(services, session, f"通知{n}", "内容", "group:联企一群")
            session.commit()
    assert len(_posts(fake_api, key)) == 2                  # the third waits for the next minute
    with services.db.session() as session:
        waiting = session.query(Delivery).filter_by(status="pending").one()
        assert waiting.error == "rate limited" and waiting.attempts == 0 and waiting.not_before > utcnow()


def test_a_failed_post_is_retried_and_a_gone_robot_fails_for_good(services, fake_api, caplog):
    caplog.set_level(logging.DEBUG)
    key = _key()
    _register(services, "联企一群", key)
    fake_api.failures.append({"path": WEBHOOK, "errcode": -1, "times": 1})
    with services.db.session() as session:
        broadcast_id = broadcasts.create(services, session, "通知", "内容", "group:联企一群").id
    with services.db.session() as session:
        retry = session.query(Delivery).one()
        assert retry.status == "pending" and retry.error.startswith("-1")
        retry.not_before = utcnow() - timedelta(seconds=1)
    broadcasts.deliver(broadcast_id)
    with services.db.session() as session:
        assert broadcasts.status(session, broadcast_id)["sent"] == 1
    fake_api.failures.append({"path": WEBHOOK, "errcode": 93000, "times": 1})       # key revoked in WeCom
    with services.db.session() as session:
        gone = broadcasts.create(services, session, "通知", "内容", "group:联企一群").id
    with services.db.session() as session:
        assert broadcasts.status(session, gone)["failed"] == 1
        assert all(key not in d.error for d in session.query(Delivery))
    assert key not in caplog.text


def test_an_unreachable_api_is_retried_without_the_key_in_any_error(make_app, settings, caplog):
    caplog.set_level(logging.DEBUG)
    app = make_app(wecom=replace(settings.wecom, api_base="http://127.0.0.1:9/cgi-bin/"))
    services = app.extensions["bot"]
    key = _key()
    _register(services, "联企一群", key)
    with services.db.session() as session:
        broadcasts.create(services, session, "通知", "内容", "group:联企一群")
    with services.db.session() as session:
        delivery = session.query(Delivery).one()
        assert delivery.status == "pending" and delivery.error.startswith("-1") and key not in delivery.error
    assert key not in caplog.text


def test_a_removed_group_fails_at_once(cli, services, fake_api):
    _register(services, "联企一群", _key())
    with services.db.session() as session:
        found = broadcasts.recipients(session, "group:联企一群")
    cli("groups", "remove", "联企一群")
    with services.db.session() as session:
        broadcast = broadcasts.store.create(session, "通知", "内容", "", "group:联企一群", "staff", found)
        broadcast_id = broadcast.id
    broadcasts.deliver(broadcast_id)
    with services.db.session() as session:
        [failed] = broadcasts.store.failures(session, broadcast_id)
        assert "未登记" in failed.error
    assert _posts(fake_api) == []


# --- meeting reminders in groups ---

def test_a_meeting_reminder_is_posted_once_to_each_group_that_takes_them(services, fake_api):
    with services.db.session() as session:
        meetings.create(session, title="乡情湘味政企早茶会", starts_at=clock.now() + timedelta(hours=10),
                        venue="管委会三楼会议室", capacity=10)
        meetings.create(session, title="下个月的早茶会", starts_at=clock.now() + timedelta(days=30),
                        venue="管委会三楼会议室", capacity=10)
    reminded, quiet = _key(), _key()
    _register(services, "联企一群", reminded)
    _register(services, "园区二群", quiet, reminders=False)
    assert broadcasts.remind_groups(services) == 1
    assert broadcasts.remind_groups(services) == 0            # once per meeting and group
    [post] = _posts(fake_api, reminded)
    content = post["body"]["text"]["content"]
    assert "乡情湘味政企早茶会" in content and "管委会三楼会议室" in content and "10 个座位" in content
    assert "下个月" not in content and _posts(fake_api, quiet) == []


# --- the console page ---

def test_admins_register_groups_in_the_console_and_nobody_sees_the_key(client, accounts, fake_api):
    key = _key()
    console_login(client, "admin1", "admin-pass-1")
    response = client.post("/admin/groups", data={"name": "联企一群", "webhook_key": key, "reminders": "1",
                                                  "csrf_token": csrf(client, "/admin/groups")})
    assert response.status_code == 302
    page = client.get("/admin/groups").get_data(as_text=True)
    assert "联企一群" in page and f"****{key[-4:]}" in page and key not in page
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "group.add" in audit and key not in audit
    bad = client.post("/admin/groups", data={"name": "二群", "webhook_key": "nope",
                                             "csrf_token": csrf(client, "/admin/groups")})
    assert bad.status_code == 400 and "机器人密钥格式不对" in bad.get_data(as_text=True)


@pytest.mark.parametrize("username, password", [("power", "power-pass-1"), ("reader", "reader-pass-1")])
def test_only_admins_add_or_remove_groups(client, accounts, services, username, password):
    group_id = _register(services, "联企一群", _key())
    console_login(client, username, password)
    assert "联企一群" in client.get("/admin/groups").get_data(as_text=True)
    token = csrf(client, "/admin/groups")
    assert client.post("/admin/groups", data={"name": "二群", "webhook_key": _key(),
                                              "csrf_token": token}).status_code == 403
    assert client.post(f"/admin/groups/{group_id}/delete", data={"csrf_token": token}).status_code == 403
    with services.db.session() as session:
        assert [g.name for g in store.listing(session)] == ["联企一群"]


def test_the_console_lists_groups_only_to_people_signed_in(client):
    assert client.get("/admin/groups").status_code in (302, 401)

"""Broadcasts: targets, delivery through the fake API, retries, failures, workers sharing and crashing."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import OfficialAccountUser

from bot.broadcasts import service as broadcasts
from storage import broadcasts as store
from storage import enterprises, policies, users
from storage.models import Delivery, utcnow
from tests.configs import write_config

ROOT = Path(__file__).resolve().parent.parent
SEND = "/cgi-bin/message/custom/send"


def _people(services, n, prefix="b", tag=None):
    with services.db.session() as session:
        enterprise_id = None
        if tag:
            enterprise_id = enterprises.upsert(session, f"{tag}测试企业", tags=[tag])[0].id
        for i in range(n):
            ref = users.seen(session, "wechat", f"{prefix}-{i}")
            if enterprise_id:
                users.get(session, ref).enterprise_id = enterprise_id
    return [f"{prefix}-{i}" for i in range(n)]


def _sent_to(fake_api, path=SEND):
    return [c["body"].get("touser") or c["body"].get("chatid") for c in fake_api.calls if c["path"] == path]


def test_each_target_kind_reaches_the_right_people(services):
    _people(services, 3, "all")
    _people(services, 2, "vip", tag="重点企业")
    with services.db.session() as session:
        ref = users.find(session, "wechat", "all-0").id
        policies.set_subscription(session, ref, "科技", True)
        policies.deactivate_all(session, users.find(session, "wechat", "all-1").id)   # 退订
        users.find(session, "wechat", "all-2").followed = False                        # unfollowed
    with services.db.session() as session:
        assert sorted(r for _, r, _ in broadcasts.recipients(session, "all")) == ["all-0", "vip-0", "vip-1"]
        assert [r for _, r, _ in broadcasts.recipients(session, "topic:科技")] == ["all-0"]
        assert sorted(r for _, r, _ in broadcasts.recipients(session, "tag:重点企业")) == ["vip-0", "vip-1"]
        assert broadcasts.recipients(session, "group:wrk-chat-1") == [("wecom", "wrk-chat-1", "appchat")]
        with pytest.raises(broadcasts.TargetError):
            broadcasts.recipients(session, "everyone")


def test_a_broadcast_is_delivered_and_counted(services, fake_api):
    _people(services, 5)
    with services.db.session() as session:
        broadcast_id = broadcasts.create(services, session, "新政策", "研发补助开始申报", "all").id
    assert sorted(_sent_to(fake_api)) == [f"b-{i}" for i in range(5)]
    assert "【新政策】" in fake_api.calls[-1]["body"]["text"]["content"]
    with services.db.session() as session:
        assert broadcasts.status(session, broadcast_id) == {"id": broadcast_id, "total": 5, "sent": 5, "failed": 0,
                                                            "pending": 0}


def test_group_target_uses_wecom_appchat_with_duplicate_check(services, fake_api):
    with services.db.session() as session:
        broadcasts.create(services, session, "通知", "内容", "group:chat-9")
    assert _sent_to(fake_api, "/cgi-bin/appchat/send") == ["chat-9"]


def test_transient_errors_back_off_and_permanent_ones_fail_for_good(services, fake_api):
    _people(services, 3)
    fake_api.failures.append({"path": SEND, "errcode": -1, "times": 1})        # system busy: retry
    fake_api.failures.append({"path": SEND, "errcode": 43004, "times": 10})    # not following: give up
    with services.db.session() as session:
        broadcast_id = broadcasts.create(services, session, "t", "b", "all").id
    with services.db.session() as session:
        figures = broadcasts.status(session, broadcast_id)
        assert figures["failed"] == 2 and figures["pending"] == 1
        retry = session.query(Delivery).filter_by(status="pending").one()
        assert retry.not_before > utcnow() and retry.error.startswith("-1")
        retry.not_before = utcnow() - timedelta(seconds=1)   # the back-off has passed
    fake_api.failures.clear()
    broadcasts.deliver(broadcast_id)
    with services.db.session() as session:
        assert broadcasts.status(session, broadcast_id)["sent"] == 1
        assert all("43004" in f.error for f in store.failures(session, broadcast_id))


def test_staff_broadcast_from_the_chat_with_preview_and_confirm(client, settings, services, fake_api):
    _people(services, 2, "fan")
    staff = OfficialAccountUser(client, settings, "staff-1")
    staff.say("你好")
    with services.db.session() as session:
        users.find(session, "wechat", "staff-1").roles = ["staff"]
    preview = staff.say("广播 关于研发补助申报的通知：请各企业于12月底前申报")
    assert "将向 3 位接收人" in preview
    assert "已开始发送" in staff.say("确认")
    assert sorted(_sent_to(fake_api)) == ["fan-0", "fan-1", "staff-1"]
    stranger = OfficialAccountUser(client, settings, "fan-0")
    assert "将向" not in (stranger.say("广播 假通知：内容") or "")


def _worker_env(cli_env, fake_api):
    """Workers on the fake API, with small batches and a 1 s lease so a crash is quick to recover."""
    config = Path(cli_env["BOT_CONFIG"])
    write_config(config, {"broadcasts": {"lease_s": 1, "batch_size": 20, "send_threads": 4}}, base=config)
    return dict(cli_env, WECHAT_API_BASE=fake_api.base, WECOM_API_BASE=fake_api.base)


def _broadcast_for_workers(make_app, people: int):
    """An app whose jobs wait for real workers, and a broadcast to `people` recipients."""
    services = make_app(jobs_inline=False).extensions["bot"]
    _people(services, people)
    with services.db.session() as session:
        return services, broadcasts.create(services, session, "t", "b", "all").id


def _worker(env):
    return subprocess.Popen([sys.executable, "-m", "bot", "worker", "--burst"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_two_workers_share_a_broadcast_without_doubling_it(make_app, cli_env, fake_api):
    services, broadcast_id = _broadcast_for_workers(make_app, 120)
    fake_api.latency_s = 0.01
    env = _worker_env(cli_env, fake_api)
    workers = [_worker(env), _worker(env)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0
    sent = _sent_to(fake_api)
    assert len(sent) == 120 and len(set(sent)) == 120
    with services.db.session() as session:
        assert broadcasts.status(session, broadcast_id)["sent"] == 120


def test_a_worker_killed_mid_broadcast_loses_nothing(make_app, cli_env, fake_api):
    services, broadcast_id = _broadcast_for_workers(make_app, 200)
    fake_api.latency_s = 0.02
    env = _worker_env(cli_env, fake_api)
    victim = _worker(env)
    deadline = time.monotonic() + 60
    while len(_sent_to(fake_api)) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)          # no clean-up of any kind
    victim.wait()
    with services.db.session() as session:
        assert broadcasts.status(session, broadcast_id)["pending"] > 0
    time.sleep(1.5)                                # the dead worker's lease expires
    assert _worker(env).wait(timeout=120) == 0     # a new worker finds the stalled broadcast by itself
    with services.db.session() as session:
        assert broadcasts.status(session, broadcast_id) == {"id": broadcast_id, "total": 200, "sent": 200,
                                                            "failed": 0, "pending": 0}
    sent = _sent_to(fake_api)
    assert set(sent) == {f"b-{i}" for i in range(200)}
    assert len(sent) - 200 <= 20                   # duplicates bounded by one claimed batch


def test_cli_send_status_and_failures(make_app, cli_env, fake_api):
    app = make_app(jobs_inline=False)
    services = app.extensions["bot"]
    _people(services, 4)
    fake_api.failures.append({"path": SEND, "errcode": 40003, "times": 1})
    env = _worker_env(cli_env, fake_api)

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout
    broadcast_id = cli("broadcast", "send", "--title", "通知", "--body", "内容", "--to", "all").split()[-1]
    assert _worker(env).wait(timeout=120) == 0
    assert json.loads(cli("broadcast", "status", broadcast_id, "--json")) == {
        "id": int(broadcast_id), "total": 4, "sent": 3, "failed": 1, "pending": 0}
    assert "40003" in json.loads(cli("broadcast", "failures", broadcast_id, "--json"))[0]["error"]

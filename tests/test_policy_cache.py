"""The policy base kept in process (bot/policies/service.py): an edit is answered with its new text on the
next question (at once in the process that made it, within RECHECK_S elsewhere); nothing ORM-loaded per
question; the version asked of Redis at most once per RECHECK_S; the per-user "第2条" state still right."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from helpers import OfficialAccountUser, console_login, csrf
from sqlalchemy import event

from bot import demo
from bot.policies import service as policies
from storage import policies as store
from storage.models import Policy

QUESTION = "有没有稳岗返还的政策"
TITLE = "失业保险稳岗返还（演示）"


@pytest.fixture
def seeded(services):
    with services.db.session() as session:
        demo.seed(session)
    return services


class FakeMonotonic:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch):
    fake = FakeMonotonic()
    monkeypatch.setattr(policies, "monotonic", fake)
    return fake


def _edit_elsewhere(services, amount: str) -> None:
    """What another process (a console worker, the CLI) does: change the row, commit, bump the version in Redis,
    without touching this process's cache."""
    with services.db.session() as session:
        policy = store.by_title(session, TITLE)
        store.update(session, policy, TITLE, amount=amount)
    services.redis.set(policies.VERSION_KEY, "edited-elsewhere")


def test_a_console_edit_is_answered_at_once(client, settings, accounts):
    console_login(client, "admin1", "admin-pass-1")
    form = {"title": "园区光伏屋顶补贴", "level": "园区", "payout_mode": "依申请", "topics": ["产业"],
            "summary": "企业建设屋顶分布式光伏，按装机容量给予一次性补贴", "amount": "每千瓦200元",
            "contact": "园区经发局 0871-12345678"}
    page = "/admin/policies/new"
    assert client.post(page, data=dict(form, csrf_token=csrf(client, page))).status_code == 302
    asker = OfficialAccountUser(client, settings, "cache-console")
    assert "每千瓦200元" in asker.say("屋顶光伏有补贴吗")
    with accounts.db.session() as session:
        policy_id = store.by_title(session, "园区光伏屋顶补贴").id
    page = f"/admin/policies/{policy_id}/edit"
    edited = client.post(page, data=dict(form, amount="每千瓦300元", csrf_token=csrf(client, page)))
    assert edited.status_code == 302
    reply = asker.say("屋顶光伏有补贴吗")
    assert "每千瓦300元" in reply and "每千瓦200元" not in reply
    assert "每千瓦300元" in asker.say("第1条")


def test_an_edit_in_another_process_is_answered_within_the_recheck_interval(client, settings, seeded, monotonic):
    user = OfficialAccountUser(client, settings, "cache-elsewhere")
    assert "中小微企业返还60%" in user.say(QUESTION)
    _edit_elsewhere(seeded, "中小微企业返还90%")
    monotonic.now += policies.RECHECK_S / 2     # within the bound: this process has not asked Redis yet
    assert "中小微企业返还60%" in user.say(QUESTION)
    monotonic.now += policies.RECHECK_S         # past it: the new version is read, the base rebuilt
    reply = user.say(QUESTION)
    assert "中小微企业返还90%" in reply and "60%" not in reply
    assert "中小微企业返还90%" in user.say("第1条")


def test_a_change_made_here_is_seen_on_the_next_question_whatever_the_clock(client, settings, seeded, monotonic):
    user = OfficialAccountUser(client, settings, "cache-here")
    assert "中小微企业返还60%" in user.say(QUESTION)
    with seeded.db.session() as session:
        policies.save(seeded, session, store.by_title(session, TITLE),
                      {"title": TITLE, "amount": "中小微企业返还75%"})
    assert "中小微企业返还75%" in user.say(QUESTION)   # no time has passed
    with seeded.db.session() as session:
        policies.expire(seeded, session, store.by_title(session, TITLE))
    reply = user.say(QUESTION)
    assert "失业保险稳岗返还" not in reply and "暂时没有找到" in reply


def test_a_policy_question_reads_the_version_once_per_interval_and_loads_no_orm_rows(client, settings, seeded,
                                                                                     monotonic, monkeypatch):
    user = OfficialAccountUser(client, settings, "cache-count")
    user.say(QUESTION)   # builds the snapshot
    reads, loads = [], []
    real = policies._read_version
    monkeypatch.setattr(policies, "_read_version", lambda services: reads.append(1) or real(services))
    listener = lambda target, context: loads.append(target.id)
    event.listen(Policy, "load", listener)
    try:
        first = user.say("研发费用加计扣除怎么申请")
        assert "研发费用税前加计扣除" in first
        assert "研发项目立项文件" in user.say("第1条")
        assert "稳岗返还" in user.say("稳岗返还什么时候到账")
        assert "高校毕业生就业补贴" in user.say("招高校毕业生有补贴吗")
        assert reads == []            # all within RECHECK_S of the first question
        monotonic.now += policies.RECHECK_S + 0.1
        user.say("增值税留抵退税需要什么条件")
        assert reads == [1]           # one round trip for the version, then none again for RECHECK_S
        assert loads == []            # no Policy identity-loaded by any of these questions…
        with seeded.db.session() as session:
            store.by_title(session, TITLE)
        assert len(loads) == 1        # …though the listener does see one when it happens
    finally:
        event.remove(Policy, "load", listener)


def test_follow_ups_refer_to_what_this_user_was_shown(client, settings, seeded):
    first, second = OfficialAccountUser(client, settings, "cache-a"), OfficialAccountUser(client, settings, "cache-b")
    listed = first.say("人才补贴有哪些")
    assert listed.startswith("为您找到以下政策") and "2." in listed
    second.say(QUESTION)
    titles = [line.split("【")[1].split("】")[0] for line in listed.splitlines() if "【" in line]
    assert titles[1] in first.say("第2条")
    assert "稳岗返还" in second.say("第1条")


def test_the_cached_rows_are_immutable_values_and_deadlines_end_with_the_day(seeded):
    base = policies.snapshot(seeded)
    row = next(p for p in base.current if p.title == TITLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.amount = "改了"
    assert isinstance(row.topics, tuple)
    rules = next(p for p in base.current if p.rules).rules
    with pytest.raises(TypeError):
        rules["sizes"] = ["大型"]
    deadline = row.deadline
    assert row in policies.snapshot(seeded, today=deadline).current
    after = policies.snapshot(seeded, today=deadline + timedelta(days=1))
    assert row.id not in {p.id for p in after.current} and after.rows[row.id] == row   # still shown by "第1条"
    assert isinstance(deadline, date)

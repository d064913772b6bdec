"""Breakfast meetings: info, signup, waitlist, cancel-and-promote, reminders, check-in, tickets."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from helpers import OfficialAccountUser
from payloads import oa_xml, plain_query

from bot import clock
from bot.meetings import service as meetings
from storage import meetings as store
from storage import users


def _meeting(services, capacity=5, days=7, deadline_days=None, **extra):
    start = clock.now() + timedelta(days=days)
    if days >= 1:
        start = start.replace(hour=7, minute=30, second=0)
    deadline = start - timedelta(days=deadline_days) if deadline_days is not None else None
    with services.db.session() as session:
        return meetings.create(session, title=extra.pop("title", "乡情湘味政企早茶会"), starts_at=start,
                               venue="管委会三楼会议室", capacity=capacity, signup_deadline=deadline,
                               theme=extra.pop("theme", "农产品加工"), **extra).id


def _user(client, settings, services, openid, enterprise=None):
    if enterprise:
        from storage import enterprises
        industry = "酒类制造" if "酒" in enterprise else "软件和信息技术"
        with services.db.session() as session:
            enterprises.upsert(session, enterprise, industry=industry)
    user = OfficialAccountUser(client, settings, openid)
    if enterprise:   # a verified member, linked by staff
        with services.db.session() as session:
            users.link_enterprise(users.get_or_create(session, "wechat", openid), enterprises.by_name(session, enterprise).id)
    return user


def _roster(services, meeting_id):
    with services.db.session() as session:
        return [(s.user.user_id, s.status, s.seats) for s in store.roster(session, meeting_id)]


def test_info_lists_upcoming_meetings_with_seats_left(client, settings, services):
    _meeting(services, capacity=8)
    reply = _user(client, settings, services, "u-info").say("下一期早茶会什么时候，在哪里")
    assert "乡情湘味政企早茶会" in reply and "管委会三楼会议室" in reply and "剩余座位：8/8" in reply


def test_one_open_meeting_signs_up_at_once_and_again_changes_nothing(client, settings, services):
    meeting_id = _meeting(services, capacity=5)
    user = _user(client, settings, services, "u-1", "武陵云科技有限公司")
    reply = user.say("我报名下一期早茶会")
    assert "已为您报名「乡情湘味政企早茶会」，1人" in reply and "管委会三楼会议室" in reply
    assert "无需重复报名" in user.say("早茶会算我一个")
    assert _roster(services, meeting_id) == [("u-1", "confirmed", 1)]
    from bot.complaints import reports as complaint_reports
    with services.db.session() as session:
        figures = complaint_reports.stats(session)
    assert figures["signups"] == 1 and figures["policy_queries"] == 0


def test_colleagues_in_the_same_or_a_following_message(client, settings, services):
    meeting_id = _meeting(services, capacity=5, per_enterprise_limit=3)
    user = _user(client, settings, services, "u-2", "武陵云科技有限公司")
    assert "2人" in user.say("早茶会我参加，带一个同事")
    assert "已更新为3人" in user.say("再加一位，我们一共来三个人")
    assert "已记下" in user.say("想当面跟书记反映一下冷库资源不足的问题")
    with services.db.session() as session:
        record = store.roster(session, meeting_id)[0]
        assert record.seats == 3 and "冷库" in record.note
        assert store.get(session, meeting_id).seats_taken == 3


def test_full_meeting_waitlists_and_cancel_promotes_the_first_who_is_told(client, settings, services, fake_api):
    meeting_id = _meeting(services, capacity=1)
    first = _user(client, settings, services, "u-a")
    second = _user(client, settings, services, "u-b")
    third = _user(client, settings, services, "u-c")
    first.say("报名早茶会")
    assert "候补第1位" in second.say("报名早茶会")
    assert "候补第2位" in third.say("报名早茶会")
    assert "已取消" in first.say("早茶会我去不了了，帮我取消")
    assert _roster(services, meeting_id) == [("u-a", "cancelled", 1), ("u-b", "confirmed", 1),
                                             ("u-c", "waitlisted", 1)]
    told = [c["body"] for c in fake_api.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert [b["touser"] for b in told] == ["u-b"] and "候补转为正式" in told[0]["text"]["content"]


def test_deadline_closed_and_sector_get_clear_answers(client, settings, services):
    _meeting(services, capacity=5, days=1, deadline_days=2)   # deadline already passed
    reply = _user(client, settings, services, "u-late").say("报名早茶会")
    assert "报名已于" in reply and "截止" in reply


def test_wrong_sector_is_told(client, settings, services):
    _meeting(services, sector="酒类")
    reply = _user(client, settings, services, "u-s", "武陵云科技有限公司").say("报名早茶会")
    assert "面向酒类企业" in reply


def test_several_open_meetings_ask_which(client, settings, services):
    _meeting(services, days=5, title="第一期早茶会", theme="食品")
    second = _meeting(services, days=12, title="第二期早茶会", theme="电子信息")
    user = _user(client, settings, services, "u-m")
    assert "请回复序号或主题" in user.say("报名早茶会")
    assert "第二期早茶会" in user.say("电子信息那场")
    assert _roster(services, second) == [("u-m", "confirmed", 1)]


def test_cancel_without_a_signup(client, settings, services):
    assert "没有待参加" in _user(client, settings, services, "u-n").say("早茶会我不去了")


def test_reminder_is_sent_once_however_often_the_worker_runs(make_app, settings, fake_api):
    from bot import worker
    app = make_app(jobs_inline=False)
    services = app.extensions["bot"]
    meeting_id = _meeting(services, capacity=5, days=0.5)
    client = app.test_client()
    for openid in ("r-1", "r-2"):
        _user(client, settings, services, openid).say("报名早茶会")
    for _ in range(3):
        worker.run(services, burst=True)
    reminders = [c["body"]["touser"] for c in fake_api.calls if c["path"] == "/cgi-bin/message/custom/send"
                 and "提醒" in c["body"]["text"]["content"]]
    assert sorted(reminders) == ["r-1", "r-2"]
    assert meeting_id


def test_check_in_no_shows_and_tickets_raised_at_the_meeting(client, settings, services):
    meeting_id = _meeting(services, capacity=5)
    a = _user(client, settings, services, "c-1", "武陵云科技有限公司")
    b = _user(client, settings, services, "c-2", "湘西龙腾酒业有限公司")
    a.say("报名早茶会")
    b.say("报名早茶会")
    with services.db.session() as session:
        meeting = store.get(session, meeting_id)
        records = store.roster(session, meeting_id)
        meetings.check_in(session, records[0])
        assert meetings.finish(session, meeting) == 1
        from storage import enterprises
        complaint = meetings.raise_topic(services, session, meeting, enterprises.by_name(session, "湘西龙腾酒业有限公司"),
                                         "希望在厂门口增设公交站")
        assert complaint.source == "早茶会" and complaint.meeting_id == meeting_id
    with services.db.session() as session:
        statuses = [(s.user.user_id, s.status, s.no_show) for s in store.roster(session, meeting_id)]
        assert statuses == [("c-1", "attended", False), ("c-2", "confirmed", True)]
        assert [c.description for c in store.tickets_raised(session, meeting_id)] == ["希望在厂门口增设公交站"]


def test_20_concurrent_signups_never_confirm_more_than_5_seats(running_server, settings, services):
    meeting_id = _meeting(services, capacity=5)
    def sign_up(n):
        xml = oa_xml("报名早茶会", user=f"concurrent-{n}").encode()
        url = f"{running_server}/wechat?{plain_query(settings.wechat.token)}"   # WeChat signs each callback anew
        return requests.post(url, data=xml, headers={"Content-Type": "text/xml"}, timeout=15)
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(sign_up, range(20)))
    assert all(r.status_code == 200 for r in responses)
    statuses = [status for _, status, _ in _roster(services, meeting_id)]
    assert statuses.count("confirmed") == 5 and statuses.count("waitlisted") == 15
    with services.db.session() as session:
        assert store.get(session, meeting_id).seats_taken == 5


def test_edit_keeps_capacity_above_confirmed_seats_and_a_deadline_before_the_start(client, settings, services):
    meeting_id = _meeting(services, capacity=2)
    for openid in ("cap-1", "cap-2"):
        _user(client, settings, services, openid).say("报名早茶会")
    with services.db.session() as session:
        meeting = store.get(session, meeting_id)
        for bad in ({"capacity": 1}, {"signup_deadline": meeting.starts_at + timedelta(hours=1)},
                    {"status": "postponed"}):
            try:
                meetings.edit(services, session, meeting, **bad)
            except meetings.MeetingError:
                continue
            raise AssertionError(f"accepted {bad}")
        assert meetings.edit(services, session, meeting, capacity=3, title="新标题") == []
        assert (meeting.capacity, meeting.title) == (3, "新标题")

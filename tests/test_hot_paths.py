"""The webhook's hot paths read values instead of objects (issue 16): what they read must be what the
objects would have said — waitlist positions by COUNT, a filer's facts and a ticket's tellings by one
statement, a ticket created by one INSERT."""
from __future__ import annotations

import re
from datetime import timedelta

from helpers import OfficialAccountUser

from bot import clock
from bot.complaints import service as tickets
from bot.meetings import service as meetings
from storage import complaints as store
from storage import enterprises, identity, users
from storage import meetings as meeting_store
from storage.models import Complaint, utcnow

TICKET = re.compile(r"TS\d{13}")


def _meeting(session, capacity: int):
    start = (clock.now() + timedelta(days=7)).replace(hour=7, minute=30, second=0)
    return meetings.create(session, title="乡情湘味政企早茶会", starts_at=start, venue="管委会三楼会议室",
                           capacity=capacity, theme="农产品加工")


def _positions(session, meeting):
    """Each active signup's waitlist position (by COUNT), beside the one the loaded list gives."""
    listed = {s.id: n for n, s in enumerate(meeting_store.waitlist(session, meeting.id), 1)}
    counted = {s.id: meetings.waitlist_position(session, s) for s in meeting_store.roster(session, meeting.id)}
    assert counted == {s.id: listed.get(s.id, 0) for s in meeting_store.roster(session, meeting.id)}
    return counted


def test_waitlist_positions_follow_cancellations_and_promotions(services):
    with services.db.session() as session:
        meeting = _meeting(session, capacity=1)
        people = [users.get_or_create(session, "wechat", f"wl-{n}") for n in range(5)]
        records = [meetings.signup(services, session, meeting, person)[0] for person in people]
        a, b, c, d, e = records
        assert a.status == "confirmed"
        assert [_positions(session, meeting)[r.id] for r in records] == [0, 1, 2, 3, 4]
        meetings.cancel(services, session, c)                   # a waitlisted one withdraws
        assert [_positions(session, meeting)[r.id] for r in records] == [0, 1, 0, 2, 3]
        meetings.cancel(services, session, a)                   # the seat goes to the first waiting
        assert b.status == "confirmed"
        assert [_positions(session, meeting)[r.id] for r in records] == [0, 0, 0, 1, 2]
        e.waitlisted_at = d.waitlisted_at                       # the same moment: the earlier signup first
        assert (meetings.waitlist_position(session, d), meetings.waitlist_position(session, e)) == (1, 2)
        d.waitlisted_at = None                                  # not from signup(): the list decides
        _positions(session, meeting)
        d.waitlisted_at = e.waitlisted_at = utcnow()
        c2, reply = meetings.signup(services, session, meeting, people[2])   # signing up again after cancelling
        assert c2 is c and c.status == "waitlisted" and "候补第3位" in reply
        assert _positions(session, meeting)[c.id] == 3


def test_the_waitlist_position_is_told_in_the_chat(client, settings, services):
    with services.db.session() as session:
        _meeting(session, capacity=1)
    said = [OfficialAccountUser(client, settings, f"wl-chat-{n}").say("报名早茶会") for n in range(3)]
    assert "已为您报名" in said[0] and "候补第1位" in said[1] and "候补第2位" in said[2]
    assert "候补第1位" in OfficialAccountUser(client, settings, "wl-chat-1").say("我报名了吗")


def test_a_tickets_tellings_read_as_values_are_the_tickets(services):
    with services.db.session() as session:
        owner = users.get_or_create(session, "wechat", "tell-1")
        session.flush()
        first, merged = tickets.file(services, session, description="西区又停电了，三天了，生产线全停", category="供电",
                                     source="wechat", user_ref=owner.id)
        assert not merged
        again, merged = tickets.file(services, session, description="西区停电三天了，请尽快处理", category="供电",
                                     source="wechat", user_ref=owner.id, location="西区3号厂房")
        assert merged and again is first and first.repeat_count == 1
        other, _ = tickets.file(services, session, description="食堂饭菜里吃出了虫子", category="园区服务",
                                source="wechat", user_ref=owner.id)
        duplicate, _ = tickets.file(services, session, description="东门路灯坏了", category="道路交通",
                                    source="wechat", user_ref=owner.id)
        tickets.merge(services, session, duplicate, first, "staff")    # staff 并单: an event of each kind
        since = utcnow() - timedelta(days=7)
        loaded = store.open_of_owner_since(session, None, owner.id, since)
        read = store.repeat_candidates(session, None, owner.id, since)
        assert [c.id for c in read] == [c.id for c in loaded] == [other.id, first.id]
        for candidate, complaint in zip(read, loaded, strict=True):
            session.refresh(complaint)
            assert candidate.category == complaint.category
            assert tickets._tellings_of(candidate) == tickets.tellings(complaint)
        assert len(tickets.tellings(first)) == 3
        assert store.repeat_candidates(session, None, None, since) == []


def test_a_ticket_created_by_one_insert_reads_like_one_loaded(services):
    with services.db.session() as session:
        owner = users.get_or_create(session, "wechat", "insert-1")
        session.flush()
        complaint, _ = tickets.file(services, session, description="厂区门口的下水道堵了，一下雨就积水",
                                    category="供水", source="wechat", user_ref=owner.id, phone="13812345678")
        values = {column.key: getattr(complaint, column.key) for column in Complaint.__table__.columns}
        assert [e.kind for e in complaint.events] == ["filed"]          # loaded when asked for
        complaint.claimed_enterprise = "鼎盛物流有限公司"                 # a later change is written as usual
        complaint_id = complaint.id
    with services.db.session() as session:
        stored = session.get(Complaint, complaint_id)
        assert {key: getattr(stored, key) for key in values} == dict(values, claimed_enterprise="鼎盛物流有限公司")
        assert stored.contact_phone == "13812345678" and stored.status == "received"


def test_a_filers_facts_in_one_statement(services):
    with services.db.session() as session:
        enterprise, _ = enterprises.upsert(session, "鼎盛物流有限公司", industry="物流")
        user = users.get_or_create(session, "wechat", "facts-1")
        colleague = users.get_or_create(session, "wechat", "facts-2")
        session.flush()
        assert identity.filer(session, None) is None
        assert identity.filer(session, user.id) == identity.Filer(None, "", [], None, False)
        identity.file_claim(session, user, enterprise, "complaint")
        user.phone = "13812345678"                                   # not flushed yet: still counted
        facts = identity.filer(session, user.id)
        assert (facts.enterprise_id, facts.phone, facts.claimed, facts.has_tickets) == (
            None, "13812345678", "鼎盛物流有限公司", False)
        assert identity.claimed_name(session, user.id) == "鼎盛物流有限公司"
        users.link_enterprise(colleague, enterprise.id)
        tickets.file(services, session, description="园区东门那段路坑坑洼洼的", category="道路交通",
                     source="wechat", enterprise_id=enterprise.id, user_ref=colleague.id)
        # a claim is not membership: the enterprise's ticket is not the claimant's
        assert identity.filer(session, user.id).has_tickets is False
        identity.staff_link(session, user, enterprise, "admin")
        facts = identity.filer(session, user.id)
        assert (facts.enterprise_id, facts.claimed, facts.has_tickets) == (enterprise.id, None, True)


def test_a_first_ticket_its_status_and_a_user_with_none(client, settings, services):
    user = OfficialAccountUser(client, settings, "first-ticket")
    reply = user.say("厂区门口的下水道堵了，一下雨就积水")
    ticket = TICKET.search(reply).group(0)
    assert "请回复贵公司全称" in reply
    assert ticket in user.say("我反映的问题处理得怎么样了")
    other = OfficialAccountUser(client, settings, "no-ticket")
    assert "您目前没有办理中的诉求" in other.say("查一下我的工单进度")

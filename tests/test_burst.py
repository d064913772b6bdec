"""Speed must lose nothing: a burst with WeChat's retries mixed in is stored once and answered once; a message
costs two commits and two Redis round trips; with Redis unreachable it is still answered."""
from __future__ import annotations

import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import redis
import requests
from helpers import OfficialAccountUser
from payloads import oa_xml, plain_query, reply_content
from sqlalchemy import event, func, select

from storage.models import Complaint, InboundMessage

BURST = (("西区又停电了，三天了，生产线全停", True), ("厂区门口的下水道堵了，一下雨就积水", True),
         ("研发费用加计扣除怎么申请", False), ("我反映的问题处理得怎么样了", False), ("我要报名早茶会", False),
         ("你好", False), ("谢谢", False), ("你能做什么", False))


def test_a_burst_with_retries_is_stored_once_and_answered_once(running_server, settings, services):
    """What follows a broadcast: many owners at once, and WeChat retrying some callbacks while the first
    attempt is still running (the same MsgId, 2–3 times, out of order, concurrently)."""
    sends, sent = [], {}
    for i in range(48):
        text, files = BURST[i % len(BURST)]
        msg_id = str(7_000_000 + i)
        sent[msg_id] = (text, files)
        xml = oa_xml(text, user=f"openid-burst-{i}", msg_id=msg_id).encode()
        url = f"{running_server}/wechat?{plain_query(settings.wechat.token)}"
        sends += [(msg_id, url, xml)] * (1 + i % 3)
    random.Random(16).shuffle(sends)

    def post(send):
        msg_id, url, xml = send
        return msg_id, requests.post(url, data=xml, headers={"Content-Type": "text/xml"}, timeout=30)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(post, sends))

    answers = defaultdict(set)
    for msg_id, response in results:
        assert response.status_code == 200
        if response.text != "success":       # a retry that found no answer yet says nothing
            answers[msg_id].add(reply_content(response.text))
    assert set(answers) == set(sent), "every message was answered"
    assert all(len(texts) == 1 for texts in answers.values()), "every attempt that answered says the same"
    assert not any("抱歉" in text for texts in answers.values() for text in texts)
    with services.db.session() as session:
        stored = dict(session.execute(select(InboundMessage.dedupe_key, func.count()).group_by(
            InboundMessage.dedupe_key)).all())
        assert stored == dict.fromkeys(sent, 1)
        replies = dict(session.execute(select(InboundMessage.dedupe_key, InboundMessage.reply)).all())
        assert all(replies[msg_id] for msg_id in sent), "each stored with the reply it was given"
        assert session.scalar(select(func.count(Complaint.id))) == sum(files for _text, files in sent.values())


def test_a_message_costs_two_commits_and_two_redis_round_trips(client, settings, services, monkeypatch):
    user = OfficialAccountUser(client, settings)
    user.say("你好")                               # the first message of a user is no different, but warms up
    commits, round_trips = [], []

    def count_commit(_conn):
        commits.append(1)
    event.listen(services.db.engine, "commit", count_commit)
    sent = redis.connection.AbstractConnection.send_packed_command

    def counted(self, *args, **kwargs):
        round_trips.append(1)
        return sent(self, *args, **kwargs)
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    try:
        assert user.say("谢谢")
    finally:
        event.remove(services.db.engine, "commit", count_commit)
    # the stored message, then the handler's work with the reply; the claim with the replay guard and the
    # conversation state, then the conversation's changes with the cached reply
    assert len(commits) == 2
    assert len(round_trips) == 2


def test_with_redis_unreachable_a_message_is_still_stored_and_answered(settings, services):
    from bot import create_app
    app = create_app(settings=settings.with_overrides(redis_url="redis://127.0.0.1:1/0"))
    reply = OfficialAccountUser(app.test_client(), settings).say("你好", msg_id="919191")
    assert reply and "抱歉" not in reply
    with services.db.session() as session:
        assert session.scalar(select(func.count()).where(InboundMessage.dedupe_key == "919191")) == 1

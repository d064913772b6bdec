"""The JSON group webhook: HMAC, validation, when the bot speaks in a group."""
from __future__ import annotations

import json

import pytest
from helpers import GroupMember
from payloads import group_json, sign_group

from bot import demo
from storage import complaints, meetings, messages


def test_mentioned_question_is_answered_by_name(client, settings):
    reply = GroupMember(client, settings, name="李明").say("你能干什么", mentioned=True)
    assert reply.startswith("@李明 ")
    assert "园区联企助手" in reply


def test_idle_chat_in_the_group_gets_no_answer(client, settings):
    member = GroupMember(client, settings)
    assert member.say("谢谢大家") is None
    assert member.say("中午吃啥") is None


def test_unmentioned_confident_complaint_is_answered(client, settings):
    reply = GroupMember(client, settings, name="王五").say("我要投诉，西区又停电了，生产线全停")
    assert reply is not None and reply.startswith("@王五")


def test_members_agreeing_or_remarking_unmentioned_file_nothing(client, settings, services):
    """Fresh round 24: "係呀，冷氣都冇埋" agrees with a colleague's report; "学到了，我们去年就是漏报了" remarks on a
    policy answer — neither asks the park for anything (the model alone called both complaints)."""
    member = GroupMember(client, settings, name="關小灣", sender_id="wxid-guan")
    for said in ("係呀，冷氣都冇埋，熱到爆", "学到了，我们去年就是漏报了"):
        reply = member.say(said)
        assert reply is None or "已登" not in reply, said
    with services.db.session() as session:
        assert complaints.count(session) == 0


def test_asking_how_to_sign_up_unmentioned_is_told_how_and_signs_nobody_up(client, settings, services):
    with services.db.session() as session:
        demo.seed(session)
    reply = GroupMember(client, settings, name="薛鄱赣", sender_id="wxid-xue").say("我们也想去，怎么报名？")
    assert "@联企助手 报名早茶会" in reply and "已为您报名" not in reply
    with services.db.session() as session:
        assert meetings.count_signups(session) == 0


def test_forged_signature_is_403(client, settings):
    body, headers = group_json("wrong-secret", "你好", mentioned=True)
    assert client.post("/group", data=body, headers=headers).status_code == 403
    assert client.post("/group", data=body, headers={"Content-Type": "application/json"}).status_code == 403


@pytest.mark.parametrize("payload", [
    b"{not json", b"[1,2,3]", b'"text"', b"\xff\xfe", b"{}",
    json.dumps({"msg_id": 1, "group_id": "g", "sender_id": "s"}).encode(),
    json.dumps({"msg_id": 1, "group_id": 5, "sender_id": "s", "text": "x"}).encode(),
    json.dumps({"msg_id": True, "group_id": "g", "sender_id": "s", "text": "x"}).encode(),
    json.dumps({"msg_id": 1, "group_id": "g", "sender_id": "s", "text": "x", "mentioned": "yes"}).encode(),
])
def test_malformed_json_is_400(client, settings, payload):
    response = client.post("/group", data=payload, headers=sign_group(settings.group_webhook_secret, payload))
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_same_group_message_twice_is_filed_once(client, settings, services):
    body, headers = group_json(settings.group_webhook_secret, "菜单", mentioned=True, msg_id="m-1")
    first = client.post("/group", data=body, headers=headers).get_json()
    second = client.post("/group", data=body, headers=headers).get_json()
    assert first == second
    with services.db.session() as session:
        assert messages.count(session, "group") == 1


def test_long_group_answer_continues_with_more(client, settings, services):
    from bot.chat import replies
    member = GroupMember(client, settings)
    text = "\n".join(f"第{i}行：" + "政策内容" * 20 for i in range(40))
    chunks = replies.split_text(text, 2000)
    assert len(chunks) > 1 and all(len(c.encode()) <= 2000 for c in chunks)
    assert "".join(c.replace("\n", "") for c in chunks) == text.replace("\n", "")
    assert member.say("更多", mentioned=True)  # nothing waiting: falls back to the menu

"""Routing order, multi-step conversations, script and length of replies."""
from __future__ import annotations

from helpers import OfficialAccountUser

import handlers
from bot import demo
from nlp.split import two_requests
from storage import enterprises, identity, users


def test_routing_order_is_pinned():
    names = [r.name for r in handlers.ROUTES]
    assert names[0].startswith("events.")
    assert names.index("enterprise_link.start") < names.index("general.help_menu")
    assert names[-1] == "fallback.not_understood"


def _seed(services):
    with services.db.session() as session:
        demo.seed(session)


def test_claiming_an_enterprise_by_fuzzy_name_and_confirmation(client, settings, services):
    _seed(services)
    user = OfficialAccountUser(client, settings, "openid-link")
    assert "全称" in user.say("绑定企业")
    assert "武陵云科技有限公司" in user.say("武陵云科技")
    assert "已提交绑定「武陵云科技有限公司」的申请" in user.say("是")     # staff verify before it links
    with services.db.session() as session:
        user_row = users.find(session, "wechat", "openid-link")
        assert user_row.enterprise is None
        assert identity.claimed_name(session, user_row.id) == "武陵云科技有限公司"


def test_unknown_enterprise_is_asked_again(client, settings, services):
    _seed(services)
    user = OfficialAccountUser(client, settings, "openid-x")
    assert "没有在园区企业名录中找到" in user.say("绑定企业 月球矿业集团")
    assert "已取消" in user.say("取消")


def _two_bamboo_firms(services):
    with services.db.session() as session:
        enterprises.upsert(session, "湘西雪峰竹木制品有限公司")
        enterprises.upsert(session, "雪峰竹木家具有限公司")


def test_a_part_two_names_hold_offers_both_and_a_number_picks_one(client, settings, services):
    _two_bamboo_firms(services)
    user = OfficialAccountUser(client, settings, "openid-two")
    offer = user.say("绑定企业 雪峰竹木")
    assert "1. 湘西雪峰竹木制品有限公司" in offer and "2. 雪峰竹木家具有限公司" in offer
    assert "已提交绑定「雪峰竹木家具有限公司」的申请" in user.say("2")
    with services.db.session() as session:
        assert identity.claimed_name(session, users.find(session, "wechat", "openid-two").id) == "雪峰竹木家具有限公司"


def test_among_the_offered_names_a_word_of_one_picks_it_and_none_asks_again(client, settings, services):
    _two_bamboo_firms(services)
    user = OfficialAccountUser(client, settings, "openid-word")
    user.say("绑定企业 雪峰竹木")
    assert "已提交绑定「雪峰竹木家具有限公司」的申请" in user.say("家具")
    other = OfficialAccountUser(client, settings, "openid-none")
    other.say("綁定企業 雪峰竹木")
    assert "全稱" in other.say("都不是")                 # asked for the full name, in the user's script
    with services.db.session() as session:
        assert identity.claimed_name(session, users.find(session, "wechat", "openid-none").id) is None


def test_the_command_sent_again_while_asked_to_confirm_starts_over_with_the_new_name(client, settings, services):
    _seed(services)
    user = OfficialAccountUser(client, settings, "openid-again")
    assert "武陵云科技有限公司" in user.say("绑定企业 武陵云科技")
    assert "湘西苗岭农业科技有限公司" in user.say("绑定企业 湘西苗岭农业科技有限公司")
    assert "已提交绑定「湘西苗岭农业科技有限公司」的申请" in user.say("是")


def test_cancel_ends_a_flow_and_saves_nothing(client, settings, services):
    _seed(services)
    user = OfficialAccountUser(client, settings, "openid-c")
    user.say("绑定企业 龙腾酒业")
    assert "已取消「绑定企业」" in user.say("取消")
    assert "园区联企助手" in user.say("是")   # no pending question any more
    with services.db.session() as session:
        assert users.find(session, "wechat", "openid-c").enterprise is None


def test_a_clear_new_request_leaves_the_flow_and_says_so(client, settings, services):
    _seed(services)
    user = OfficialAccountUser(client, settings, "openid-d")
    user.say("绑定企业")
    reply = user.say("转人工")
    assert "已退出「绑定企业」" in reply and "工作人员" in reply


def test_conversation_expires_after_the_timeout(client, settings, services):
    _seed(services)
    OfficialAccountUser(client, settings, "openid-t").say("绑定企业")
    ttl = services.redis.ttl("conv:wechat:-:openid-t")
    assert 0 < ttl <= settings.conversation_timeout_s


def test_traditional_in_traditional_out(client, settings):
    reply = OfficialAccountUser(client, settings).say("你能幫我做什麼")
    assert "園區聯企助手" in reply


def test_unclear_message_offers_the_menu(client, settings):
    reply = OfficialAccountUser(client, settings).say("今天天气怎么样")
    assert "没太明白" in reply and "反映问题" in reply


def test_matchers_compose():
    from types import SimpleNamespace

    from bot.chat.message import Message
    from bot.chat.router import event, intent, keyword, msg_type
    from nlp import classify
    ctx = SimpleNamespace(nlu=classify("早茶會我去不了了"), user=None)
    text = Message("wechat", "u", "text", "早茶會我去不了了")
    assert (intent("meeting.cancel") & keyword("早茶会"))(text, ctx)        # keywords see Simplified text
    assert (keyword("补贴") | intent("meeting.cancel"))(text, ctx)
    assert not (~msg_type("text"))(text, ctx)
    assert not event("subscribe")(text, ctx)
    assert repr(intent("help") & ~keyword("x")) == "(intent('help',) & ~keyword('x',))"


def test_two_requests_in_one_message_are_split_only_when_each_part_is_a_clear_request_of_its_own():
    signup, question = two_requests("报名早茶会顺便问下稳岗补贴怎么申请")
    assert (signup[1].intent, question[1].intent) == ("meeting.signup", "policy.query")
    assert [i.intent for _, i in two_requests("上次报的停水修好没有？另外食堂饭菜又涨价了")] == ["complaint.status",
                                                                                     "complaint.file"]
    assert two_requests("现在还有没有稳岗补贴") is None          # 还有 as "still any"
    assert two_requests("西区停电三天了，还有东区也停电了") is None   # one matter for one department: one ticket
    outage, lights = two_requests("西区3号路停电三天了生产线全停 还有东门口那段路的路灯坏了一个月了")
    assert (outage[1].slots["category"], lights[1].slots["category"]) == ("供电", "道路交通")   # two departments
    assert two_requests("你好，另外谢谢你们") is None            # not requests

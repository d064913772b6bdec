"""Events, help, smalltalk, human hand-off, media and the fallback."""
from __future__ import annotations

import re
from dataclasses import replace

import nlp
from bot import clock
from bot.chat import replies
from bot.chat.context import Answer, Context
from bot.chat.message import Message
from bot.chat.router import Router, always, event, intent, msg_type, regex
from bot.complaints import matter
from bot.push import jobs
from handlers import complaints, policies, texts
from storage import meetings as meeting_store
from storage import users

events = Router("events")
general = Router("general")
fallback = Router("fallback")

# Menu keys configured in the Official Account / WeCom menu → what clicking them says for the user.
MENU_KEYS = {"MENU_HELP": "菜单", "MENU_COMPLAINT": "我要反映问题", "MENU_STATUS": "我的诉求",
             "MENU_POLICY": "哪些政策适合我们", "MENU_MEETING": "下一期早茶会什么时候",
             "MENU_SUBSCRIBE": "订阅政策推送", "MENU_HUMAN": "转人工"}


@events.route(event("subscribe"))
def on_subscribe(msg: Message, ctx: Context) -> Answer:
    users.set_followed(ctx.user, True)
    return texts.WELCOME


@events.route(event("enter_chat"))
def on_enter_chat(msg: Message, ctx: Context) -> Answer:
    """The WeCom robot's one-to-one chat opened: how to use it there and in groups (nothing is followed)."""
    return texts.WECOM_WELCOME


@events.route(event("unsubscribe"))
def on_unsubscribe(msg: Message, ctx: Context) -> Answer:
    users.set_followed(ctx.user, False)   # honoured by every later push
    return None


@events.route(event("scan"))
def on_scan(msg: Message, ctx: Context) -> Answer:
    return texts.WELCOME_BACK


@events.route(event("click"))
def on_click(msg: Message, ctx: Context) -> Answer:
    """A menu click is answered exactly as if the user had typed the item's phrase."""
    phrase = MENU_KEYS.get(msg.event_key, "菜单")
    typed = replace(msg, msg_type="text", text=phrase, event="", event_key="")
    ctx.nlu = nlp.classify(phrase, threshold=ctx.settings.intent_threshold)
    return ctx.reroute(typed)


@events.route(msg_type("event"))
def on_other_event(msg: Message, ctx: Context) -> Answer:
    return None   # view, location, template/mass-send job finished: stored, nothing to say


@general.route(regex(r"^更多$"))
def more(msg: Message, ctx: Context) -> Answer:
    return replies.take_more(ctx) or texts.FALLBACK


@general.route(regex(r"^(你好)?[,，]?(你是|您是|你们是)(谁|哪位|什么|啥|机器人|真人|人工|人还是机器|ai|智能)"))
def who_am_i(msg: Message, ctx: Context) -> Answer:
    """"你是机器人吗", "你是谁啊": who answers here."""
    return texts.WHO_AM_I


@general.route(regex(r"^(在吗|在不在|在么|在嘛|有人吗|有人在吗|hello\?*|喂)[?？!！。.~]*$"))
def are_you_there(msg: Message, ctx: Context) -> Answer:
    return texts.HERE


@general.route(intent("help"))
def help_menu(msg: Message, ctx: Context) -> Answer:
    slots = ctx.nlu.slots if ctx.nlu else {}
    if slots.get("hypothetical"):     # "如果停电了找谁": whom it goes to, and that telling the bot is enough
        category = matter.category(ctx.nlu.text)
        if category != "其他":
            department = ctx.services.complaint_rules.assignment(category).department
            return texts.IF_IT_HAPPENS.format(category=category, department=department)
        return texts.HOW_TO_COMPLAIN
    if slots.get("how_to_complain"):
        return texts.HOW_TO_COMPLAIN
    return texts.MENU


PUSHES_NAMED = re.compile(r"退订|推送|订阅")
SEAT_NAMED = re.compile(r"早茶|报名|名额")


def _holds_a_seat(ctx: Context) -> bool:
    return ctx.user_ref is not None and bool(meeting_store.active_signups_of_user(ctx.session, ctx.user_ref,
                                                                                  clock.now()))


@general.route(intent("smalltalk"))
def smalltalk(msg: Message, ctx: Context) -> Answer:
    text = ctx.nlu.text
    if ctx.nlu.slots.get("at_the_bot"):      # "垃圾机器人，一点用都没有": sorry, and the way to a person
        return texts.SORRY_UPSET
    held = ctx.nlu.slots.get("hold_off")
    if held in ("meeting.cancel", "policy.unsubscribe"):
        # "先不要取消喔，我再问问老板": the words say what is held back, else what there is to cancel — a seat first
        held = ("policy.unsubscribe" if PUSHES_NAMED.search(text) else "meeting.cancel" if SEAT_NAMED.search(text)
                else "meeting.cancel" if _holds_a_seat(ctx) else "policy.unsubscribe")
    if held in texts.HELD_BACK:
        return texts.HELD_BACK[held]
    if re.search(r"谢|感|thank|辛苦|赞|帮了大忙", text):
        return texts.THANKS
    if re.search(r"再见|拜拜|晚安", text):
        return texts.BYE
    if re.search(r"你好|您好|早|好$|hi|hello|大家好|各位", text) and len(text) <= 12:
        return texts.GREETING
    return texts.ACK


@general.route(intent("human"))
def human(msg: Message, ctx: Context) -> Answer:
    _hand_to_staff(msg, ctx)
    return texts.HUMAN


@general.route(msg_type("image", "voice", "video", "shortvideo", "location", "link", "file"))
def media(msg: Message, ctx: Context) -> Answer:
    return texts.MEDIA_ACK.format(kind=texts.MEDIA_RECEIVED.get(msg.msg_type, "消息"))


# The owner drops what they were saying: "那算了", "没事了", "不用了吧".
LETTING_GO = re.compile(r"(算了|没事了|不用了|无所谓了?)[吧啊呀哈~。.!！]*$")


@fallback.route(always())
def not_understood(msg: Message, ctx: Context) -> Answer:
    if msg.is_group and not msg.mentioned:
        return None
    if ctx.conversation is not None and ctx.conversation.held is not None:
        return texts.CANNOT_HELP    # a question is pending and is asked again right after: no menu, no offer
    if ctx.nlu is not None and LETTING_GO.search(ctx.nlu.text):
        return texts.LET_IT_GO      # "哦，可能是我们厂长报的，那算了": nothing to do, and no menu thrown at them
    guess = ctx.nlu.runner_up if ctx.nlu is not None else None
    filed = complaints.file_if_told(msg, ctx) if guess == "complaint.file" else None
    if filed:
        return filed
    answered = policies.answer_if_found(msg, ctx) if guess == "policy.query" else None
    if answered:
        return answered
    # A long message with no better guess may be a problem told in unfamiliar words: offer to file it.
    offer = complaints.offer_filing(msg, ctx) if guess in (None, "complaint.file") else None
    if offer:
        return offer
    if guess in texts.INTENT_NAMES:
        return texts.DID_YOU_MEAN.format(guess=texts.INTENT_NAMES[guess]) + "\n" + texts.MENU
    return texts.FALLBACK


def _hand_to_staff(msg, ctx) -> None:
    enterprise = ctx.user.enterprise.name if ctx.user and ctx.user.enterprise else "未绑定企业"
    who = msg.display_name or msg.user_id
    ctx.defer(jobs.notify_staff, texts.HUMAN_STAFF_NOTICE.format(who=who, enterprise=enterprise,
                                                                 text=msg.text[:200]))

"""Breakfast meetings in the chat: what is on, sign up (one open meeting: at once; too few seats: the seats
left are offered), the party size and the topic to raise kept, "我报名了吗", cancel."""
from __future__ import annotations

import re

from bot import clock
from bot.chat.context import Answer, Context
from bot.chat.conversation import Flow, State
from bot.chat.message import Message
from bot.chat.router import Matcher, Router, intent, regex
from bot.meetings import service as meetings
from bot.meetings import texts
from nlp.slots import chinese_number
from storage import meetings as store

router = Router("meetings")
DETAILS_TIMEOUT_S = 1800
OFFER_TIMEOUT_S = 1800
TRIVIAL_NOTE = re.compile(r"^[\W_]*$")
# "我报名了吗", "早茶会我报上了没", "我有没有报名", "我们一共报了几个人": the user's signup status, never a signup.
STATUS_ASKED = (r"(报名|报上名?|报了名)(早茶会|了|过|成功)*(吗|没|么|嘛|没有)|(有没有|是不是|是否|有无)(已经)?报(名|上)|"
                r"我的(早茶会)?报名|报名(情况|状态|信息)|报了(几|多少)(个|位|名)?人?|(一共|总共)(报|去)(了)?(几|多少)")
YES = re.compile(r"^(是的?|好的?|好吧|好啊|行吧?|行啊|可以的?|确认|确定|嗯+|对的?|ok|okay|没问题|就这样|那就这样|报吧|同意)"
                 r"([!.。!,，\s~]|$)")
NO = re.compile(r"不用|不要|不报|先不|不去|不了|那算了|拉倒|没必要")


# "同事不去了，算了还是我一个人去吧", "厂长那天来不了，只剩我一个": fewer people, not a cancellation.
FEWER_PEOPLE = re.compile(r"(还是|就|只剩|只有|只|净系|净是)我(自己)?一个(人)?|"
                          r"我一个人(去|来|参加|就好|就行|就够)|我自己(一个人?)?(去|来)|改成(我)?一个人|"
                          r"(他|她|boss|老板|领导|经理|同事)[^，,。]{0,3}(自己|一个人)去|"
                          r"(同事|厂长|经理|老板|领导|主管|他|她|另一个|另外一个)(那天)?(有事|来不了|去不了|不去了|不来了|不能去|"
                          r"不能来|去不成|来不成)")


def _fewer_seats(ctx: Context, record) -> int | None:
    """The seats a signup of several keeps when the message says fewer people come; None otherwise."""
    text = ctx.nlu.text if ctx.nlu else ""
    if record is None or record.seats < 2 or record.status not in ("confirmed", "waitlisted") \
            or not FEWER_PEOPLE.search(text):
        return None
    said = meetings.party_size(text)
    return said if said is not None and said < record.seats else record.seats - 1


def _signup_to_shrink(ctx: Context):
    active = store.active_signups_of_user(ctx.session, ctx.user_ref, clock.now()) if ctx.user_ref else []
    return next((record for record in active if _fewer_seats(ctx, record) is not None), None)


# "啱啱讲错咗，净系我一个去，同事要出差" with a signup of two: the model may hear a problem in it, so this goes
# before the complaints' routes (handlers/__init__.py); it matches only when there is a signup to shrink.
before_complaints = Router("meetings.before_complaints")


def _says_fewer_people(msg: Message, ctx: Context) -> bool:
    if FEWER_PEOPLE.search(ctx.nlu.text if ctx.nlu else "") is None:
        return False
    ctx.found["signup_to_shrink"] = record = _signup_to_shrink(ctx)
    return record is not None


@before_complaints.route(Matcher(_says_fewer_people, "fewer_people"))
def fewer_people(msg: Message, ctx: Context) -> Answer:
    record = ctx.found["signup_to_shrink"]
    return meetings.reduce_seats(ctx.services, ctx.session, record, _fewer_seats(ctx, record))


@router.route(regex(STATUS_ASKED) & intent("meeting.signup", "meeting.info", "meeting.cancel", "other", "smalltalk",
                                           "help"))
def status(msg: Message, ctx: Context) -> Answer:
    return meetings.signup_status(ctx.session, ctx.user, clock.now())


@router.route(intent("meeting.info"))
def info(msg: Message, ctx: Context) -> Answer:
    now = clock.now()
    return meetings.describe(store.upcoming(ctx.session, now), now)


def _wanted(ctx: Context) -> tuple[int | None, str]:
    """(party size, topic to raise) said in the message."""
    text = ctx.nlu.text if ctx.nlu else ""
    seats = meetings.party_size(text) or (ctx.nlu.slots.get("head_count") if ctx.nlu else None)
    return seats, meetings.topic_of(text)


# "我们也想去，怎么报名？" among members, unmentioned: a question how, answered; nobody is signed up by asking it
ASKS_HOW = re.compile(r"(怎么|怎样|如何|在哪|哪里|去哪)(里)?(报名|报|登记|参加|申请)|(报名|报)(方式|流程)")


@router.route(intent("meeting.signup"))
def signup(msg: Message, ctx: Context) -> Answer:
    if msg.is_group and not msg.mentioned and ctx.nlu is not None and ASKS_HOW.search(ctx.nlu.text):
        return texts.HOW_TO_SIGN_UP_IN_GROUP
    now = clock.now()
    choices = meetings.open_for_signup(ctx.session, now)
    if not choices:
        upcoming = store.upcoming(ctx.session, now)
        if upcoming:   # there is one, but signups are closed: say so plainly
            first = upcoming[0]
            return texts.DEADLINE_PASSED.format(title=meetings.title(first), deadline=meetings.when(first.signup_deadline))
        return texts.NO_OPEN
    seats, topic = _wanted(ctx)
    if len(choices) == 1:
        return _sign_up(msg, ctx, choices[0], seats or 1, topic)
    ctx.conversation.start("meeting_choose", "choose", {"ids": [m.id for m in choices], "seats": seats or 1,
                                                        "topic": topic})
    options = "\n".join(f"{n}. {meetings.title(m)}{'（' + m.theme + '）' if m.theme else ''} {meetings.when(m.starts_at)}"
                        for n, m in enumerate(choices, 1))
    return texts.CHOOSE.format(options=options)


def choose(msg: Message, ctx: Context, state: State) -> Answer:
    ids = state.data["ids"]
    text = (ctx.nlu.text if ctx.nlu else msg.text).strip()
    picked = None
    number = re.match(r"^第?(\d+)", text)
    if number and 1 <= int(number.group(1)) <= len(ids):
        picked = store.get(ctx.session, ids[int(number.group(1)) - 1])
    else:
        for meeting_id in ids:
            meeting = store.get(ctx.session, meeting_id)
            if (meeting.theme and meeting.theme in text) or meeting.title in text:
                picked = meeting
                break
    if picked is None:
        return texts.CHOOSE_AGAIN.format(n=len(ids))
    ctx.conversation.clear()
    return _sign_up(msg, ctx, picked, state.data["seats"], state.data.get("topic") or state.data.get("note", ""))


def _sign_up(msg: Message, ctx: Context, meeting, seats: int, topic: str = "") -> Answer:
    """Sign up `seats` people; with fewer seats left (or the enterprise's allowance nearly used) the seats
    that are left are offered first; an existing signup keeps its seats and gains the topic."""
    user = ctx.user
    existing = store.signup_of(ctx.session, meeting.id, user.id)
    if existing is not None and existing.status in ("confirmed", "waitlisted", "attended"):
        if topic:
            existing.note = meetings.topic_note(existing.note, topic)
            return texts.TOPIC_NOTED.format(topic=topic)
        if seats > existing.seats:
            return _more_seats(ctx, existing, seats)
        said = meetings.party_size(ctx.nlu.text) if ctx.nlu else None
        if said is not None and said < existing.seats:   # "算了还是我一个人去吧": fewer than signed up for
            return meetings.reduce_seats(ctx.services, ctx.session, existing, said)
        return meetings.signup(ctx.services, ctx.session, meeting, user, seats,
                               existing=existing)[1]   # says: already signed up
    found = meetings.room(ctx.session, meeting, user.enterprise_id, held=0)
    if seats > found.seats and (found.seats > 0 or found.limited_by == "enterprise"):
        if found.seats <= 0:   # the enterprise's allowance is used up: say why
            return texts.ENTERPRISE_LIMIT.format(title=meetings.title(meeting), limit=found.limit, taken=found.taken)
        ctx.conversation.start("meeting_offer", "offer", {"meeting_id": meeting.id, "offer": found.seats,
                                                          "asked": seats, "topic": topic})
        return meetings.offer_text(meeting, found, seats)
    # what was just read goes along: the signup (or None) and the seats the enterprise holds (room())
    return _confirm(msg, ctx, meeting, seats, topic, existing, found.taken if user.enterprise_id else None)


def _confirm(msg: Message, ctx: Context, meeting, seats: int, topic: str, existing=meetings.UNREAD,
             taken: int | None = None) -> Answer:
    record, reply = meetings.signup(ctx.services, ctx.session, meeting, ctx.user, seats,
                                    meetings.topic_note("", topic) if topic else "", existing=existing, taken=taken)
    if record is not None and record.status in ("confirmed", "waitlisted"):
        ctx.conversation.start("meeting_details", "details", {"signup_id": record.id})
        if topic:
            reply += "\n" + texts.TOPIC_NOTED.format(topic=topic)
    return reply


def _more_seats(ctx: Context, record, seats: int) -> Answer:
    reply, found = meetings.change_seats(ctx.session, record, seats)
    if found is not None:   # fewer left than asked: offered, waiting for 是
        ctx.conversation.start("meeting_offer", "offer", {"signup_id": record.id, "meeting_id": record.meeting_id,
                                                          "offer": found.seats, "asked": seats - record.seats})
    return reply


def _offer_answer(msg: Message, ctx: Context, state: State) -> tuple[bool, int | None, bool]:
    """(is it an answer, seats wanted or None for "as offered", declined) for "先为您报1人？"."""
    nlu = ctx.nlu
    text = (nlu.text if nlu else msg.text).strip()
    wanted = meetings.party_size(text)
    bare = re.fullmatch(r"(\d{1,2}|[一二两三四五六七八九十])[个人位]?[!.。]*", text)
    if wanted is None and bare:   # "2" to "先为您报2人？"
        wanted = chinese_number(bare.group(1))
    if state.data.get("signup_id") and wanted is not None and not re.search(r"一共|总共|我们|咱们", text):
        wanted = wanted - 1 if re.search(r"带|加|同事", text) else wanted   # "那就带一个吧": one more
    if NO.search(text) and wanted is None:
        return True, None, True
    said_yes = bool(YES.match(text)) or bool(bare) or (wanted is not None and bool(re.search(r"先|那就|就|报|可以|行|好", text)))
    by_number = wanted is not None and nlu is not None and nlu.intent in ("meeting.signup", "other", "smalltalk")
    return said_yes or by_number, wanted, False


def offer_accepts(msg: Message, ctx: Context, state: State) -> bool:
    return _offer_answer(msg, ctx, state)[0]


def offer_reask(ctx: Context, state: State) -> str:
    return texts.OFFER_REMIND.format(n=state.data["offer"])


def offer(msg: Message, ctx: Context, state: State) -> Answer:
    """The answer to "还剩1个名额，先为您报1人？": 是/好/行, a number that fits, or 不用了 (anything else is a
    digression the Dispatcher answers, keeping the offer)."""
    data = state.data
    _, wanted, declined = _offer_answer(msg, ctx, state)
    if declined:
        ctx.conversation.clear()
        return texts.OFFER_DECLINED
    meeting = store.get(ctx.session, data["meeting_id"])
    seats = data["offer"] if wanted is None else wanted
    if meeting is not None and seats > data["offer"]:
        return texts.OFFER_AGAIN.format(title=meetings.title(meeting), n=data["offer"])
    ctx.conversation.clear()
    if meeting is None:
        return texts.NO_OPEN
    if data.get("signup_id"):
        record = store.get_signup(ctx.session, data["signup_id"])
        if record is None or record.status != "confirmed":
            return texts.NOTHING_TO_CANCEL
        reply, found = meetings.change_seats(ctx.session, record, record.seats + seats)
        return texts.OFFER_GONE + reply if found is not None else reply
    return _confirm(msg, ctx, meeting, seats, data.get("topic") or "")


def decline_offer(msg: Message, ctx: Context, state: State) -> Answer:
    ctx.conversation.clear()
    return texts.OFFER_DECLINED


def _detail(msg: Message, ctx: Context, state: State) -> tuple[str, object]:
    """What a message after signing up adds: ("seats", n), ("topic", text), ("note", text) or ("", None)."""
    record = store.get_signup(ctx.session, state.data["signup_id"])
    nlu = ctx.nlu
    if record is None or nlu is None:
        return "", None
    text = nlu.text
    seats = meetings.party_size(text)
    if seats and re.search(r"再|还|另外", text) and not re.search(r"一共|总共|我们|咱们", text):
        seats = record.seats + seats - 1   # "再加一个同事": one more than now
    if seats and seats > record.seats and nlu.intent in ("meeting.signup", "other", "smalltalk"):
        return "seats", seats
    topic = meetings.topic_of(text, need_context=True)
    if topic and nlu.intent in ("other", "complaint.file", "meeting.signup", "policy.query"):
        return "topic", topic
    if nlu.intent == "other" and not TRIVIAL_NOTE.match(msg.text) and meetings.MEETING_CONTEXT.search(text):
        return "note", msg.text
    return "", None


def details_accepts(msg: Message, ctx: Context, state: State) -> bool:
    return bool(_detail(msg, ctx, state)[0])


def details(msg: Message, ctx: Context, state: State) -> Answer:
    """A message after signing up: more colleagues ("带两个同事") or the topic to raise."""
    record = store.get_signup(ctx.session, state.data["signup_id"])
    kind, value = _detail(msg, ctx, state)
    if kind == "seats":
        return _more_seats(ctx, record, value)
    if kind == "topic":
        record.note = meetings.topic_note(record.note, value)
        return texts.TOPIC_NOTED.format(topic=value)
    record.note = (record.note + "\n" + value).strip()[:1000]
    return texts.DETAILS_NOTED.format(text=value[:60])


@router.route(intent("meeting.cancel"))
def cancel(msg: Message, ctx: Context) -> Answer:
    active = store.active_signups_of_user(ctx.session, ctx.user_ref, clock.now())
    if not active:
        return texts.NOTHING_TO_CANCEL
    ctx.conversation.clear()
    return meetings.cancel(ctx.services, ctx.session, active[0])


def cancel_signup(msg: Message, ctx: Context, state: State) -> Answer:
    """"取消" right after signing up means the signup; "没事了" or "算了" only ends the follow-up."""
    record = store.get_signup(ctx.session, state.data["signup_id"])
    ctx.conversation.clear()
    fewer = _fewer_seats(ctx, record)
    if fewer is not None:      # "同事不去了": one person fewer, the signup stays
        return meetings.reduce_seats(ctx.services, ctx.session, record, fewer)
    if not re.search(r"取消|不去|去不了|不参加|退出|撤销", ctx.nlu.text if ctx.nlu else msg.text):
        return ctx.reroute(msg)
    if record is None or record.status not in ("confirmed", "waitlisted"):
        return texts.NOTHING_TO_CANCEL
    return meetings.cancel(ctx.services, ctx.session, record)


FLOWS = [
    Flow("meeting_choose", "选择早茶会", {"choose": choose},
         answers=("other", "smalltalk", "meeting.signup", "meeting.info")),
    Flow("meeting_offer", "早茶会名额", {"offer": offer}, accepts=offer_accepts, reask=offer_reask,
         timeout_s=OFFER_TIMEOUT_S, on_cancel=decline_offer),
    Flow("meeting_details", "补充报名信息", {"details": details}, accepts=details_accepts, optional=True,
         timeout_s=DETAILS_TIMEOUT_S, on_cancel=cancel_signup),
]

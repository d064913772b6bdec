"""Complaints in the chat: file at once or step by step, ask status, rate the result."""
from __future__ import annotations

import re

from bot import clock
from bot.chat.context import Answer, Context
from bot.chat.conversation import Flow, State
from bot.chat.message import Message
from bot.chat.router import Router, intent, msg_type, regex
from bot.complaints import service, texts
from bot.identity import service as membership
from bot.push import jobs, outbound
from handlers.texts import MEDIA_RECEIVED
from nlp.slots import complaint_category, match_company, phones
from storage import complaints as store
from storage import enterprises, identity

router = Router("complaints")
BARE_REQUEST = re.compile(r"^(我|我们)?(要|想|需要)?(投诉|反映|举报|提|complain)(一下|一个|个|些)?"
                          r"(问题|事情|情况|诉求|事)?(可以吗|行吗)?[!.?。！？~]*$")
SKIP = re.compile(r"^(跳过|没有|无|不用|不方便|略|skip)[!.。！]*$")
RATING_WORDS = (("非常不满意", 1), ("不满意", 2), ("基本满意", 3), ("非常满意", 5), ("满意", 4))
MIN_DESCRIPTION_CHARS = 4
OFFER_MIN_CHARS = 10          # a message this long that nothing understood may be a problem worth filing
YES_FILE = re.compile(r"^(登记|登记一下|帮我登记|是|是的|好|好的|可以|要|对|嗯|确认|yes|ok)[!。.~]*$", re.I)
DESCRIBED_SIMILARITY = 0.25   # "我上周反映的停电问题" names a ticket when this much of it matches


def _kind(text: str) -> str:
    return "投诉" if re.search(r"投诉|举报|complain", text) else "诉求"


def _owner(ctx) -> tuple[int | None, int | None]:
    """(the user's VERIFIED enterprise, the user): unverified users own only what they filed."""
    user = ctx.user
    return (user.enterprise_id if user else None), ctx.user_ref


@router.route(intent("complaint.file") & ~msg_type("event"))
def file_complaint(msg: Message, ctx: Context) -> Answer:
    """A stated problem is filed at once; a bare "我要投诉" starts the guided flow."""
    text = ctx.nlu.text
    if BARE_REQUEST.match(text) or sum(ch.isalnum() for ch in text) < MIN_DESCRIPTION_CHARS:
        ctx.conversation.start("complaint_guided", "what", {"media": []})
        return texts.GUIDED_WHAT
    return _file(msg, ctx, msg.text, phone=(ctx.nlu.slots.get("phones") or [""])[0])


def _file(msg, ctx, description: str, location: str = "", phone: str = "", media=()) -> str:
    enterprise_id, user_ref = _owner(ctx)
    complaint, merged = service.file(
        ctx.services, ctx.session, description=description, category=complaint_category(description),
        source=msg.channel, kind=_kind(description), enterprise_id=enterprise_id, user_ref=user_ref,
        location=location, phone=phone or (ctx.user.phone if ctx.user else ""), media=media)
    if merged:
        return texts.MERGED.format(ticket=complaint.ticket_no, status=texts.STATUS_NAMES[complaint.status],
                                   times=complaint.repeat_count + 1)
    reply = texts.FILED.format(kind=complaint.kind, ticket=complaint.ticket_no, category=complaint.category,
                               department=complaint.department, accept_due=complaint.accept_due.isoformat(),
                               due=complaint.due.isoformat())
    if complaint.enterprise_id is None and not complaint.claimed_enterprise and not msg.is_group:
        ctx.conversation.start("complaint_enterprise", "name", {"complaint_id": complaint.id})
        reply += texts.ASK_ENTERPRISE
    return reply


# --- guided filing: what → where → phone → file ---

def guided_what(msg: Message, ctx: Context, state: State) -> Answer:
    if _attach(msg, state):
        ctx.conversation.move(state)
        return texts.GUIDED_MEDIA.format(kind=MEDIA_RECEIVED.get(msg.msg_type, "附件"))
    text = msg.text.strip()
    if sum(ch.isalnum() for ch in text) < MIN_DESCRIPTION_CHARS or BARE_REQUEST.match(ctx.nlu.text):
        return texts.GUIDED_TOO_SHORT
    state.data["description"], state.step = text, "where"
    ctx.conversation.move(state)
    return texts.GUIDED_WHERE


def guided_where(msg: Message, ctx: Context, state: State) -> Answer:
    if msg.msg_type == "location":
        state.data["location"] = msg.payload.get("Label") or f"{msg.payload.get('Location_X')},{msg.payload.get('Location_Y')}"
    elif _attach(msg, state):
        ctx.conversation.move(state)
        return texts.GUIDED_MEDIA.format(kind=MEDIA_RECEIVED.get(msg.msg_type, "附件"))
    elif not SKIP.match(msg.text.strip()):
        state.data["location"] = msg.text.strip()[:200]
    known_phone = (ctx.user.phone if ctx.user else "") or (phones(state.data["description"]) or [""])[0]
    if known_phone:
        return _finish_guided(msg, ctx, state, known_phone)
    state.step = "phone"
    ctx.conversation.move(state)
    return texts.GUIDED_PHONE


def guided_phone(msg: Message, ctx: Context, state: State) -> Answer:
    text = msg.text.strip()
    found = phones(text.replace(" ", ""))
    if not found and not SKIP.match(text):
        return texts.GUIDED_BAD_PHONE
    if found and ctx.user is not None:
        ctx.user.phone = found[0]
    return _finish_guided(msg, ctx, state, found[0] if found else "")


def _finish_guided(msg, ctx, state, phone: str) -> str:
    ctx.conversation.clear()
    return _file(msg, ctx, state.data["description"], state.data.get("location", ""), phone,
                 state.data.get("media", []))


def _attach(msg, state) -> bool:
    """Photos, voice and files sent during the flow go with the ticket."""
    if msg.msg_type not in ("image", "voice", "video", "file", "link"):
        return False
    item = {k: msg.payload.get(k) for k in ("MediaId", "PicUrl", "Url", "Title") if msg.payload.get(k)}
    state.data.setdefault("media", []).append(dict(item, type=msg.msg_type))
    if msg.msg_type == "voice" and msg.text:
        state.data["description"] = (state.data.get("description", "") + " " + msg.text).strip()
    return True


# --- the enterprise behind a ticket filed by an unverified user: a claim, never a link ---

def enterprise_name(msg: Message, ctx: Context, state: State) -> Answer:
    complaint = store.get(ctx.session, state.data["complaint_id"])
    ctx.conversation.clear()
    code = identity.find_code(msg.text)
    if code:
        reply = membership.redeem_code(ctx.services, ctx.session, msg, ctx.user, code)
        if ctx.user.enterprise_id is not None and complaint.enterprise_id is None:
            complaint.enterprise_id = ctx.user.enterprise_id
        return reply
    name = match_company(ctx.nlu.text if ctx.nlu else msg.text, enterprises.names(ctx.session))
    enterprise = enterprises.by_name(ctx.session, name) if name else None
    if enterprise is None:
        service.add_note(ctx.session, complaint, f"用户自报企业：{msg.text[:60]}", "user")
        return texts.ENTERPRISE_NOTED.format(text=msg.text[:40], ticket=complaint.ticket_no)
    complaint.claimed_enterprise = enterprise.name
    if ctx.user is not None and ctx.user.enterprise_id is None:
        identity.file_claim(ctx.session, ctx.user, enterprise, "complaint", complaint.ticket_no)
    return texts.ENTERPRISE_CLAIMED.format(ticket=complaint.ticket_no, name=enterprise.name)


# --- status queries ---

@router.route(intent("complaint.status") | regex(r"^(查询|查)\s*ts\d{13}$"))
def status(msg: Message, ctx: Context) -> Answer:
    answer = _status_answer(msg, ctx)
    return _privately(msg, ctx, answer) if msg.is_group else answer


def _privately(msg, ctx, answer: str) -> str:
    """A ticket's details are the enterprise's business, not the whole group's: they go to the asker
    alone (a WeCom member through the WeCom app), or, when nobody can be reached privately, nowhere."""
    if outbound.can_push_privately(ctx.services, msg.channel, msg.user_id):
        jobs.queue_push(ctx.services, ctx.session, msg.channel, msg.user_id, answer, title=texts.STATUS_PUSH_TITLE)
        return texts.STATUS_SENT_PRIVATELY
    return texts.STATUS_ASK_PRIVATELY


def _status_answer(msg, ctx) -> str:
    enterprise_id, user_ref = _owner(ctx)
    ticket_ids = ctx.nlu.slots.get("ticket_ids") or []
    if ticket_ids:
        complaint = store.by_ticket(ctx.session, ticket_ids[0])
        if complaint is None or not store.visible_to(complaint, enterprise_id, user_ref):
            return texts.NOT_FOUND.format(ticket=ticket_ids[0])
        return describe(complaint)
    mine = store.of_owner(ctx.session, enterprise_id, user_ref)
    if not mine:
        return texts.NONE_OPEN
    best = max(mine, key=lambda c: service.similarity(c.description, ctx.nlu.text))
    if service.similarity(best.description, ctx.nlu.text) >= DESCRIBED_SIMILARITY:
        return describe(best)
    active = [c for c in mine if c.status in store.ACTIVE_STATUSES]
    if not active:
        return describe(mine[0])
    lines = [texts.MY_LIST_HEAD] + [texts.MY_LIST_ITEM.format(
        ticket=c.ticket_no, status=texts.STATUS_NAMES[c.status], category=c.category,
        summary=c.description[:20]) for c in active[:8]]
    return "\n".join(lines) + texts.MY_LIST_TAIL


def describe(complaint) -> str:
    text = texts.STATUS_LINE.format(ticket=complaint.ticket_no, status=texts.STATUS_NAMES[complaint.status],
                                    category=complaint.category, department=complaint.department,
                                    due=complaint.due.isoformat())
    if complaint.extended:
        text += texts.STATUS_EXTENDED
    public = [e for e in complaint.events if e.public and e.kind != "filed"]
    if public:
        last = public[-1]
        text += texts.STATUS_LAST_REPLY.format(at=clock.to_local(last.at).strftime("%m-%d"), text=last.text[:200])
    return text


@router.route(regex(r"^我的(诉求|工单|投诉)"))
def my_tickets(msg: Message, ctx: Context) -> Answer:
    return status(msg, ctx)


# --- the return visit (回访): the next reply after "resolved" is the rating ---

def parse_rating(text: str) -> tuple[int, str] | None:
    text = text.strip()
    match = re.match(r"^([1-5])(?!\d)\s*[分星,.，。、:：]?\s*(.*)$", text)
    if match:
        return int(match.group(1)), match.group(2).strip()
    for word, score in RATING_WORDS:
        if text.startswith(word):
            return score, text[len(word):].strip(" ,，。.!！")
    return None


def rating_step(msg: Message, ctx: Context, state: State) -> Answer:
    complaint = store.get(ctx.session, state.data["complaint_id"])
    parsed = parse_rating(msg.text)
    if complaint is None or complaint.status != "resolved":
        ctx.conversation.clear()          # nothing to rate any more: treat it as a new message
        return ctx.reroute(msg)
    if parsed is None:
        return texts.RATING_ASK_AGAIN.format(ticket=complaint.ticket_no)
    ctx.conversation.clear()
    return service.rate(ctx.services, ctx.session, complaint, parsed[0], parsed[1])


# --- a long message nobody understood: offer to file it as told ---

def offer_filing(msg, ctx) -> str | None:
    """Problems come in words no rule knows; rather than lose one, offer to file the message as it is
    (one reply: "登记"). Not in groups, not for short messages."""
    if msg.is_group or msg.msg_type != "text" or sum(ch.isalnum() for ch in msg.text) < OFFER_MIN_CHARS:
        return None
    ctx.conversation.start("complaint_offer", "confirm", {"text": msg.text[:4000]})
    return texts.OFFER_FILING


def offer_confirm(msg: Message, ctx: Context, state: State) -> Answer:
    ctx.conversation.clear()
    if YES_FILE.match(ctx.nlu.text.strip()):
        return _file(msg, ctx, state.data["text"])
    return texts.OFFER_DECLINED


FLOWS = [
    Flow("complaint_offer", "登记诉求", {"confirm": offer_confirm}, answers=("other", "smalltalk")),
    Flow("complaint_guided", "反映问题", {"what": guided_what, "where": guided_where, "phone": guided_phone},
         answers=("complaint.file", "other", "smalltalk", "complaint.status")),
    Flow("complaint_enterprise", "登记企业名称", {"name": enterprise_name},
         answers=("other", "smalltalk", "complaint.file")),
    # Started by the complaints service when a ticket is resolved (from chat, console or CLI alike).
    Flow(service.RATING_FLOW, "评价", {service.RATING_STEP: rating_step},
         answers=("other", "smalltalk", "complaint.file", "complaint.status"),
         timeout_s=service.RATING_FLOW_TIMEOUT_S),
]

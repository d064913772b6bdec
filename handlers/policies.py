"""Policies in the chat: answer questions, expand one, what suits us, payouts, subscriptions."""
from __future__ import annotations

import re

from bot.broadcasts import service as broadcasts
from bot.chat.context import Answer, Context
from bot.chat.conversation import Flow, State
from bot.chat.message import Message
from bot.chat.router import Router, intent, regex, staff_only
from bot.complaints import service as complaints
from bot.policies import service as policies
from bot.policies import texts
from nlp.intents import INTENTS
from nlp.slots import policy_topics
from storage import policies as store

router = Router("policies")
PAYOUT = re.compile(r"到账|拨付|拨款|兑现|发放|什么时候发|哪个月|哪个环节|到哪一步|进度")
ORDINALS = {"1": 0, "一": 0, "2": 1, "二": 1, "3": 2, "三": 2}


@router.route(regex(r"^(查看)?(第?[123一二三]条|详细|详情)[!.。]*$"))
def expand(msg: Message, ctx: Context) -> Answer:
    ids = policies.last_answer(ctx.services, ctx.msg).get("ids") or []
    found = re.search(r"[123一二三]", ctx.nlu.text)
    position = ORDINALS[found.group(0)] if found else 0
    if position >= len(ids):
        return texts.NO_DETAIL
    policy = store.get(ctx.session, ids[position])
    return policies.detail(policy) if policy else texts.NO_DETAIL


@router.route(regex(r"(哪些|什么|有啥)政策.{0,8}(适合|符合|能享受|可以享受|能申请|可以申请)|适合我们的政策|我们能享受(哪些|什么)"))
def suitable(msg: Message, ctx: Context) -> Answer:
    enterprise = ctx.user.enterprise if ctx.user else None
    if enterprise is None:
        return texts.FIT_NEED_ENTERPRISE
    found = policies.suitable(ctx.session, enterprise)
    if not found:
        return texts.FIT_NONE
    policies.remember_answer(ctx.services, ctx.msg, [p.id for p, _ in found[:5]], msg.text)
    lines = [texts.FIT_HEAD.format(name=enterprise.name, profile="、".join(policies.profile_words(enterprise)))]
    lines += [texts.FIT_ITEM.format(n=n, title=p.title, amount=p.amount or "见政策原文", why=why)
              for n, (p, why) in enumerate(found[:5], 1)]
    return "\n".join(lines + [texts.HITS_TAIL])


@router.route(regex(r"^(转咨询|转为咨询|提交咨询)"))
def consult(msg: Message, ctx: Context) -> Answer:
    """An unanswered policy question becomes a 咨询 ticket, answered by staff within 1 working day."""
    question = policies.last_answer(ctx.services, ctx.msg).get("question") or msg.text
    user = ctx.user
    complaint, _ = complaints.file(ctx.services, ctx.session, description=question, category="其他",
                                source=msg.channel, kind="咨询", enterprise_id=user.enterprise_id if user else None,
                                user_ref=ctx.user_ref)
    complaint.due = complaint.accept_due
    return texts.CONSULT_FILED.format(ticket=complaint.ticket_no, due=complaint.due.isoformat())


BROADCAST = re.compile(r"^广播\s*(?P<target>(all|topic:\S+|tag:\S+|group:\S+)\s+)?(?P<title>[^\n:：]+)[\n:：]+(?P<body>[\s\S]+)$")


@router.route(regex(r"^广播") & staff_only())
def broadcast_preview(msg: Message, ctx: Context) -> Answer:
    """Staff: "广播 [topic:科技] 标题：正文" → preview with the recipient count → "确认"."""
    match = BROADCAST.match(msg.text.strip())
    if not match:
        return texts.BROADCAST_USAGE
    target = (match.group("target") or "all").strip()
    try:
        count = len(broadcasts.recipients(ctx.session, target))
    except broadcasts.TargetError:
        return texts.BROADCAST_USAGE
    ctx.conversation.start("broadcast_confirm", "confirm", {"target": target, "title": match.group("title").strip(),
                                                             "body": match.group("body").strip()})
    return texts.BROADCAST_PREVIEW.format(title=match.group("title").strip(), target=target, count=count)


def broadcast_confirm(msg: Message, ctx: Context, state: State) -> Answer:
    if msg.text.strip() not in ("确认", "确定", "发送"):
        return texts.BROADCAST_CONFIRM_AGAIN
    ctx.conversation.clear()
    data = state.data
    created = broadcasts.create(ctx.services, ctx.session, data["title"], data["body"], data["target"],
                                created_by=f"{msg.channel}:{msg.user_id}")
    return texts.BROADCAST_STARTED.format(id=created.id)


@router.route(regex(r"^催办"))
def chase_payout(msg: Message, ctx: Context) -> Answer:
    """A late payout the user wants the park to chase becomes a request (诉求)."""
    question = policies.last_answer(ctx.services, ctx.msg).get("question")
    if not question:
        return None
    user = ctx.user
    complaint, merged = complaints.file(ctx.services, ctx.session, description=f"政策兑现催办：{question}",
                                     category="其他", source=msg.channel, enterprise_id=user.enterprise_id if user else None,
                                     user_ref=ctx.user_ref)
    return texts.CHASED.format(ticket=complaint.ticket_no, due=complaint.due.isoformat())


@router.route(intent("policy.query"))
def query(msg: Message, ctx: Context) -> Answer:
    hits = policies.search(ctx.services, ctx.session, ctx.nlu.text)
    if not hits:
        policies.remember_answer(ctx.services, ctx.msg, [], msg.text)
        return texts.PAYOUT_GENERAL if PAYOUT.search(ctx.nlu.text) else texts.NO_HIT
    policies.remember_answer(ctx.services, ctx.msg, [p.id for p, _ in hits], msg.text)
    if PAYOUT.search(ctx.nlu.text):
        return policies.payout(hits[0][0])
    return policies.answer_hits([p for p, _ in hits])


@router.route(intent("policy.subscribe"))
def subscribe(msg: Message, ctx: Context) -> Answer:
    topics = policy_topics(ctx.nlu.text) or [""]
    for topic in topics:
        store.set_subscription(ctx.session, ctx.user_ref, topic, True)
    if topics == [""]:
        store.set_subscription(ctx.session, ctx.user_ref, "", True)
    return texts.SUBSCRIBED.format(what="、".join(t for t in topics if t) or texts.ALL_TOPICS)


@router.route(intent("policy.unsubscribe"))
def unsubscribe(msg: Message, ctx: Context) -> Answer:
    topics = policy_topics(ctx.nlu.text)
    if not topics or re.search(r"所有|全部|都", ctx.nlu.text):
        store.deactivate_all(ctx.session, ctx.user_ref)   # 退订: nothing is sent any more, at once
        return texts.UNSUBSCRIBED.format(what=texts.ALL_TOPICS)
    for topic in topics:
        store.set_subscription(ctx.session, ctx.user_ref, topic, False)
    return texts.UNSUBSCRIBED.format(what="、".join(topics))


FLOWS = [
    Flow("broadcast_confirm", "广播", {"confirm": broadcast_confirm}, answers=INTENTS),
]

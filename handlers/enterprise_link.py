"""Becoming an enterprise's member in the chat.

"绑定企业 YQ-7KX3-M9Q2" (an invitation code from staff, private chat only) links at once, verified.
"绑定企业 公司名" → fuzzy match (a numbered choice when several names hold the part given) → "是" only files
a claim: staff approve or reject it in the console,
and until then the user sees only the tickets they filed themselves.
"""
from __future__ import annotations

import re

from bot.chat.context import Answer, Context
from bot.chat.conversation import Flow, State, is_cancel
from bot.chat.message import Message
from bot.chat.router import Router, regex
from bot.identity import service as membership
from bot.identity import texts
from nlp.slots import match_company
from storage import enterprises, identity

router = Router("enterprise_link")
# "绑定企业 星辰电子", "我想绑定企业", "帮我关联一下公司：…": the name, when given, follows.
COMMAND = re.compile(r"^(?:我想|我要|想|要|请|麻烦|帮我|请帮我|我们想)?(?:绑定|关联)(?:一下)?(企业|公司)?[:： ]*(.*)$")
# A code anywhere in a message: alone, or inside a sentence ("我们的邀请码是 YQ-…，帮我绑定").
CODE_ANYWHERE = r"(?i)(?<![a-z0-9])yq[-\s]?[a-z0-9]{4}[-\s]?[a-z0-9]{4}(?![a-z0-9])"
MIN_NAME_PART = 3     # "星辰电子" for 星辰电子科技有限公司; shorter parts name too many…
MIN_NAME_START = 2    # …unless they are how the name starts ("望岳" for 望岳智能装备有限公司), and only one does
YES = re.compile(r"^(是|是的|对|对的|没错|确认|yes|y|嗯|系呀|係呀|系|係|冇错|啱|啱啊)[!。.啊呀]*$")
NO = re.compile(r"^(不是|不对|否|no|n|错了)[!。.]*$")
NO_BUT = re.compile(r"^(?:不是|不对|错了)[,，。.!！\s]+(?:我们|我司|我们公司)?(?:是|叫|系)?\s*([^,，。.!！]{2,40})")
NO_BUT_MAX_CHARS = 24   # "不是，我们是望岳机电": a short correction; a longer message says more than a name
LINK_ANSWERS = ("smalltalk", "other", "help")
MAX_CANDIDATES = 5    # more names sharing the part than this: a list too long to read; the full name is asked
PICK = re.compile(r"^(?:第)?([1-9])(?:个|家|号)?[。.!！]?$")
NONE_OF_THEM = re.compile(r"^(?:不是|不对|否|no|n|错了|都不是|都不对|都没有|没有)[的啊呀。.!！]*$")
LEAVE_CONFIDENCE = 0.8


@router.route(regex(COMMAND.pattern))
def start(msg: Message, ctx: Context) -> Answer:
    code = identity.find_code(msg.text)
    if code:
        ctx.conversation.clear()
        return membership.redeem_code(ctx.services, ctx.session, msg, ctx.user, code)
    name = COMMAND.match(ctx.nlu.text).group(2).strip()
    if not name:
        ctx.conversation.start("link_enterprise", "ask_name")
        return texts.LINK_ASK
    return _propose(ctx, name)


@router.route(regex(CODE_ANYWHERE))
def code_in_message(msg: Message, ctx: Context) -> Answer:
    """An invitation code, alone or inside a sentence: redeemed in a private chat, burnt in a group."""
    return membership.redeem_code(ctx.services, ctx.session, msg, ctx.user, identity.find_code(msg.text))


def ask_name(msg: Message, ctx: Context, state: State) -> Answer:
    code = identity.find_code(msg.text)
    if code:
        ctx.conversation.clear()
        return membership.redeem_code(ctx.services, ctx.session, msg, ctx.user, code)
    if _starts_again(ctx):
        return start(msg, ctx)
    return _propose(ctx, ctx.nlu.text if ctx.nlu else msg.text)


def _starts_again(ctx) -> bool:
    """"绑定企业 <the name retyped>" sent while a question of the flow waits: the command, from the start."""
    return ctx.nlu is not None and COMMAND.match(ctx.nlu.text) is not None


def confirm(msg: Message, ctx: Context, state: State) -> Answer:
    answer = (ctx.nlu.text if ctx.nlu else "").strip()
    if _starts_again(ctx):
        return start(msg, ctx)
    if YES.match(answer):
        ctx.conversation.clear()
        return claim(ctx, enterprises.get(ctx.session, state.data["enterprise_id"]), "command")
    if NO.match(answer):
        ctx.conversation.start("link_enterprise", "ask_name")
        return texts.LINK_RETRY
    other_name = NO_BUT.match(answer) if len(answer) <= NO_BUT_MAX_CHARS else None
    if other_name and is_cancel(other_name.group(1)):    # "不是，算了": no link, and nothing more to ask
        ctx.conversation.clear()
        return texts.LINK_DROPPED
    if other_name and not re.search(r"[我你他她们]", other_name.group(1)):
        return _propose(ctx, other_name.group(1))        # "不是，我们是望岳机电": that name is looked up instead
    return texts.LINK_YES_NO


def choose(msg: Message, ctx: Context, state: State) -> Answer:
    """The answer to "which of these?": a number, or a part of one candidate's name; anything else is a new name."""
    answer = (ctx.nlu.text if ctx.nlu else msg.text).strip()
    if _starts_again(ctx):
        return start(msg, ctx)
    candidates = [enterprises.get(ctx.session, i) for i in state.data["candidates"]]
    picked = PICK.match(answer)
    if picked and int(picked.group(1)) <= len(candidates):
        ctx.conversation.clear()
        return claim(ctx, candidates[int(picked.group(1)) - 1], "command")
    if NONE_OF_THEM.match(answer):
        ctx.conversation.start("link_enterprise", "ask_name")
        return texts.LINK_RETRY
    part = re.sub(r"[\W_]+", "", answer)
    named = [e for e in candidates if part and part in e.name]
    if len(named) == 1:
        ctx.conversation.clear()
        return claim(ctx, named[0], "command")
    return _propose(ctx, answer)


def link_accepts(msg: Message, ctx: Context, state: State) -> bool:
    """"是"/"不是，我们是…" answer "are you with X?"; to "which enterprise?" anything is an answer but a clear
    request of its own (a problem, a policy question…)."""
    nlu = ctx.nlu
    text = (nlu.text if nlu else msg.text).strip()
    if COMMAND.match(text):
        return True
    if state.step == "confirm" and (YES.match(text) or NO.match(text)
                                    or len(text) <= NO_BUT_MAX_CHARS and NO_BUT.match(text)):
        return True
    if state.step == "choose" and (PICK.match(text) or NONE_OF_THEM.match(text)):
        return True
    return nlu is None or nlu.confidence < LEAVE_CONFIDENCE or nlu.intent in LINK_ANSWERS


def claim(ctx, enterprise, source: str, ticket_no: str = "") -> str:
    """A claim for staff to decide; never a link."""
    user = ctx.user
    if user.enterprise_id == enterprise.id:
        return texts.ALREADY_LINKED.format(name=enterprise.name)
    _, created = identity.file_claim(ctx.session, user, enterprise, source, ticket_no)
    return (texts.CLAIM_FILED if created else texts.CLAIM_PENDING).format(name=enterprise.name)


def _propose(ctx, text: str) -> str:
    """The roster enterprise the answer names, to be confirmed ("是「星辰电子科技有限公司」吗？"): by its full or
    core name, nearly, or — asked for a name — by a part of it that only one enterprise has ("星辰电子")."""
    roster = enterprises.names(ctx.session)
    name = match_company(text, roster)
    if name is None:
        part = re.sub(r"[\W_]+", "", text)
        holders = [n for n in roster if part in n and (len(part) >= MIN_NAME_PART or n.startswith(part))] \
            if len(part) >= MIN_NAME_START else []
        if 1 < len(holders) <= MAX_CANDIDATES:
            return _offer(ctx, holders)
        name = holders[0] if len(holders) == 1 else None
    enterprise = enterprises.by_name(ctx.session, name) if name else None
    if enterprise is None:
        ctx.conversation.start("link_enterprise", "ask_name")
        return texts.LINK_NOT_FOUND.format(text=text[:40])
    ctx.conversation.start("link_enterprise", "confirm", {"enterprise_id": enterprise.id})
    return texts.LINK_CONFIRM.format(name=enterprise.name)


def _offer(ctx, names: list[str]) -> str:
    """Several roster names hold the part given ("雪峰竹木"): each offered by number."""
    found = [enterprises.by_name(ctx.session, name) for name in sorted(names)]
    ctx.conversation.start("link_enterprise", "choose", {"candidates": [e.id for e in found]})
    listed = "\n".join(f"{i}. {e.name}" for i, e in enumerate(found, 1))
    return texts.LINK_WHICH.format(count=len(found), listed=listed)


FLOWS = [
    Flow("link_enterprise", "绑定企业", {"ask_name": ask_name, "confirm": confirm, "choose": choose},
         answers=LINK_ANSWERS, accepts=link_accepts),
]

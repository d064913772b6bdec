"""Linking a user to their enterprise: "绑定企业 公司名" → fuzzy match → confirm."""
from __future__ import annotations

import re

from bot.conversation import Flow, register_flow
from bot.router import Router, regex
from handlers import texts
from storage import enterprises, users

router = Router("enterprise_link")
COMMAND = re.compile(r"^(绑定|关联)(企业|公司)?[:： ]*(.*)$")
YES = re.compile(r"^(是|是的|对|对的|没错|确认|yes|y|嗯)[!。.]*$")
NO = re.compile(r"^(不是|不对|否|no|n|错了)[!。.]*$")


@router.route(regex(COMMAND.pattern))
def start(msg, ctx):
    name = COMMAND.match(ctx.nlu.text).group(3).strip()
    if not name:
        ctx.conversation.start("link_enterprise", "ask_name")
        return texts.LINK_ASK
    return _propose(ctx, name)


def ask_name(msg, ctx, state):
    return _propose(ctx, ctx.nlu.text if ctx.nlu else msg.text)


def confirm(msg, ctx, state):
    answer = (ctx.nlu.text if ctx.nlu else "").strip()
    if YES.match(answer):
        enterprise = enterprises.get(ctx.session, state.data["enterprise_id"])
        users.link_enterprise(ctx.user, enterprise.id)
        ctx.conversation.clear()
        return texts.LINK_DONE.format(name=enterprise.name)
    if NO.match(answer):
        ctx.conversation.start("link_enterprise", "ask_name")
        return texts.LINK_RETRY
    return texts.LINK_YES_NO


def _propose(ctx, text: str) -> str:
    from nlp.slots import match_company
    name = match_company(text, enterprises.names(ctx.session))
    enterprise = enterprises.by_name(ctx.session, name) if name else None
    if enterprise is None:
        ctx.conversation.start("link_enterprise", "ask_name")
        return texts.LINK_NOT_FOUND.format(text=text[:40])
    ctx.conversation.start("link_enterprise", "confirm", {"enterprise_id": enterprise.id})
    return texts.LINK_CONFIRM.format(name=enterprise.name)


register_flow(Flow("link_enterprise", "绑定企业", {"ask_name": ask_name, "confirm": confirm},
                   answers=("smalltalk", "other", "help")))

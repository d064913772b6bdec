"""Becoming a verified member of an enterprise: invitation codes (rate-limited) and claims staff decide.

Used by the chat handlers, the console and the CLI; everything takes (services, session).
"""
from __future__ import annotations

import logging

import redis as redis_lib

from bot.identity import texts
from bot.push import jobs
from storage import identity

log = logging.getLogger(__name__)
WRONG_CODES_PER_HOUR = 5
WRONG_CODE_WINDOW_S = 3600


def redeem_code(services, session, msg, user, code: str) -> str:
    """A code sent by the owner; the reply. Private chats only: in a group the code has leaked, so a
    live one is burnt. Wrong codes are counted per user; past the limit every try is refused."""
    if msg.is_group:
        identity.burn_leaked_code(session, msg.channel, msg.dedupe_key, code, texts.CODE_IN_GROUP_REVOKED)
        return texts.CODE_IN_GROUP
    identity.redact_message(session, msg.channel, msg.dedupe_key, code)
    key = f"identity:wrong-codes:{msg.channel}:{msg.user_id}"
    try:
        tries = _count_try(services.redis, key)
    except redis_lib.RedisError:
        log.warning("redis unavailable: invitation codes cannot be rate-limited, refusing them for now")
        return texts.CODE_UNAVAILABLE
    if tries > WRONG_CODES_PER_HOUR:
        log.info("invitation code refused for %s:%s: too many wrong codes", msg.channel, msg.user_id[:6])
        return texts.CODE_TOO_MANY
    enterprise = identity.redeem(session, user, code)
    if enterprise is None:
        log.info("wrong invitation code %s from %s:%s", identity.mask(code), msg.channel, msg.user_id[:6])
        return texts.CODE_INVALID
    _uncount_try(services.redis, key)
    return texts.CODE_LINKED.format(name=enterprise.name)


def _count_try(client, key: str) -> int:
    """Count this try before checking it (atomic: parallel guesses cannot slip past the limit);
    the window starts with the first wrong code and lasts an hour."""
    with client.pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=WRONG_CODE_WINDOW_S, nx=True)
        pipe.incr(key)
        return int(pipe.execute()[1])


def _uncount_try(client, key: str) -> None:
    """A right code was not a wrong one."""
    try:
        client.decr(key)
    except redis_lib.RedisError:
        pass


def decide_claim(services, session, claim, approve: bool, actor: str, reason: str = ""):
    """Staff's decision on a claim, recorded and audited, and pushed to the owner."""
    identity.decide(session, claim, approve, actor, reason)
    name = claim.enterprise.name
    if approve:
        text = texts.CLAIM_APPROVED.format(name=name)
    else:
        text = texts.CLAIM_REJECTED.format(
            name=name, reason=texts.CLAIM_REJECTED_REASON.format(reason=reason) if reason else "")
    owner = claim.user
    if owner.channel != "group" and owner.followed:   # group members cannot be pushed to
        jobs.queue_push(services, session, owner.channel, owner.user_id, text, title=texts.PUSH_TITLE)
    return claim

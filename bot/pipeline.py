"""dispatch(msg): de-duplicate → persist → classify → conversation or route → reply."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import redis as redis_lib
from sqlalchemy.exc import SQLAlchemyError

import nlp
from bot import replies
from bot.conversation import FLOWS, ConversationStore, is_cancel
from bot.errors import ServiceUnavailable, UserError
from bot.message import Message, Reply
from bot.router import first_match
from storage import messages, users
from storage.db import after_commit, is_unavailable

log = logging.getLogger(__name__)
RETRY_WAIT_S = 4.0          # a retry waits this long for the first attempt's reply (WeChat waits 5 s)
LEAVE_FLOW_CONFIDENCE = 0.8  # a pending question yields to a request this clear


@dataclass
class Context:
    """What a handler may use; handlers never see Flask, XML or JSON."""
    services: object
    session: object
    msg: Message
    user_ref: int | None = None
    nlu: object = None
    conversation: ConversationStore | None = None
    notes: list = field(default_factory=list)   # lines prepended to the reply ("已退出…")

    @property
    def settings(self):
        return self.services.settings

    @property
    def user(self):
        """The sender's record (with enterprise and roles), loaded when a handler first asks."""
        if self._user is None and self.user_ref is not None:
            self._user = users.get(self.session, self.user_ref)
        return self._user

    _user: object = field(default=None, repr=False)

    def defer(self, job, *args, **kwargs) -> None:
        """Run slow work (pushes, API calls) in the worker, once this message's work is committed."""
        after_commit(self.session, lambda: self.services.queue.enqueue(job, *args, **kwargs))


def dispatch(services, msg: Message) -> Reply:
    """Handle one inbound message exactly once; retries get the first answer again."""
    if not _claim(services, msg):
        return _await_first_reply(services, msg)
    try:
        reply = _handle_fresh(services, msg)
    except ServiceUnavailable:
        _release(services, msg)
        raise
    except messages.DuplicateMessage:
        return _await_first_reply(services, msg)
    _cache_reply(services, msg, reply)
    return reply


def _handle_fresh(services, msg: Message) -> Reply:
    session = services.db.new_session()
    try:
        try:
            user_ref = users.seen(session, msg.channel, msg.user_id, msg.display_name)
            message_id = messages.record(session, msg, user_ref)
            session.commit()  # persisted before anything is acknowledged
        except messages.DuplicateMessage:
            session.rollback()
            raise
        except SQLAlchemyError as exc:
            session.rollback()
            if is_unavailable(exc):
                raise ServiceUnavailable("database unavailable") from exc
            raise
        ctx = Context(services, session, msg, user_ref,
                      conversation=ConversationStore(services.redis, msg, services.settings.conversation_timeout_s))
        reply = _respond_safely(ctx)
        nlu = ctx.nlu
        messages.save_outcome(session, message_id, nlu.intent if nlu else None,
                              round(nlu.confidence, 3) if nlu else None,
                              json.dumps({"text": reply.text, "followups": reply.followups}, ensure_ascii=False))
        session.commit()   # the handler's work and the reply, together
        return reply
    finally:
        session.close()


def _respond_safely(ctx: Context) -> Reply:
    """UserError → its text; any other error → logged, rolled back, a short apology."""
    try:
        result = Reply.of(respond(ctx))
    except UserError as exc:
        ctx.session.rollback()
        result = Reply(exc.text)
    except Exception:
        log.exception("handler failed for %s message %s", ctx.msg.channel, ctx.msg.dedupe_key)
        ctx.session.rollback()
        result = Reply(replies.APOLOGY)
    return replies.finish(ctx, result)


def respond(ctx: Context):
    """Classify, then either continue a pending conversation or route; returns str | Reply | None."""
    msg = ctx.msg
    if msg.text:
        ctx.nlu = nlp.classify(msg.text)
    if msg.is_group and not _speaks_in_group(ctx):
        return None
    state = ctx.conversation.get() if msg.msg_type != "event" else None
    if state is not None and state.flow in FLOWS:
        flow = FLOWS[state.flow]
        if msg.text and is_cancel(msg.text):
            if flow.on_cancel is not None:
                return flow.on_cancel(msg, ctx, state)
            ctx.conversation.clear()
            return replies.FLOW_CANCELLED.format(title=flow.title)
        if not _leaves_flow(ctx, flow):
            return flow.steps[state.step](msg, ctx, state)
        ctx.conversation.clear()
        ctx.notes.append(replies.FLOW_LEFT.format(title=flow.title))
    return route(msg, ctx)


def route(msg: Message, ctx: Context):
    """The first matching route's answer (see handlers/__init__.py for the order)."""
    from handlers import ROUTES
    found = first_match(ROUTES, msg, ctx)
    return found.handler(msg, ctx) if found else None


def _leaves_flow(ctx: Context, flow) -> bool:
    nlu = ctx.nlu
    return (nlu is not None and nlu.confidence >= LEAVE_FLOW_CONFIDENCE
            and nlu.intent not in flow.answers and nlu.intent not in ("other", "smalltalk"))


def _speaks_in_group(ctx: Context) -> bool:
    """In groups: answer when mentioned, or unmentioned only for a confident request."""
    if ctx.msg.mentioned:
        return True
    settings, nlu = ctx.settings, ctx.nlu
    return (nlu is not None and nlu.intent in settings.group_unmentioned_intents
            and nlu.confidence >= settings.group_unmentioned_confidence)


# --- de-duplication: Redis SET NX is the fast path, the database's unique key the authority ---

def _dedupe_key(msg: Message) -> str:
    return f"dedupe:{msg.channel}:{msg.dedupe_key}"


def _claim(services, msg: Message) -> bool:
    try:
        return bool(services.redis.set(_dedupe_key(msg), "1", nx=True, ex=services.settings.dedupe_ttl_s))
    except redis_lib.RedisError:
        log.warning("redis unavailable: de-duplicating through the database only")
        return True


def _release(services, msg: Message) -> None:
    try:
        services.redis.delete(_dedupe_key(msg))
    except redis_lib.RedisError:
        pass


def _cache_reply(services, msg: Message, reply: Reply) -> None:
    try:
        services.redis.set(f"reply:{_dedupe_key(msg)}", json.dumps({"text": reply.text}, ensure_ascii=False),
                           ex=services.settings.dedupe_ttl_s)
    except redis_lib.RedisError:
        pass


def _await_first_reply(services, msg: Message) -> Reply:
    """A retry: give back the first attempt's reply once it exists, else nothing ('success')."""
    deadline = time.monotonic() + RETRY_WAIT_S
    while time.monotonic() < deadline:
        try:
            cached = services.redis.get(f"reply:{_dedupe_key(msg)}")
        except redis_lib.RedisError:
            cached = None
        if cached:
            return Reply(json.loads(cached)["text"])
        stored = _stored_reply(services, msg)
        if stored is not None:
            return stored
        time.sleep(0.05)
    return Reply(None)


def _stored_reply(services, msg: Message) -> Reply | None:
    try:
        with services.db.session() as session:
            row = messages.find(session, msg.channel, msg.dedupe_key)
            if row is not None and row.reply:
                return Reply(json.loads(row.reply)["text"])
    except SQLAlchemyError:
        pass
    return None

"""Dispatcher.dispatch(msg): de-duplicate → persist → classify → pending flow or route → reply.

The Dispatcher is handed its routes and flows by the composition root (bot/__init__.py); the chat core
imports no handler. Handlers re-route with ctx.reroute(msg).

Never acknowledge without acting: a message is stored before anything is answered; if the database
is down the answer is 503 (WeChat retries); if Redis is down it is still handled (de-duplication by
the database's unique key, no pending conversation, jobs kept in the database); if a handler fails
the user gets an apology and the message waits for staff in 未处理消息 (retry_stored re-runs it).
"""
from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, replace
from datetime import timedelta

import redis as redis_lib
from sqlalchemy.exc import SQLAlchemyError

import nlp
from bot.chat import replies
from bot.chat.context import Answer, Context
from bot.chat.conversation import ConversationStore, Flow, State, by_name, conversation_keys, is_cancel
from bot.chat.message import Message, Reply
from bot.chat.router import Route, first_match
from bot.errors import ForgedRequest, ServiceUnavailable, UserError
from bot.push import jobs
from nlp.split import answer_then_request, two_requests
from storage import identity, messages, users
from storage.db import is_unavailable
from storage.models import utcnow
from storage.redis import KeyBatch, lenient

log = logging.getLogger(__name__)
RETRY_WAIT_S = 4.0          # a retry waits this long for the first attempt's reply (WeChat waits 5 s)
LEAVE_FLOW_CONFIDENCE = 0.8  # a pending question yields to a request this clear
NEUTRAL_MAX_CHARS = 6          # a reply this short may be script-neutral ("是", "好的")
# Asking for a person leaves any pending question ("转人工", "我要找工作人员"); asking about one does not
# ("你们是真人吗").
WANTS_A_PERSON = re.compile(r"人工|工作人员|找人|客服|领导|打电话给我|联系我")
STALE_AFTER = timedelta(minutes=2)   # no handler runs this long: a message still pending was dropped
# What is kept of one message's text (stored, classified, filed): WeChat's own input box stops well before
# this; a longer text comes from a forged or scripted sender and would bloat every page that shows it.
MAX_TEXT_CHARS = 4000
MAX_RETRIES = 3             # staff retries of one message; after that only 标记已处理


class Dispatcher:
    """Handles inbound messages exactly once with the routes and flows it is given."""

    def __init__(self, routes: list[Route], flows: list[Flow]):
        self.routes = list(routes)
        self.flows = by_name(flows)

    def dispatch(self, services, msg: Message) -> Reply:
        """Handle one inbound message exactly once; retries get the first answer again.

        Redis is asked twice: the claim, with the user's conversation state and script fetched in the same
        round trip; then the conversation's changes, with the reply cached for retries."""
        if len(msg.text) > MAX_TEXT_CHARS:     # a page of text is a message; a megabyte of it is not
            msg = replace(msg, text=msg.text[:MAX_TEXT_CHARS])
        claimed, batch = _claim(services, msg)
        if not claimed:
            return _await_first_reply(services, msg)
        try:
            reply = self._handle_fresh(services, msg, batch)
        except ServiceUnavailable:
            _release(services, msg)
            raise
        except messages.DuplicateMessage:
            return _await_first_reply(services, msg)
        batch.flush(("set", _reply_key(msg), json.dumps({"text": reply.text}, ensure_ascii=False),
                     services.settings.dedupe_ttl_s))
        return reply

    def _handle_fresh(self, services, msg: Message, batch: KeyBatch) -> Reply:
        try:
            with services.db.held_session() as session:
                user_ref, message_id = _store(session, msg)
                if msg.is_group and identity.burn_leaked_code(session, msg.channel, msg.dedupe_key, msg.text or ""):
                    session.commit()   # the code is dead even if the bot stays silent in this group
                ctx = self.context(services, session, msg, user_ref, message_id, batch)
                reply, error = self._respond_safely(ctx)
                _save_outcome(ctx, reply, messages.FAILED if error else None, error)
                session.commit()   # the handler's work and the reply (or the failure), together
                return reply
        except SQLAlchemyError as exc:
            # No connection, or stored and then the database went away: 503, and staff see it as dropped.
            if is_unavailable(exc):
                raise ServiceUnavailable("database unavailable") from exc
            raise

    def context(self, services, session, msg: Message, user_ref: int | None, message_id: int,
                batch: KeyBatch | None = None) -> Context:
        """A handler's context; with `batch`, the conversation is read and written through it."""
        view = services.for_messages()
        if msg.is_group and not msg.display_name and user_ref is not None:
            # the WeCom robot's callback carries no name: address the sender by the name we know
            known = users.get(session, user_ref)
            if known is not None and known.display_name:
                msg = replace(msg, display_name=known.display_name)
        store = ConversationStore(batch or view.redis, msg, services.settings.conversation_timeout_s, flows=self.flows)
        return Context(view, session, msg, user_ref, message_id=message_id, conversation=store, dispatcher=self,
                       user_keys=batch)

    def _respond_safely(self, ctx: Context) -> tuple[Reply, str]:
        """(reply, error): UserError → its text; any other error → logged, rolled back, a short apology,
        and the error's class, so the message is listed for staff (the apology promises they follow up)."""
        try:
            result = Reply.of(self.respond(ctx))
        except UserError as exc:
            ctx.session.rollback()
            result = Reply(exc.text)
        except Exception as exc:
            log.exception("handler failed for %s message %s", ctx.msg.channel, ctx.msg.dedupe_key)
            ctx.session.rollback()
            return replies.finish(ctx, Reply(replies.APOLOGY)), error_name(exc)
        return replies.finish(ctx, result), ""

    def respond(self, ctx: Context) -> Answer:
        """Classify, then either continue a pending conversation or route."""
        msg = ctx.msg
        if msg.text:
            ctx.nlu = nlp.classify(msg.text, threshold=ctx.settings.intent_threshold)
            _keep_script(ctx)
        if msg.is_group and not _speaks_in_group(ctx):
            return None
        state = ctx.conversation.get() if msg.msg_type != "event" else None
        flow = self.flows.get(state.flow) if state is not None else None
        if flow is None:
            return self.then_waiting(ctx, self.route_message(msg, ctx))
        if flow.accepts is not None and flow.accepts(msg, ctx, state):
            return self.then_waiting(ctx, self.answer_then_more(msg, ctx, flow, state))
        cancel, rest = cancel_then_request(msg.text, ctx.settings.intent_threshold) if msg.text else (None, None)
        if cancel is not None or (msg.text and is_cancel(ctx.nlu.text if ctx.nlu else msg.text)):
            if flow.on_cancel is not None:
                answer = flow.on_cancel(msg, ctx, state)
            else:
                ctx.conversation.clear()
                answer = replies.FLOW_CANCELLED.format(title=flow.title)
            if rest:    # "算了不反映了，取消吧。以后融资方面的政策推给我就行": and the request after it
                answer = _append(answer, Reply.of(self.route_each(msg, ctx, rest)).text)
            return self.then_waiting(ctx, answer)
        if flow.accepts is None:
            if not _leaves_flow(ctx, flow):
                return self.then_waiting(ctx, flow.steps[state.step](msg, ctx, state))
        elif not _wants_a_person(ctx):
            return self.digress(msg, ctx, flow, state)
        ctx.conversation.clear()
        ctx.notes.append(replies.FLOW_LEFT.format(title=flow.title))
        return self.then_waiting(ctx, self.route_message(msg, ctx))

    def answer_then_more(self, msg: Message, ctx: Context, flow: Flow, state: State) -> Answer:
        """The answer to the pending question, and a request told after it in the same message ("给4分吧。对了
        我们俩还想报名早茶会"): the step takes the first part (when that alone still answers), then the rest is
        answered as if it came alone."""
        split = answer_then_request(msg.text, ctx.settings.intent_threshold) if msg.text else None
        if split is None:
            return flow.steps[state.step](msg, ctx, state)
        first, rest = split
        whole, understood = ctx.nlu, nlp.classify(first, threshold=ctx.settings.intent_threshold)
        part = replace(msg, text=first)
        ctx.msg, ctx.nlu = part, replace(understood, script=whole.script)
        try:
            answers_alone = flow.accepts(part, ctx, state)
            answer = flow.steps[state.step](part, ctx, state) if answers_alone else None
        finally:
            ctx.msg, ctx.nlu = msg, whole
        if not answers_alone:      # the first part alone is no answer: the whole message goes to the step
            return flow.steps[state.step](msg, ctx, state)
        return _append(answer, Reply.of(self.route_each(msg, ctx, rest)).text)

    def digress(self, msg: Message, ctx: Context, flow: Flow, state: State) -> Answer:
        """A message that is not the answer to the pending question: answered as what it is. The question
        stays pending (a question the digression asks waits behind it) and is briefly asked again,
        unless it is an optional follow-up or the digression itself moved it."""
        store = ctx.conversation
        store.hold(state)
        try:
            answer = self.route_message(msg, ctx)
        finally:
            queued = store.release()
        if queued is not None:
            store.set_question(queued, _last_question(Reply.of(answer).text))
        if flow.optional or store.touched or flow.reask is None:
            return answer
        return _append(answer, flow.reask(ctx, state))

    def then_waiting(self, ctx: Context, answer: Answer) -> Answer:
        """The pending question was answered or dropped: a question that waited behind it is asked now."""
        waiting = ctx.conversation.promoted
        if waiting is None:
            return answer
        flow = self.flows.get(waiting.flow)
        question = flow.reask(ctx, waiting) if flow is not None and flow.reask is not None else None
        return _append(answer, question or waiting.data.get("_question"))

    def route_message(self, msg: Message, ctx: Context) -> Answer:
        """A message that is no answer to a pending question: one request, or two told together."""
        parts = two_requests(msg.text, ctx.settings.intent_threshold) if msg.text else None
        return self.route_each(msg, ctx, parts) if parts else self.route(msg, ctx)

    def route_each(self, msg: Message, ctx: Context, parts: list) -> Answer:
        """Two requests in one message, answered one after the other, each as if it came alone."""
        whole = ctx.nlu
        answer = None
        ctx.part_of_several = True
        try:
            for text, understood in parts:
                ctx.msg = part = replace(msg, text=text)
                ctx.nlu = replace(understood, script=whole.script)
                answer = _append(answer, Reply.of(self.route(part, ctx)).text)
        finally:
            ctx.msg, ctx.nlu, ctx.part_of_several = msg, whole, False
        return answer

    def route(self, msg: Message, ctx: Context) -> Answer:
        """The first matching route's answer (handlers/__init__.py decides the order)."""
        found = first_match(self.routes, msg, ctx)
        return found.handler(msg, ctx) if found else None

    def retry_stored(self, services, message_id: int) -> RetryOutcome:
        """Run a stored message through the dispatcher again; when it is answered this time, push the
        reply to the user and mark it handled; when it fails again, it stays listed with one more attempt."""
        session = services.db.new_session()
        try:
            row = messages.get(session, message_id)
            if row is None or not messages.claim_retry(session, message_id, row.handling_attempts,
                                                       utcnow() - STALE_AFTER, MAX_RETRIES):
                session.rollback()
                return RetryOutcome(False, refused=True)
            attempts = row.handling_attempts + 1
            session.commit()   # the attempt counts even if this process dies during it
            user = users.get(session, row.user_ref) if row.user_ref else None
            msg = stored_message(row, user)
            ctx = self.context(services, session, msg, row.user_ref, message_id)
            reply, error = self._respond_safely(ctx)
            if error:
                messages.retry_failed(session, message_id, error)
                session.commit()
                return RetryOutcome(False, reply, error=error, attempts=attempts)
            _save_outcome(ctx, reply, messages.RETRIED, row.handling_error)
            pushed = _push_reply(services, session, msg, reply)
            session.commit()
            return RetryOutcome(True, reply, pushed, attempts=attempts)
        finally:
            session.close()


def _store(session, msg: Message) -> tuple[int, int]:
    """(user_ref, message id), committed before anything is acknowledged."""
    try:
        user_ref = users.seen(session, msg.channel, msg.user_id, msg.display_name)
        message_id = messages.record(session, msg, user_ref)
        session.commit()
    except messages.DuplicateMessage:
        session.rollback()
        raise
    except SQLAlchemyError as exc:
        session.rollback()
        if is_unavailable(exc):
            raise ServiceUnavailable("database unavailable") from exc
        raise
    return user_ref, message_id


def _save_outcome(ctx: Context, reply: Reply, state: str | None, error: str) -> None:
    nlu = ctx.nlu
    messages.save_outcome(ctx.session, ctx.message_id, nlu.intent if nlu else None,
                          round(nlu.confidence, 3) if nlu else None,
                          json.dumps({"text": reply.text, "followups": reply.followups}, ensure_ascii=False),
                          state, error)


def error_name(exc: BaseException) -> str:
    """The exception's class as a dotted path ("redis.exceptions.ConnectionError"); never its text,
    which may quote the user's message."""
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


# --- staff's 处理/重试 from 未处理消息 ---

@dataclass
class RetryOutcome:
    handled: bool
    reply: Reply | None = None
    pushed: bool = False        # the reply was queued to the user (groups cannot be pushed to)
    error: str = ""             # the class of this attempt's error
    refused: bool = False       # not retried: answered, resolved, retried by someone else, or out of retries
    attempts: int = 0           # staff retries of this message so far, this one included


def stored_message(row, user) -> Message:
    """The Message a stored row was made from (a group message that failed was one the bot answers)."""
    payload = dict(row.payload or {})
    event, event_key = payload.pop("event", ""), payload.pop("event_key", "")
    mentioned = payload.pop("mentioned", True)
    return Message(channel=row.channel, user_id=user.user_id if user else "", msg_type=row.msg_type,
                   text=row.text or "", dedupe_key=row.dedupe_key, chat_id=row.chat_id or "",
                   display_name=(user.display_name if user else "") or "", mentioned=bool(mentioned),
                   event=event or "", event_key=event_key or "", payload=payload,
                   created_at=int(payload.get("CreateTime") or 0))


def _push_reply(services, session, msg: Message, reply: Reply) -> bool:
    """The passive reply's moment has passed: push it and its follow-ups (private chats only)."""
    if msg.is_group or msg.channel == "group" or not msg.user_id or not (reply.text or reply.followups):
        return False
    for text in ([reply.text] if reply.text else []) + list(reply.followups):
        jobs.queue_push(services, session, msg.channel, msg.user_id, text)
    return True


SENTENCE_END = re.compile(r"(?<=[。！!？?\n])")


def cancel_then_request(text: str, threshold: float | None) -> tuple[str | None, list | None]:
    """(the cancelling sentences, [(the request after them, its classification)]) for "算了不反映了，取消吧。以后融资
    方面的政策推给我就行"; (None, None) when the message does not start by cancelling and then ask for more."""
    sentences = [s for s in SENTENCE_END.split(text) if s.strip()]
    for cut in range(1, len(sentences)):
        head, tail = "".join(sentences[:cut]), "".join(sentences[cut:]).strip()
        if is_cancel(nlp.normalize(head).text.strip(" ,，。.!！")):
            understood = nlp.classify(tail, threshold=threshold)
            if understood.intent not in ("other", "smalltalk", "help") and understood.confidence >= 0.6:
                return head, [(tail, understood)]
            return None, None
    return None, None


def _append(answer: Answer, more: str | None) -> Answer:
    """The answer, then `more` on a new paragraph (an answer of None becomes `more` alone)."""
    if not more:
        return answer
    reply = Reply.of(answer)
    if reply.text is None:
        return Reply(more, reply.followups)
    return Reply(reply.text + "\n\n" + more, reply.followups)


def _last_question(text: str | None) -> str:
    """The words of a question a digression asked (its last line that asks something), to ask it again."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    asking = [line for line in lines if re.search(r"[?？]|回复|请", line)]
    return (asking or lines or [""])[-1][:200]


HAN = re.compile(r"[\u3400-\u9fff]")
SCRIPT_TTL_S = 30 * 86400


def _keep_script(ctx: Context) -> None:
    """Answer in the user's script: a message with Chinese in it says which; one without ("5", "ok", "👍")
    is answered in the script the user wrote last."""
    key = _script_key(ctx.msg)
    store = ctx.user_keys if ctx.user_keys is not None else lenient(ctx.services.redis)
    text = ctx.nlu.text or ""
    if HAN.search(text) and not _script_neutral(text, ctx.nlu.script):
        store.set(key, ctx.nlu.script, ex=SCRIPT_TTL_S)
        return
    known = store.get(key)
    if known:
        ctx.nlu.script = known.decode() if isinstance(known, bytes) else str(known)


def _script_neutral(text: str, script: str) -> bool:
    """"是", "好的", "对": short words written alike in both scripts say nothing about which the user writes."""
    return script == "simplified" and len(text) <= NEUTRAL_MAX_CHARS and nlp.to_script(text, "traditional") == text


def _wants_a_person(ctx: Context) -> bool:
    nlu = ctx.nlu
    return (nlu is not None and nlu.intent == "human" and nlu.confidence >= LEAVE_FLOW_CONFIDENCE
            and bool(WANTS_A_PERSON.search(nlu.text)) and not re.search(r"吗|[?？]$", nlu.text))


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


def _script_key(msg: Message) -> str:
    return f"script:{msg.channel}:{msg.user_id}"


def _reply_key(msg: Message) -> str:
    return f"reply:{_dedupe_key(msg)}"


def _claim(services, msg: Message) -> tuple[bool, KeyBatch]:
    """(claimed, the user's keys): one round trip binds a plaintext callback's signature to its body, sets
    the claim and reads the conversation and script. A signature seen with another body: ForgedRequest."""
    keys = [*conversation_keys(msg.channel, msg.chat_id, msg.user_id), _script_key(msg)]
    try:
        pipe = services.redis.pipeline(transaction=False)
        if msg.signed_body:
            key, digest, seconds = msg.signed_body
            pipe.set(key, digest, nx=True, ex=seconds)
            pipe.get(key)
        pipe.set(_dedupe_key(msg), "1", nx=True, ex=services.settings.dedupe_ttl_s)
        pipe.mget(keys)
        *signed, claimed, values = pipe.execute()
    except redis_lib.RedisError:
        log.warning("redis unavailable: de-duplicating through the database only")
        return True, KeyBatch(services.redis, dict.fromkeys(keys))
    if signed and not signed[0] and signed[1] is not None and signed[1].decode() != msg.signed_body[1]:
        if claimed:
            _release(services, msg)    # the forged MsgId must not shadow a genuine message that has it
        raise ForgedRequest(msg.signed_body[0])
    return bool(claimed), KeyBatch(services.redis, dict(zip(keys, values, strict=True)))


def _release(services, msg: Message) -> None:
    try:
        services.redis.delete(_dedupe_key(msg))
    except redis_lib.RedisError:
        pass


def _await_first_reply(services, msg: Message) -> Reply:
    """A retry: give back the first attempt's reply once it exists, else nothing ('success')."""
    deadline = time.monotonic() + RETRY_WAIT_S
    cache = lenient(services.redis)
    while time.monotonic() < deadline:
        cached = cache.get(_reply_key(msg))
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

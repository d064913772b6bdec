"""WeCom intelligent robot (智能机器人) in API mode: GET URL check, POST encrypted JSON callbacks.

Someone @-mentions the robot in a group (chattype group) or writes to it one-to-one (single); WeCom
POSTs {"encrypt": …} signed with msg_signature. Every callback passes the guard's steps (size,
signature in constant time, replay window, well-formed JSON, decrypt, de-duplicate on msgid, stored
before answering), then the dialogue core as a group message (mentioned) or a private one, as the
WeCom user id that wrote — the same person as in the WeCom app, so linking and pushes carry over.

The answer: a finished stream message, encrypted, when it is ready within `wecom_bot.passive_budget_s`;
otherwise an empty answer now and the worker posts it to the callback's response_url (markdown,
bot/aibot_replies.py). The enter-chat welcome is answered with text (the only event the protocol
lets us answer so); a template-card click is answered through response_url.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, Response, abort, request

from bot.channels import guard
from bot.channels.aibot_crypto import AibotCrypto, BadCiphertext, WrongReceiver
from bot.chat.message import Message, Reply
from bot.errors import ServiceUnavailable
from bot.push import aibot_replies
from bot.push import group_texts as texts

log = logging.getLogger(__name__)
bp = Blueprint("wecom_aibot", __name__)
CHANNEL = "wecom"              # senders are WeCom user ids: one person with the WeCom app user
MENTIONS = re.compile(r"^(\s*@\S+)+\s*")
# "@助手 这个问题帮我登记" quoting a colleague's message: file what was quoted.
FILE_THE_QUOTE = re.compile(r"(登记|记录|反映|上报|提交|投诉|报修|记一下|跟进)")
REFERRAL_MAX_CHARS = 20
EVENTS = {"enter_chat": "enter_chat",           # first visit of the day to the one-to-one chat: its own welcome
          "template_card_event": "click",       # a card's button: answered like a menu click
          "feedback_event": "feedback"}
_pool: ThreadPoolExecutor | None = None


def _crypto() -> AibotCrypto:
    return AibotCrypto(guard.settings().wecom_bot.aes_key)


def _verify(payload: str) -> None:
    args = request.args
    guard.require_fresh(args.get("timestamp"))
    expected = guard.sha1_signature(guard.settings().wecom_bot.token, args.get("timestamp", ""),
                                    args.get("nonce", ""), payload)
    guard.require_equal(expected, args.get("msg_signature"))


def _decrypt(encrypted: str) -> bytes:
    try:
        return _crypto().decrypt(encrypted)
    except WrongReceiver:
        abort(403, "message is addressed to another receiver")
    except BadCiphertext:
        abort(400, "cannot decrypt")


@bp.get("/wecom/aibot")
def verify_url():
    echostr = request.args.get("echostr", "")
    _verify(echostr)
    try:
        return guard.echo(_decrypt(echostr).decode("utf-8"))
    except UnicodeDecodeError:
        abort(400, "echostr is not UTF-8")


@bp.post("/wecom/aibot")
def callback():
    envelope = _json(guard.read_body())
    encrypted = envelope.get("encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        abort(400, "encrypt missing")
    _verify(encrypted)
    body = _json(_decrypt(encrypted))
    if body.get("msgtype") == "stream":      # a refresh of a stream we never leave open: nothing to add
        return _empty()
    msg = to_message(body)
    services = guard.services()
    response_url = aibot_replies.trusted_url(services.settings, body.get("response_url"))
    if body.get("response_url") and response_url is None:
        log.warning("aibot %s: response_url is not on the WeCom API host; it will not be called", msg.dedupe_key)
    # A card click's own answer could only update the card: the reply goes through response_url.
    budget = 0.0 if msg.event == "click" else services.settings.wecom_bot.passive_budget_s
    reply = _reply_in_time(services, msg, response_url, budget)
    if reply is None or not reply.text:
        return _empty()
    if msg.event == "enter_chat":
        return _encrypted({"msgtype": "text", "text": {"content": reply.text}})
    if reply.followups:        # the rest of a long answer: once, through response_url
        _later(services, msg, response_url, Reply(None, reply.followups))
    return _encrypted({"msgtype": "stream", "stream": {"id": _stream_id(msg), "finish": True,
                                                        "content": reply.text}})


def _reply_in_time(services, msg: Message, response_url: str | None, budget: float) -> Reply | None:
    """The reply when it is ready within `budget` seconds; otherwise None, and the reply goes to the
    response_url when it is ready. The database down is 503 (WeCom retries; nothing is lost)."""
    if budget <= 0:
        _later(services, msg, response_url, _dispatch(services, msg))
        return None
    future = _executor().submit(_dispatch, services, msg)
    try:
        return future.result(timeout=budget)
    except FutureTimeout:
        future.add_done_callback(lambda done: _late(services, msg, response_url, done))
        return None


def _dispatch(services, msg: Message) -> Reply:
    try:
        return services.dispatcher.dispatch(services, msg)
    except ServiceUnavailable:
        abort(503, "temporarily unavailable")


def _late(services, msg: Message, response_url: str | None, done) -> None:
    if done.exception() is not None:
        log.error("aibot %s: no answer (%s)", msg.dedupe_key, type(done.exception()).__name__)
        return
    _later(services, msg, response_url, done.result())


def _later(services, msg: Message, response_url: str | None, reply: Reply) -> None:
    """Hand an answer to the worker for the response_url (at most once per message)."""
    text = "\n\n".join(part for part in [reply.text or ""] + list(reply.followups) if part)
    if not text:
        return
    if response_url is None:
        log.warning("aibot %s: the answer is ready but the callback gave no usable response_url", msg.dedupe_key)
        return
    with services.db.session() as session:
        aibot_replies.queue(services, session, msg.dedupe_key, response_url, text)


def _executor() -> ThreadPoolExecutor:
    """Made on first use, so each server process (forked after the app is loaded) has its own threads."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="aibot")
    return _pool


# --- the callback's JSON → the channel-neutral Message ---

def to_message(body: dict) -> Message:
    msgid, msgtype = body.get("msgid"), body.get("msgtype")
    sender = body.get("from").get("userid") if isinstance(body.get("from"), dict) else None
    chattype = body.get("chattype", "single")
    for name, value in (("msgid", msgid), ("msgtype", msgtype), ("from.userid", sender)):
        if not isinstance(value, str) or not value.strip():
            abort(400, f"field {name} missing or not a string")
    if chattype not in ("single", "group"):
        abort(400, "field chattype must be single or group")
    chat_id = body.get("chatid") if chattype == "group" else ""
    if not isinstance(chat_id, str) or (chattype == "group" and not chat_id):
        abort(400, "field chatid missing for a group message")
    msg_type, text, payload, event, event_key = _content(body, msgtype)
    return Message(channel=CHANNEL, user_id=sender[:128], msg_type=msg_type, text=text,
                   dedupe_key=f"aibot:{msgid}"[:160], chat_id=chat_id[:128], mentioned=chattype == "group",
                   event=event, event_key=event_key, payload=dict(payload, via="aibot", chattype=chattype),
                   created_at=_int(body.get("create_time")) or int(time.time()))


def _content(body: dict, msgtype: str) -> tuple[str, str, dict, str, str]:
    """(msg_type, text, payload, event, event_key) of each kind of callback."""
    if msgtype == "event":
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        name = str(event.get("eventtype") or "")
        detail = event.get(name) if isinstance(event.get(name), dict) else {}
        key = str(detail.get("event_key") or "")[:128]
        return "event", "", {"eventtype": name[:64]}, EVENTS.get(name, name[:32]), key
    own = MENTIONS.sub("", _text_of(body, msgtype)).strip()
    payload = {}
    quoted = _text_of(body["quote"], body["quote"].get("msgtype")) if isinstance(body.get("quote"), dict) else ""
    if quoted:
        payload["quote"] = quoted[:2000]
        if len(own) <= REFERRAL_MAX_CHARS and FILE_THE_QUOTE.search(own):
            own = texts.FILE_QUOTED.format(quoted=MENTIONS.sub("", quoted).strip())
    for kind, key in (("image", "PicUrl"), ("file", "Url"), ("video", "Url")):
        if msgtype == kind and isinstance(body.get(kind), dict):
            payload[key] = str(body[kind].get("url") or "")[:1000]
    if msgtype == "mixed":
        msgtype = "text"
    return msgtype[:32], own, payload, "", ""


def _text_of(part: dict, msgtype) -> str:
    """The words of a text, voice (recognised) or mixed message or quote; "" for anything else."""
    if msgtype in ("text", "voice"):
        inner = part.get(msgtype)
        return inner.get("content") if isinstance(inner, dict) and isinstance(inner.get("content"), str) else ""
    if msgtype == "mixed":
        items = part.get("mixed", {}).get("msg_item") if isinstance(part.get("mixed"), dict) else None
        return "\n".join(_text_of(item, item.get("msgtype")) for item in items or [] if isinstance(item, dict)).strip()
    return ""


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _json(raw: bytes) -> dict:
    return guard.parse_json_object(raw)


# --- answers ---

def _stream_id(msg: Message) -> str:
    """The same id for every answer to one message, so a retried callback shows the same stream."""
    return hashlib.sha256(msg.dedupe_key.encode()).hexdigest()[:32]


def _encrypted(payload: dict) -> Response:
    conf = guard.settings().wecom_bot
    encrypted = _crypto().encrypt(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    timestamp, nonce = str(int(time.time())), request.args.get("nonce", "")
    body = {"encrypt": encrypted, "msgsignature": guard.sha1_signature(conf.token, timestamp, nonce, encrypted),
            "timestamp": int(timestamp), "nonce": nonce}
    return Response(json.dumps(body), mimetype="application/json")


def _empty() -> Response:
    return Response(b"", status=200, mimetype="text/plain")

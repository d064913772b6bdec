"""What the Official Account and WeCom adapters share: XML fields → Message, Reply → XML."""
from __future__ import annotations

from dataclasses import replace

from flask import Response, abort
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply

from bot.channels import guard
from bot.channels.guard import cdata_safe
from bot.chat.message import Message
from bot.errors import ForgedRequest, ServiceUnavailable
from bot.push import jobs

EVENT_NAMES = {"subscribe": "subscribe", "unsubscribe": "unsubscribe", "scan": "scan", "click": "click",
               "view": "view", "location": "location", "templatesendjobfinish": "template_finished",
               "masssendjobfinish": "mass_finished", "enter_agent": "enter_agent"}


def to_message(channel: str, parsed) -> Message:
    """A wechatpy-parsed message → our Message (raw fields kept in payload)."""
    raw = {k: v for k, v in getattr(parsed, "_data", {}).items() if isinstance(v, (str, int, float))}
    msg_type = (raw.get("MsgType") or parsed.type or "unknown").lower()
    sender = str(raw.get("FromUserName") or "")
    if not sender:
        abort(400, "FromUserName missing")
    text = str(raw.get("Content") or "")
    if msg_type == "voice":
        text = str(raw.get("Recognition") or "")   # WeChat's speech recognition, when enabled
    event_name = str(raw.get("Event") or "").lower() if msg_type == "event" else ""
    if event_name == "subscribe" and str(raw.get("EventKey") or "").startswith("qrscene_"):
        event_name = "subscribe"    # subscribing by scanning a code is still a subscription
    # Events have no MsgId: WeChat's retries repeat FromUserName+CreateTime; the EventKey keeps two
    # different menu clicks in the same second apart.
    created_at = str(raw.get("CreateTime") or 0)
    if not (created_at.isascii() and created_at.isdigit()) or len(created_at) > 12:   # seconds since 1970: digits, nothing else
        abort(400, "CreateTime must be a number")
    dedupe = str(raw.get("MsgId") or raw.get("MsgID")
                 or f"{sender}:{raw.get('CreateTime')}:{event_name}:{raw.get('EventKey') or ''}")[:160]
    return Message(channel=channel, user_id=sender, msg_type=msg_type, text=text, dedupe_key=dedupe,
                   event=EVENT_NAMES.get(event_name, event_name), event_key=str(raw.get("EventKey") or ""),
                   payload=raw, created_at=int(created_at))


def decrypt(crypto, xml: str, args, id_errors: tuple) -> str:
    """The plaintext of an AES callback; a wrong signature or receiver id is 403, garbage is 400."""
    try:
        plain = crypto.decrypt_message(xml, args["msg_signature"], args.get("timestamp"), args.get("nonce"))
    except (InvalidSignatureException, *id_errors):
        abort(403, "invalid signature")
    except Exception:
        abort(400, "cannot decrypt")
    return guard.check_xml(plain)


def reply_and_answer(services, channel: str, xml: str, parser, crypto, args,
                     signed_body: tuple[str, str, int] | None = None) -> Response:
    """Parse the (decrypted) XML, dispatch, and reply in kind: encrypted when the request was.
    `signed_body`: a plaintext callback's signature, bound to this body (guard.signed_body)."""
    try:
        parsed = parser(xml)
    except Exception:
        abort(400, "unreadable message")

    def render(text: str) -> str:
        body = TextReply(source=parsed.target, target=parsed.source, content=text).render()
        return crypto.encrypt_message(body, args.get("nonce", ""), args.get("timestamp")) if crypto else body
    return answer(services, replace(to_message(channel, parsed), signed_body=signed_body), render)


def answer(services, msg: Message, render) -> Response:
    """Dispatch, queue any follow-up pushes, and render the passive reply (or 'success')."""
    try:
        reply = services.dispatcher.dispatch(services, msg)
    except ServiceUnavailable:
        abort(503, "temporarily unavailable")
    except ForgedRequest:
        abort(403, "signature reused with another body")
    if reply.followups:
        with services.db.session() as session:
            for text in reply.followups:
                jobs.queue_push(services, session, msg.channel, msg.user_id, text)
    if not reply.text:
        return Response("success", mimetype="text/plain")
    return Response(render(cdata_safe(reply.text)), mimetype="application/xml")

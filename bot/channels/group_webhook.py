"""JSON group-chat webhook for a group bridge: HMAC-signed body in, {"reply": text|null} out."""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, abort, jsonify, request

from bot.channels import guard
from bot.chat.message import Message
from bot.errors import ServiceUnavailable

bp = Blueprint("group", __name__)
REQUIRED = {"msg_id": (str, int), "group_id": str, "sender_id": str, "text": str}
OPTIONAL = {"group_name": str, "sender_name": str}    # absent or null is fine; anything else must be text


@bp.post("/group")
def callback():
    raw = guard.read_body()
    secret = guard.settings().group_webhook_secret.encode()
    guard.require_equal(hmac.new(secret, raw, hashlib.sha256).hexdigest(),
                        (request.headers.get("X-Signature") or "").lower())
    body = _parse(raw)
    _require_timestamp(body.get("timestamp"))
    msg = Message(channel="group", user_id=body["sender_id"][:128], msg_type="text", text=body["text"],
                  dedupe_key=f"{body['group_id']}:{body['msg_id']}"[:160], chat_id=body["group_id"][:128],
                  display_name=str(body.get("sender_name") or "")[:100], mentioned=body.get("mentioned") is True,
                  payload={"group_name": str(body.get("group_name") or "")[:100]})
    try:
        services = guard.services()
        reply = services.dispatcher.dispatch(services, msg)
    except ServiceUnavailable:
        abort(503, "temporarily unavailable")
    return jsonify({"reply": reply.text})


def _parse(raw: bytes) -> dict:
    body = guard.parse_json_object(raw)
    for name, kinds in REQUIRED.items():
        if not isinstance(body.get(name), kinds) or isinstance(body.get(name), bool) or body.get(name) == "":
            abort(400, f"field {name} missing or of the wrong type")
    for name, kind in OPTIONAL.items():
        if body.get(name) is not None and not isinstance(body[name], kind):
            abort(400, f"field {name} must be a string")
    if "mentioned" in body and not isinstance(body["mentioned"], bool):
        abort(400, "field mentioned must be true or false")
    body["msg_id"] = str(body["msg_id"])
    return body


def _require_timestamp(stamp) -> None:
    """A signed body is replayable for ever unless it carries its time: while the replay window is on,
    `timestamp` (an integer, seconds) is required; a stale one is a replay (403)."""
    if stamp is None and guard.settings().timestamp_window_s <= 0:
        return
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        abort(400, "field timestamp missing or not an integer")
    guard.require_fresh(str(stamp))

"""Health check and the chat simulator: a WeChat-style page that posts real signed callbacks."""
from __future__ import annotations

import time
import uuid

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from wechatpy import parse_message

from bot.channels.guard import sha1_signature
from storage import enterprises, outbound, users

bp = Blueprint("web", __name__)
SIM_CHANNEL = "wechat"   # the simulator speaks as an Official Account follower


@bp.get("/healthz")
def healthz():
    services = current_app.extensions["bot"]
    database = services.db.ping()
    try:
        redis_ok = bool(services.redis.ping())
    except Exception:
        redis_ok = False
    ok = database and redis_ok
    return jsonify({"status": "ok" if ok else "degraded", "database": database, "redis": redis_ok}), 200 if ok else 503


@bp.before_request
def simulator_switch():
    if request.endpoint != "web.healthz" and not current_app.extensions["bot"].settings.simulator:
        abort(404)


@bp.get("/")
def simulator():
    return render_template("simulator.html")


def _user_id(raw) -> str:
    """Simulated openids: short, printable, no markup."""
    value = "".join(ch for ch in str(raw or "") if ch.isalnum() or ch in "-_")[:64]
    return value or "sim-user"


@bp.get("/simulator/users")
def simulator_users():
    """Users to pick from (the simulator's own and the demo's), and the roster for new ones."""
    services = current_app.extensions["bot"]
    with services.db.session() as session:
        people = [{"user": u.user_id, "name": u.display_name, "enterprise": u.enterprise.name if u.enterprise else ""}
                  for u in users.listing(session, limit=100, channel=SIM_CHANNEL)]
        return jsonify({"users": people, "enterprises": enterprises.names(session)})


@bp.post("/simulator/user")
def simulator_user():
    """Create or update a simulated user: a display name and the enterprise they speak for."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "expected a JSON object")
    user_id, name = _user_id(body.get("user")), str(body.get("name") or "").strip()[:50]
    firm = str(body.get("enterprise") or "").strip()[:200]
    services = current_app.extensions["bot"]
    with services.db.session() as session:
        enterprise = enterprises.by_name(session, firm) if firm else None
        if firm and enterprise is None:
            return jsonify({"error": f"企业名录中没有「{firm}」"}), 400
        user = users.get_or_create(session, SIM_CHANNEL, user_id, name)   # a given name replaces the old
        users.link_enterprise(user, enterprise.id if enterprise else user.enterprise_id)
        last_push = outbound.last_id_to(session, SIM_CHANNEL, user_id)
    return jsonify({"user": user_id, "name": name, "enterprise": firm, "after": last_push})


@bp.post("/simulator/send")
def simulator_send():
    """Post a real signed Official Account callback to /wechat, as WeChat would, and return the reply."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "expected a JSON object")
    text, user = str(body.get("text") or "").strip()[:2000], _user_id(body.get("user"))
    kind = "event" if body.get("event") == "subscribe" else "text"
    if not text and kind == "text":
        abort(400, "text is empty")
    settings = current_app.extensions["bot"].settings
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    xml = render_template("callback.xml", user=user, app_id=settings.wechat.app_id, text=text, kind=kind,
                          create_time=timestamp, msg_id=str(uuid.uuid4().int)[:18])
    signature = sha1_signature(settings.wechat.token, timestamp, nonce)
    with current_app.test_client() as client:
        answer = client.post(f"/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}",
                             data=xml.encode("utf-8"), content_type="text/xml")
    reply = None
    if answer.status_code == 200 and answer.data != b"success":
        reply = parse_message(answer.get_data(as_text=True)).content
    return jsonify({"status": answer.status_code, "reply": reply})


@bp.get("/simulator/pushes")
def simulator_pushes():
    """What the bot pushed to this user after message `after` (status changes, reminders, broadcasts):
    the page polls this, so follow-ups appear as they are sent."""
    user = _user_id(request.args.get("user"))
    after = request.args.get("after", "0")
    if not after.isdigit():
        abort(400, "after must be a number")
    services = current_app.extensions["bot"]
    with services.db.session() as session:
        rows = outbound.to_user_after(session, SIM_CHANNEL, user, int(after))
        return jsonify({"pushes": [{"id": r.id, "text": _push_text(r.body), "status": r.status} for r in rows]})


def _push_text(body: dict) -> str:
    title, text, url = body.get("title") or "", body.get("text") or "", body.get("url") or ""
    return "\n".join(part for part in (f"【{title}】" if title else "", text, url) if part)

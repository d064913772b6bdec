"""Health check and the chat simulator page."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

bp = Blueprint("web", __name__)


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


@bp.get("/")
def simulator():
    return render_template("simulator.html")


@bp.post("/simulator/send")
def simulator_send():
    """Post a real signed Official Account callback to /wechat, as WeChat would, and return the reply."""
    import time
    import uuid

    from flask import abort, request
    from wechatpy import parse_message

    from bot.channels.guard import sha1_signature
    body = request.get_json(silent=True) or {}
    text, user = str(body.get("text") or "").strip(), str(body.get("user") or "sim-user")[:64]
    if not text:
        abort(400, "text is empty")
    settings = current_app.extensions["bot"].settings
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    xml = render_template("callback.xml", user=user, app_id=settings.wechat.app_id, text=text,
                          create_time=timestamp, msg_id=str(uuid.uuid4().int)[:18])
    signature = sha1_signature(settings.wechat.token, timestamp, nonce)
    with current_app.test_client() as client:
        answer = client.post(f"/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}",
                             data=xml.encode("utf-8"), content_type="text/xml")
    reply = None
    if answer.status_code == 200 and answer.data != b"success":
        reply = parse_message(answer.get_data(as_text=True)).content
    return jsonify({"status": answer.status_code, "reply": reply})

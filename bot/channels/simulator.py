"""Health check and the chat simulator: a WeChat-style page that posts real signed callbacks.

The simulator is a staff tool: off unless SIMULATOR=1, behind the console login (staff or admin),
and it speaks only for the simulated users it makes itself (ids `sim-…`), never for a real follower.

Two modes: an Official Account follower (signed XML to /wechat), or members of a WeCom group talking
to the intelligent robot (encrypted JSON to /wecom/aibot, as WeCom sends it: only when the robot is
@-mentioned). Group ids are `sim-…` too, so a simulated group is never a real one.
"""
from __future__ import annotations

import json
import re
import struct
import time
import uuid

from defusedxml import ElementTree
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from werkzeug.exceptions import HTTPException

from bot.admin.common import audit, csrf
from bot.channels.aibot_crypto import AibotCrypto
from bot.channels.guard import sha1_signature
from storage import enterprises, outbound, users
from storage import simulator as simulated

bp = Blueprint("web", __name__)
SIM_CHANNEL = "wechat"   # the simulator speaks as an Official Account follower
SIM_PREFIX = "sim-"      # WeChat openids never look like this, so a simulated user is never a real one
SIM_ID = re.compile(r"sim-[A-Za-z0-9_-]{1,60}")
NOT_SIMULATED = "模拟器只能以模拟用户（sim- 开头，仅字母、数字、-、_）的身份对话"
# Group mode: the members are WeCom user ids, as the intelligent robot sees them (channel "wecom").
GROUP_CHANNEL = "wecom"
CHANNELS = {"oa": SIM_CHANNEL, "group": GROUP_CHANNEL}
ROBOT_NAME = "联企助手"     # how members @ the robot; WeCom leaves the "@联企助手" in text.content
AIBOT_ID = "sim-aibot"
MAX_MEMBERS = 20
NOT_SIMULATED_CHAT = "模拟器只能在模拟群（群 id 以 sim- 开头，仅字母、数字、-、_）里对话"


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
def simulator_gate():
    """Off → 404; anonymous → the login page (or 401); read-only → 403; a change without the
    console's CSRF token → 400. The healthz probe stays public."""
    if request.endpoint == "web.healthz":
        return None
    if not current_app.extensions["bot"].settings.simulator:
        abort(404)
    if not current_user.is_authenticated:
        if request.endpoint == "web.simulator":
            return redirect(url_for("admin.login", next=request.path))
        abort(401, "请先登录工作台")
    if not current_user.can_change:
        abort(403, "只读账号不能使用模拟器")
    if request.method == "POST":
        csrf.protect()
    return None


@bp.errorhandler(HTTPException)
def simulator_error(exc: HTTPException):
    """The page's calls read a JSON reason (shown to staff in Chinese); the page itself gets text."""
    reason = "页面已过期，请刷新后重试" if isinstance(exc, CSRFError) else exc.description
    if request.path.startswith("/simulator/"):
        return jsonify({"error": reason, "status": exc.code}), exc.code
    return f"{exc.code} {reason}", exc.code, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/")
def simulator():
    return render_template("simulator.html")


def _sim_user(raw) -> str:
    """A simulated user's id, or 403: the simulator never acts for a real follower."""
    if not isinstance(raw, str) or not SIM_ID.fullmatch(raw):
        abort(403, NOT_SIMULATED)
    return raw


def _sim_chat(raw) -> str:
    """A simulated group's id, or 403: the simulator never speaks in a real group."""
    if not isinstance(raw, str) or not SIM_ID.fullmatch(raw):
        abort(403, NOT_SIMULATED_CHAT)
    return raw


def _channel(mode) -> str:
    """The channel of a mode: "oa" (the default) speaks as a follower, "group" as WeCom group members."""
    if mode is None:
        return SIM_CHANNEL
    if mode not in CHANNELS:
        abort(400, "模式应为 oa 或 group")
    return CHANNELS[mode]


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "请求应为 JSON 对象")
    return body


def _after(raw) -> int:
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{1,18}", raw):
        abort(400, "after 应为数字")
    return int(raw)


@bp.get("/simulator/users")
def simulator_users():
    """The simulator's own users to pick from (of the mode: followers or group members), and the
    roster's names for new ones."""
    channel = _channel(request.args.get("mode"))
    services = current_app.extensions["bot"]
    with services.db.session() as session:
        # The query narrows to ids containing "sim-"; the prefix test drops names or firms that merely contain it.
        people = [{"user": u.user_id, "name": u.display_name, "enterprise": u.enterprise.name if u.enterprise else ""}
                  for u in users.listing(session, query=SIM_PREFIX, limit=100, channel=channel)
                  if SIM_ID.fullmatch(u.user_id)]
        return jsonify({"users": people, "enterprises": enterprises.names(session)})


@bp.post("/simulator/user")
def simulator_user():
    """Create or update a simulated user: a display name and the enterprise they speak for. In group
    mode the user is a WeCom member (channel wecom), as the intelligent robot will see them."""
    body = _json_body()
    channel = _channel(body.get("mode"))
    user_id = _sim_user(body.get("user"))
    name, firm = str(body.get("name") or "").strip()[:50], str(body.get("enterprise") or "").strip()[:200]
    services = current_app.extensions["bot"]
    with services.db.session() as session:
        enterprise = enterprises.by_name(session, firm) if firm else None
        if firm and enterprise is None:
            abort(400, f"企业名录中没有「{firm}」")
        if enterprise is not None and current_user.department:
            # A member sees the enterprise's tickets: a department-scoped account must not reach past its scope.
            abort(403, "限定部门的账号不能把模拟用户绑定到企业，请用管理员或不限部门的账号")
        user = users.get_or_create(session, channel, user_id, name)   # a given name replaces the old
        users.link_enterprise(user, enterprise.id if enterprise else user.enterprise_id)
        last_push = outbound.last_id_to(session, channel, user_id)
    # a staff member linked a (simulated) user to a firm
    audit("simulator.user", user_id if channel == SIM_CHANNEL else f"{channel}:{user_id}", firm)
    return jsonify({"user": user_id, "name": name, "enterprise": firm, "after": last_push})


@bp.post("/simulator/send")
def simulator_send():
    """Post a real signed Official Account callback to /wechat, as WeChat would, and return the reply
    (in group mode: an encrypted callback to /wecom/aibot, as WeCom would)."""
    body = _json_body()
    if _channel(body.get("mode")) == GROUP_CHANNEL:
        return _group_send(body)
    user = _sim_user(body.get("user"))
    text = str(body.get("text") or "").strip()[:2000]
    kind = "event" if body.get("event") == "subscribe" else "text"
    if not text and kind == "text":
        abort(400, "消息不能为空")
    settings = current_app.extensions["bot"].settings
    timestamp = str(int(time.time()))
    xml = render_template("callback.xml", user=user, app_id=settings.wechat.app_id, text=text, kind=kind,
                          create_time=timestamp, msg_id=str(uuid.uuid4().int)[:18])
    status, reply = _callback(settings.wechat, xml, timestamp)
    return jsonify({"status": status, "reply": reply})


def _callback(conf, xml: str, timestamp: str) -> tuple[int, str | None]:
    """(status, reply text) of /wechat for this message, signed — and in safe mode encrypted — as WeChat does."""
    nonce = uuid.uuid4().hex[:10]
    query = {"signature": sha1_signature(conf.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    crypto = None
    if conf.encrypt_mode.strip().lower() == "safe":
        crypto = WeChatCrypto(conf.token, conf.aes_key, conf.app_id)
        envelope = ElementTree.fromstring(crypto.encrypt_message(xml, nonce, timestamp))
        query.update(encrypt_type="aes", msg_signature=envelope.findtext("MsgSignature"))
        xml = f"<xml><ToUserName><![CDATA[{conf.app_id}]]></ToUserName>" \
              f"<Encrypt><![CDATA[{envelope.findtext('Encrypt')}]]></Encrypt></xml>"
    with current_app.test_client() as client:
        answer = client.post("/wechat", query_string=query, data=xml.encode("utf-8"), content_type="text/xml")
    if answer.status_code != 200 or answer.data == b"success":
        return answer.status_code, None
    reply = answer.get_data(as_text=True)
    if crypto is not None:
        envelope = ElementTree.fromstring(reply)
        reply = crypto.decrypt_message(reply, envelope.findtext("MsgSignature"), envelope.findtext("TimeStamp"),
                                       envelope.findtext("Nonce"))
    return 200, parse_message(reply).content


@bp.get("/simulator/pushes")
def simulator_pushes():
    """What the bot pushed to this simulated user after message `after` (status changes, reminders,
    broadcasts): the page polls this, so follow-ups appear as they are sent."""
    user = _sim_user(request.args.get("user"))
    after = _after(request.args.get("after", "0"))
    services = current_app.extensions["bot"]
    with services.db.session() as session:
        rows = outbound.to_user_after(session, SIM_CHANNEL, user, after)
        return jsonify({"pushes": [{"id": r.id, "text": _push_text(r.body), "status": r.status} for r in rows]})


# --- group mode: WeCom members talking to the intelligent robot ---

def _group_send(body: dict):
    """One member's line in the simulated group. Mentioned: the callback WeCom would post to
    /wecom/aibot, and the robot's stream answer. Not mentioned: WeCom tells the robot nothing, so
    neither do we (delivered false). `event: enter_chat`: the member opens the robot's one-to-one chat."""
    user = _sim_user(body.get("user"))
    settings = current_app.extensions["bot"].settings
    msgid = uuid.uuid4().hex
    if body.get("event") == "enter_chat":
        message = {"msgid": msgid, "create_time": int(time.time()), "aibotid": AIBOT_ID, "chattype": "single",
                   "from": {"userid": user}, "msgtype": "event", "event": {"eventtype": "enter_chat"}}
        status, answer = _robot_callback(settings.wecom_bot, message)
        return jsonify({"status": status, "reply": _answer_text(answer), "delivered": True, "msgid": msgid})
    chat = _sim_chat(body.get("chat"))
    text = str(body.get("text") or "").strip()[:2000]
    if not text:
        abort(400, "消息不能为空")
    at = f"@{ROBOT_NAME}"
    if body.get("mention") is not True and at not in text:
        return jsonify({"status": None, "reply": None, "delivered": False, "msgid": None})
    message = {"msgid": msgid, "aibotid": AIBOT_ID, "chatid": chat, "chattype": "group", "from": {"userid": user},
               "response_url": f"{settings.wecom.api_base.rstrip('/')}/aibot/response?response_code={uuid.uuid4().hex}",
               "msgtype": "text", "text": {"content": text if at in text else f"{at} {text}"}}
    status, answer = _robot_callback(settings.wecom_bot, message)
    return jsonify({"status": status, "reply": _answer_text(answer), "delivered": True, "msgid": msgid})


def _robot_callback(conf, message: dict) -> tuple[int, dict | None]:
    """(status, decrypted answer or None) of /wecom/aibot for this callback, encrypted and signed as WeCom
    does: AES with the robot's EncodingAESKey and an empty receive id, msg_signature over token, timestamp,
    nonce and encrypt. The answer's signature is checked and it is decrypted with wechatpy, not our code."""
    encrypted = AibotCrypto(conf.aes_key).encrypt(json.dumps(message, ensure_ascii=False).encode("utf-8"))
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    query = {"msg_signature": sha1_signature(conf.token, timestamp, nonce, encrypted), "timestamp": timestamp,
             "nonce": nonce}
    with current_app.test_client() as client:
        answer = client.post("/wecom/aibot", query_string=query, data=json.dumps({"encrypt": encrypted}),
                             content_type="application/json")
    if answer.status_code != 200 or not answer.data:
        return answer.status_code, None
    try:
        envelope = json.loads(answer.data)
        signed = sha1_signature(conf.token, str(envelope["timestamp"]), str(envelope["nonce"]), envelope["encrypt"])
        if signed != envelope["msgsignature"]:
            abort(502, "机器人的回复签名不对")
        return 200, json.loads(PrpCrypto(AibotCrypto(conf.aes_key).key).decrypt(envelope["encrypt"], ""))
    except (ValueError, KeyError, TypeError, struct.error, InvalidAppIdException):
        abort(502, "机器人的回复无法解密")


def _answer_text(answer: dict | None) -> str | None:
    """The words of the robot's passive answer: a finished stream, or the welcome's text."""
    if not answer:
        return None
    part = answer.get(answer.get("msgtype")) or {}
    return part.get("content") if isinstance(part, dict) else None


@bp.get("/simulator/group")
def simulator_group():
    """What a simulated group's page polls: pushes to its members after `after` (private WeCom app
    messages, such as a ticket's status asked in the group), and the robot's later answers through
    response_url after `replies_after` (absent: none yet, only the latest id to start from)."""
    chat = _sim_chat(request.args.get("chat"))
    members = [m for m in (request.args.get("users") or "").split(",") if m]
    if len(members) > MAX_MEMBERS:
        abort(400, f"一个模拟群最多 {MAX_MEMBERS} 位成员")
    members = [_sim_user(m) for m in members]
    after = _after(request.args.get("after", "0"))
    replies_after = request.args.get("replies_after")
    services = current_app.extensions["bot"]
    with services.db.session() as session:
        pushes = sorted((row for member in members
                         for row in outbound.to_user_after(session, GROUP_CHANNEL, member, after)), key=lambda r: r.id)
        replies = [] if replies_after is None else simulated.aibot_replies_in_chat(
            session, GROUP_CHANNEL, chat, _after(replies_after))
        return jsonify({
            "pushes": [{"id": r.id, "to": r.to, "text": _push_text(r.body), "status": r.status} for r in pushes],
            "replies": [{"id": r.id, "user": user or "", "name": name or "", "text": r.content, "status": r.status}
                        for r, user, name in replies],
            "latest_reply": simulated.last_aibot_reply_id(session, GROUP_CHANNEL, chat)})


def _push_text(body: dict) -> str:
    title, text, url = body.get("title") or "", body.get("text") or "", body.get("url") or ""
    return "\n".join(part for part in (f"【{title}】" if title else "", text, url) if part)

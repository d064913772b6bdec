"""Builders for callbacks exactly as WeChat, WeCom and the group bridge send them."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from itertools import count
from urllib.parse import urlencode

from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

_ids = count(int(time.time() * 1000))


def next_msg_id() -> str:
    return str(next(_ids))


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def oa_xml(content: str = "你好", user: str = "openid-1", msg_type: str = "text", msg_id: str | None = None,
           to: str = "gh_demo", agent_id: str | None = None, **fields) -> str:
    """An Official Account (or, with agent_id, WeCom) message body."""
    parts = [f"<ToUserName>{cdata(to)}</ToUserName>", f"<FromUserName>{cdata(user)}</FromUserName>",
             f"<CreateTime>{fields.pop('create_time', int(time.time()))}</CreateTime>",
             f"<MsgType>{cdata(msg_type)}</MsgType>"]
    if msg_type == "text":
        parts.append(f"<Content>{cdata(content)}</Content>")
    for name, value in fields.items():
        parts.append(f"<{name}>{cdata(str(value))}</{name}>")
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or next_msg_id()}</MsgId>")
    if agent_id:
        parts.append(f"<AgentID>{agent_id}</AgentID>")
    return "<xml>" + "".join(parts) + "</xml>"


def oa_event(event: str, user: str = "openid-1", **fields) -> str:
    return oa_xml(msg_type="event", user=user, Event=event, **fields)


def plain_query(token: str, timestamp: str | None = None, nonce: str | None = None, **extra) -> str:
    """Signed query args as WeChat sends them: a fresh random nonce per request."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return urlencode(dict(signature=signature, timestamp=timestamp, nonce=nonce, **extra))


def _envelope(crypto, xml: str, nonce: str, timestamp: str) -> tuple[str, str]:
    """(Encrypt, MsgSignature) of a message encrypted exactly as the platform does."""
    from defusedxml import ElementTree
    root = ElementTree.fromstring(crypto.encrypt_message(xml, nonce, timestamp))
    return root.findtext("Encrypt"), root.findtext("MsgSignature")


def oa_encrypted(settings, xml: str, nonce: str = "n0nce"):
    """(query, body, crypto) for safe mode: the message AES-encrypted, with both signatures."""
    conf, timestamp = settings.wechat, str(int(time.time()))
    crypto = WeChatCrypto(conf.token, conf.aes_key, conf.app_id)
    encrypt, signature = _envelope(crypto, xml, nonce, timestamp)
    body = f"<xml><ToUserName>{cdata('gh_demo')}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
    return plain_query(conf.token, timestamp, nonce, encrypt_type="aes", msg_signature=signature), body, crypto


def wecom_encrypted(settings, xml: str, nonce: str = "n0nce"):
    """(query, body, crypto) for the WeCom callback."""
    conf, timestamp = settings.wecom, str(int(time.time()))
    crypto = WeComCrypto(conf.token, conf.aes_key, conf.corp_id)
    encrypt, signature = _envelope(crypto, xml, nonce, timestamp)
    body = (f"<xml><ToUserName>{cdata(conf.corp_id)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt>"
            f"<AgentID>{conf.agent_id}</AgentID></xml>")
    return urlencode(dict(msg_signature=signature, timestamp=timestamp, nonce=nonce)), body, crypto


def wecom_echostr_query(settings, echostr: str, nonce: str = "n0nce") -> str:
    """The query of WeCom's URL check: echostr encrypted and signed as WeCom does it."""
    conf, timestamp = settings.wecom, str(int(time.time()))
    encrypted, signature = _envelope(WeComCrypto(conf.token, conf.aes_key, conf.corp_id), echostr, nonce, timestamp)
    return urlencode(dict(msg_signature=signature, timestamp=timestamp, nonce=nonce, echostr=encrypted))


def group_json(secret: str, text: str, mentioned: bool = False, msg_id: str | None = None,
               sender_id: str = "wxid-sender", sender_name: str = "张三", group_id: str = "group-1", **extra):
    """(body bytes, headers) for POST /group, signed like the bridge signs it."""
    payload = dict(msg_id=msg_id or next_msg_id(), group_id=group_id, group_name="联企一群",
                   sender_id=sender_id, sender_name=sender_name, text=text, mentioned=mentioned,
                   timestamp=int(time.time()), **extra)
    body = json.dumps(payload, ensure_ascii=False).encode()
    return body, sign_group(secret, body)


def sign_group(secret: str, body: bytes) -> dict:
    return {"X-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def reply_content(xml_text: str) -> str | None:
    """The <Content> of a passive reply, or None for 'success'."""
    if xml_text == "success":
        return None
    from defusedxml import ElementTree
    return ElementTree.fromstring(xml_text).findtext("Content")

"""WeCom (企业微信) self-built app callback: msg_signature + AES, GET verify and POST messages."""
from __future__ import annotations

from defusedxml import ElementTree
from flask import Blueprint, abort, request
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from bot.channels import guard
from bot.channels.wechat_common import decrypt, reply_and_answer

bp = Blueprint("wecom", __name__)


def _crypto() -> WeChatCrypto:
    conf = guard.settings().wecom
    return WeChatCrypto(conf.token, conf.aes_key, conf.corp_id)


def _verify(payload: str) -> None:
    args = request.args
    guard.require_fresh(args.get("timestamp"))
    expected = guard.sha1_signature(guard.settings().wecom.token, args.get("timestamp", ""),
                                    args.get("nonce", ""), payload)
    guard.require_equal(expected, args.get("msg_signature"))


@bp.get("/wecom")
def verify_url():
    args = request.args
    echostr = args.get("echostr", "")
    _verify(echostr)
    try:
        plain = _crypto().check_signature(args["msg_signature"], args["timestamp"], args["nonce"], echostr)
    except (InvalidSignatureException, InvalidCorpIdException):
        abort(403, "invalid signature")
    except Exception:
        abort(400, "cannot decrypt echostr")
    return guard.echo(plain)


@bp.post("/wecom")
def callback():
    xml = guard.read_xml()
    encrypt = ElementTree.fromstring(xml).findtext("Encrypt")
    if not encrypt:
        abort(400, "Encrypt missing")
    _verify(encrypt)
    args, crypto = request.args, _crypto()
    plain = decrypt(crypto, xml, args, (InvalidCorpIdException,))
    return reply_and_answer(guard.services(), "wecom", plain, parse_message, crypto, args)

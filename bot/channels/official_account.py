"""WeChat Official Account callback: GET handshake, POST messages in plaintext, compatible or safe mode."""
from __future__ import annotations

from flask import Blueprint, abort, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException

from bot.channels import guard
from bot.channels.wechat_common import decrypt, reply_and_answer

bp = Blueprint("wechat", __name__)


def _verify_plain(token: str) -> None:
    args = request.args
    guard.require_fresh(args.get("timestamp"))
    guard.require_equal(guard.sha1_signature(token, args.get("timestamp", ""), args.get("nonce", "")),
                        args.get("signature"))


@bp.get("/wechat")
def handshake():
    _verify_plain(guard.settings().wechat.token)
    return request.args.get("echostr", "")


@bp.post("/wechat")
def callback():
    conf = guard.settings().wechat
    _verify_plain(conf.token)
    xml = guard.read_xml()
    args = request.args
    crypto = None
    if args.get("encrypt_type", "raw").lower() == "aes":   # compatible and safe mode
        crypto = WeChatCrypto(conf.token, conf.aes_key, conf.app_id)
        xml = _decrypt(crypto, xml, conf.token)
    return reply_and_answer(guard.services(), "wechat", xml, parse_message, crypto, args)


def _decrypt(crypto: WeChatCrypto, xml: str, token: str) -> str:
    from defusedxml import ElementTree
    encrypt = ElementTree.fromstring(xml).findtext("Encrypt")
    if not encrypt:
        abort(400, "Encrypt missing")
    args = request.args
    guard.require_equal(guard.sha1_signature(token, args.get("timestamp", ""), args.get("nonce", ""), encrypt),
                        args.get("msg_signature"))
    return decrypt(crypto, xml, args, (InvalidAppIdException,))

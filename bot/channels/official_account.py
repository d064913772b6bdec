"""WeChat Official Account callback: GET handshake, POST messages in plaintext, compatible or safe mode."""
from __future__ import annotations

from defusedxml import ElementTree
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
    return guard.echo(request.args.get("echostr", ""))


@bp.post("/wechat")
def callback():
    conf = guard.settings().wechat
    _verify_plain(conf.token)
    xml = guard.read_xml()
    args = request.args
    crypto, signed_body = None, None
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"   # compatible and safe mode
    _require_mode(conf.encrypt_mode, encrypted)
    if encrypted:
        crypto = WeChatCrypto(conf.token, conf.aes_key, conf.app_id)
        xml = _decrypt(crypto, xml, conf.token)
    else:   # an encrypted body is covered by msg_signature; a plaintext one by nothing
        signed_body = guard.signed_body(args.get("signature", ""), request.get_data(cache=True))
    return reply_and_answer(guard.services(), "wechat", xml, parse_message, crypto, args, signed_body)


def _require_mode(mode: str, encrypted: bool) -> None:
    """Only the callbacks the account's 消息加解密方式 sends: in safe mode a plaintext callback is a forgery
    by someone who knows only the token, so it is refused (403), as is an encrypted one in plain mode.
    An unknown mode accepts neither (fail closed)."""
    mode = (mode or "").strip().lower()
    if encrypted and mode not in ("compatible", "safe"):
        abort(403, f"encrypted callbacks are refused: the account is in {mode} mode")
    if not encrypted and mode not in ("compatible", "plain"):
        abort(403, f"plaintext callbacks are refused: the account is in {mode} mode")


def _decrypt(crypto: WeChatCrypto, xml: str, token: str) -> str:
    encrypt = ElementTree.fromstring(xml).findtext("Encrypt")
    if not encrypt:
        abort(400, "Encrypt missing")
    args = request.args
    guard.require_equal(guard.sha1_signature(token, args.get("timestamp", ""), args.get("nonce", ""), encrypt),
                        args.get("msg_signature"))
    return decrypt(crypto, xml, args, (InvalidAppIdException,))

"""The baseline: a bare wechatpy echo app (signature check, parse, reply) — what any bot costs at least."""
import os

from flask import Flask, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

TOKEN, AES_KEY, APP_ID = os.environ["ECHO_TOKEN"], os.environ["ECHO_AES_KEY"], os.environ["ECHO_APP_ID"]
app = Flask(__name__)


@app.post("/wechat")
def echo():
    args = request.args
    check_signature(TOKEN, args["signature"], args["timestamp"], args["nonce"])
    xml = request.get_data(as_text=True)
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID) if args.get("encrypt_type") == "aes" else None
    if crypto:
        xml = crypto.decrypt_message(xml, args["msg_signature"], args["timestamp"], args["nonce"])
    msg = parse_message(xml)
    body = TextReply(message=msg, content=getattr(msg, "content", "")).render()
    return crypto.encrypt_message(body, args["nonce"], args["timestamp"]) if crypto else body

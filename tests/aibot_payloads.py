"""Callbacks exactly as WeCom sends them to an intelligent robot (智能机器人) in API mode, written from
the published scheme (回调和回复的加解密方案) and not from the code under test:

  key = base64decode(EncodingAESKey + "="), AES-256-CBC, IV = key[:16], PKCS#7 padding to 32 bytes;
  plaintext = 16 random bytes + 4-byte network-order length + msg + receiveid ("" for the robot);
  msg_signature = sha1 of the sorted [token, timestamp, nonce, encrypt] concatenated.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import time
import uuid
from urllib.parse import urlencode

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class WeComRobotServer:
    """What WeCom's servers do for one robot: encrypt callbacks, sign them, read the robot's answers."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str = ""):
        self.token, self.receive_id = token, receive_id.encode()
        self.key = base64.b64decode(encoding_aes_key + "=")
        assert len(self.key) == 32

    def encrypt(self, plaintext: bytes) -> str:
        data = os.urandom(16) + struct.pack("!I", len(plaintext)) + plaintext + self.receive_id
        pad = 32 - len(data) % 32
        data += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()

    def decrypt(self, encrypt: str) -> bytes:
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        data = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
        data = data[:-data[-1]]
        length = struct.unpack("!I", data[16:20])[0]
        assert data[20 + length:] == b"", "the robot's receive id is empty"
        return data[20:20 + length]

    def query(self, encrypt: str, timestamp: str | None = None, nonce: str = "1372623149", **extra) -> str:
        timestamp = timestamp or str(int(time.time()))
        return urlencode(dict(msg_signature=signature(self.token, timestamp, nonce, encrypt), timestamp=timestamp,
                              nonce=nonce, **extra))

    def callback(self, message: dict, **query) -> tuple[str, bytes]:
        """(query string, body) of a POST /wecom/aibot carrying `message`."""
        encrypt = self.encrypt(json.dumps(message, ensure_ascii=False).encode())
        return self.query(encrypt, **query), json.dumps({"encrypt": encrypt}).encode()

    def verify_url(self, echo: str, **query) -> str:
        """The GET query of the URL check (保存 in the admin console)."""
        encrypt = self.encrypt(echo.encode())
        return self.query(encrypt, echostr=encrypt, **query)

    def answer(self, response) -> dict | None:
        """The robot's passive answer, decrypted after checking its signature; None for an empty answer."""
        assert response.status_code == 200, response.data
        if not response.data:
            return None
        envelope = json.loads(response.data)
        assert envelope["msgsignature"] == signature(self.token, str(envelope["timestamp"]), envelope["nonce"],
                                                     envelope["encrypt"])
        return json.loads(self.decrypt(envelope["encrypt"]))


def text_message(content: str, user: str = "zhangsan", chat_id: str | None = None, msgid: str | None = None,
                 quote: str | None = None, response_url: str | None = None) -> dict:
    """A text callback: in a group when chat_id is given (someone @-mentioned the robot), else one-to-one."""
    message = {"msgid": msgid or uuid.uuid4().hex, "aibotid": "AIBOTID", "chattype": "group" if chat_id else "single",
               "from": {"userid": user}, "msgtype": "text", "text": {"content": content}}
    if chat_id:
        message["chatid"] = chat_id
    if response_url:
        message["response_url"] = response_url
    if quote is not None:
        message["quote"] = {"msgtype": "text", "text": {"content": quote}}
    return message


def event_message(eventtype: str, user: str = "zhangsan", detail: dict | None = None, chat_id: str | None = None,
                  response_url: str | None = None) -> dict:
    message = {"msgid": uuid.uuid4().hex, "create_time": int(time.time()), "aibotid": "AIBOTID",
               "chattype": "group" if chat_id else "single", "from": {"userid": user}, "msgtype": "event",
               "event": {"eventtype": eventtype, **({eventtype: detail} if detail else {})}}
    if chat_id:
        message["chatid"] = chat_id
    if response_url:
        message["response_url"] = response_url
    return message

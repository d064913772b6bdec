"""The intelligent robot's message encryption (WeCom 回调和回复的加解密方案, receive id ""):

AES-256-CBC with key = base64(EncodingAESKey + "="), IV = the key's first 16 bytes, PKCS#7 padding
to 32-byte blocks; plaintext = 16 random bytes + 4-byte big-endian length + message + receive id,
and the robot's receive id is empty. wechatpy's version pads loosely and reads past bad lengths;
this one checks every byte it relies on, so garbage is refused as garbage.
"""
from __future__ import annotations

import base64
import binascii
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32
RECEIVE_ID = b""


class BadCiphertext(ValueError):
    """Not something WeCom encrypted with this key (bad base64, length, padding or layout)."""


class WrongReceiver(ValueError):
    """Decrypted, but addressed to another receiver (an app's corp id, not the robot)."""


class AibotCrypto:
    def __init__(self, encoding_aes_key: str):
        self.key = base64.b64decode(encoding_aes_key + "=")
        if len(self.key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def decrypt(self, encrypted: str) -> bytes:
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise BadCiphertext("not base64") from None
        if not raw or len(raw) % 16:
            raise BadCiphertext("not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise BadCiphertext("bad padding")
        content = plain[16:-pad]
        if len(content) < 4:
            raise BadCiphertext("too short")
        length = struct.unpack(">I", content[:4])[0]
        if length > len(content) - 4:
            raise BadCiphertext("length past the end")
        if content[4 + length:] != RECEIVE_ID:
            raise WrongReceiver("receive id is not empty")
        return content[4:4 + length]

    def encrypt(self, message: bytes) -> str:
        plain = os.urandom(16) + struct.pack(">I", len(message)) + message + RECEIVE_ID
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

"""Checks every callback passes before any handler: size, signature, freshness, well-formed XML."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from flask import Response, abort, current_app, request

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def settings():
    return current_app.extensions["bot"].settings


def services():
    return current_app.extensions["bot"]


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def require_equal(expected: str, given: str | None) -> None:
    """Constant-time comparison; a forged signature is 403."""
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        abort(403, "invalid signature")


def require_fresh(timestamp: str | None) -> None:
    """Signed timestamps older (or newer) than the window are replays: 403."""
    window = settings().timestamp_window_s
    if window <= 0:
        return
    try:
        age = abs(time.time() - int(timestamp or ""))
    except ValueError:
        abort(403, "bad timestamp")
    if age > window:
        abort(403, "stale timestamp")


def signed_body(signature: str, body: bytes) -> tuple[str, str, int] | None:
    """WeChat's plaintext signature covers token, timestamp and nonce, not the body: a signed URL seen once
    (in a proxy's access log, say) could carry another body within the window. The first body seen under a
    signature is remembered for the window: WeChat's retries bring the same body, a replay with another is
    403 (bot.errors.ForgedRequest). The dispatcher checks it in the round trip that claims the message, before
    anything is stored; without Redis the check is skipped (the message is still handled, as everywhere else).
    (key, body digest, seconds to remember), or None when the replay window is off."""
    window = settings().timestamp_window_s
    if window <= 0:
        return None
    return f"signed-body:{signature}", hashlib.sha256(body).hexdigest(), 2 * window + 60


def echo(text: str) -> Response:
    """The URL check's echostr, as plain text: never HTML a browser would run (the value comes from the URL)."""
    response = Response(text, content_type="text/plain; charset=utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def read_body() -> bytes:
    """The raw body; over the size limit is 413 (Flask enforces MAX_CONTENT_LENGTH)."""
    data = request.get_data(cache=True)
    if not data:
        abort(400, "empty body")
    return data


def read_xml() -> str:
    """Body as UTF-8 XML without DTDs or entities; anything else is 400."""
    try:
        text = read_body().decode("utf-8")
    except UnicodeDecodeError:
        abort(400, "body is not UTF-8")
    return check_xml(text)


def check_xml(text: str) -> str:
    """The XML without characters XML 1.0 forbids (users do type them); unsafe or malformed → 400."""
    text = _XML_ILLEGAL.sub("", text)
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError):
        abort(400, "malformed or unsafe XML")
    if root.tag != "xml":
        abort(400, "root element must be <xml>")
    return text


def cdata_safe(text: str) -> str:
    """Text that survives inside <![CDATA[…]]>: split ']]>' and drop characters XML forbids."""
    return _XML_ILLEGAL.sub("", text).replace("]]>", "]]]]><![CDATA[>")


def parse_json_object(raw: bytes) -> dict:
    """A JSON object whose every string can be stored: a lone surrogate escape ("\\ud800") cannot be
    encoded as UTF-8 and PostgreSQL refuses NUL in text, so either is 400 rather than a 500 at insert."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        abort(400, "body is not UTF-8 JSON")
    except RecursionError:     # [[[[…]]]] deeper than the parser's stack: bad input, not a server fault
        abort(400, "JSON nested too deeply")
    if not isinstance(body, dict):
        abort(400, "body must be a JSON object")
    pending = [body]
    while pending:             # a loop, not recursion: the parser accepted nesting deeper than Python's stack
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                abort(400, "NUL character in text")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                abort(400, "text is not valid Unicode")
    return body

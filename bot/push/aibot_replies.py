"""Answers of the intelligent robot that missed their callback, posted by the worker to the callback's
response_url as markdown.

A response_url takes one answer and is valid for an hour (WeCom's rule), so each message gets at most
one row (unique msgid), a row is claimed before it is posted, and nothing is posted after the hour.
The url comes inside the callback, so it is only ever used when it is WeCom's own address — the
scheme, host and port of `wecom.api_base` and its `aibot/response` path. Anything else (an attacker
who learnt the robot's key could name any internal address) is never requested: no SSRF.
"""
from __future__ import annotations

import logging
import unicodedata
from datetime import timedelta
from urllib.parse import urlsplit

import requests

from bot.push.group_robots import cut
from bot.services import current
from storage import aibot_replies as store
from storage.db import after_commit
from storage.models import utcnow

log = logging.getLogger(__name__)
VALID_FOR = timedelta(hours=1)
MAX_ATTEMPTS = 3
BACKOFF_S = (5, 30)
MARKDOWN_MAX_BYTES = 20480        # WeCom's limit for a response_url's markdown
TRANSIENT = {-1, 45009, 45033}    # busy, rate limited, too many concurrent calls


def trusted_url(settings, url) -> str | None:
    """The url when it is WeCom's response endpoint on the configured API host, else None."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        return None
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in url):
        return None
    try:
        given, base = urlsplit(url), urlsplit(settings.wecom.api_base)
        same_port = _port(given) == _port(base)
    except ValueError:
        return None
    if (given.scheme.lower() != base.scheme.lower() or given.username is not None or given.password is not None
            or (given.hostname or "") != (base.hostname or "").lower() or not same_port or given.fragment):
        return None
    return url if given.path == base.path.rstrip("/") + "/aibot/response" else None


def _port(parts) -> int:
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), -1)


def queue(services, session, msgid: str, response_url: str, text: str) -> int | None:
    """Record the answer and let the worker post it once this session commits; None when this
    message already has one (a retried callback, or an answer already passed on)."""
    content = cut(text, MARKDOWN_MAX_BYTES)
    row = store.add(session, msgid, response_url, content, utcnow() + VALID_FOR)
    if row is None:
        return None
    reply_id = row.id
    after_commit(session, lambda: services.queue.enqueue(send, reply_id, job_id=f"aibot-reply-{reply_id}"))
    return reply_id


def send(reply_id: int) -> str:
    """Worker job: post the answer (once, within the hour); a transient failure is tried again."""
    services = current()
    with services.db.session() as session:
        row = store.get(session, reply_id)
        if row is None:
            return "skipped"
        if row.expires_at <= utcnow():
            store.expire(session, reply_id)
            return "expired"
        if not store.claim(session, reply_id, utcnow()):
            return "skipped"          # sent, expired, or another worker has it
        url, content, attempts, expires_at = row.response_url, row.content, row.attempts + 1, row.expires_at
    if trusted_url(services.settings, url) is None:     # checked again: the settings may have changed
        _finish(services, reply_id, store.FAILED, "response_url 不是企业微信接口地址，未调用")
        return "refused"
    errcode, error = _post(url, content)
    if errcode == 0:
        _finish(services, reply_id, store.SENT)
        return "sent"
    retry_at = utcnow() + timedelta(seconds=BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1])
    if errcode in TRANSIENT and attempts < MAX_ATTEMPTS and retry_at < expires_at:
        with services.db.session() as session:
            store.requeue(session, reply_id, error)
        services.queue.enqueue_in(retry_at - utcnow(), send, reply_id)
        return "retrying"
    _finish(services, reply_id, store.FAILED, error)
    log.warning("aibot reply %s failed for good: %s", reply_id, error)
    return "failed"


def _post(url: str, content: str) -> tuple[int, str]:
    """(errcode, error text); the url (a one-time credential) never appears in either."""
    try:
        response = requests.post(url, json={"msgtype": "markdown", "markdown": {"content": content}}, timeout=5,
                                 allow_redirects=False)
        result = response.json()
    except (requests.RequestException, ValueError) as exc:
        return -1, f"-1 {type(exc).__name__}"
    if not isinstance(result, dict):
        return -1, "-1 unreadable answer"
    try:
        errcode = int(result.get("errcode", -1) or 0)
    except (TypeError, ValueError):
        errcode = -1
    return errcode, "" if errcode == 0 else f"{errcode} {str(result.get('errmsg', ''))[:200]}"


def _finish(services, reply_id: int, status: str, error: str = "") -> None:
    with services.db.session() as session:
        store.finish(session, reply_id, status, error)

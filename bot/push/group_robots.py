"""WeCom groups reached through their group robot (消息推送, formerly 群机器人): the registry's rules
and the post itself, `POST {WECOM_API_BASE}webhook/send?key=KEY`.

The key is the robot's only credential — whoever has it can post into the group — so it is kept
out of everything people or logs see: listings, the console, errors and delivery records show it
masked (`****5aaa`), and requests' own debug lines have it rewritten.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from urllib.parse import parse_qs, urlsplit

import requests
from wechatpy.exceptions import WeChatClientException

from bot.errors import DomainError
from bot.push import group_texts as texts
from storage import groups as store

log = logging.getLogger(__name__)
KEY = re.compile(r"[A-Za-z0-9-]{16,100}")
KEY_IN_URL = re.compile(r"([?&]key=)[^&\s'\"]+")
MAX_NAME = 64
TEXT_MAX_BYTES = 2048         # WeCom's limit for a text message from a group robot
MARKDOWN_MAX_BYTES = 4096     # … and for a markdown one
NOT_REGISTERED = 93000        # WeCom's "invalid webhook url" — also what a deleted group gets


class GroupError(DomainError):
    """A name or key that cannot be registered; the text says why, in Chinese."""


class MaskWebhookKeys(logging.Filter):
    """urllib3 logs the request line (with ?key=…) at debug level: never let the key through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        masked = KEY_IN_URL.sub(r"\1****", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(MaskWebhookKeys())


def mask(key: str) -> str:
    """What may be shown of a key: its last four characters."""
    return f"****{key[-4:]}" if key else ""


def webhook_key(raw: str) -> str:
    """The key from what staff paste: the key itself or the whole webhook address."""
    raw = (raw or "").strip()
    if raw.lower().startswith(("http://", "https://")):
        found = parse_qs(urlsplit(raw).query).get("key") or [""]
        raw = found[0].strip()
    if not KEY.fullmatch(raw):
        raise GroupError(texts.BAD_KEY)
    return raw


def group_name(raw: str) -> str:
    name = (raw or "").strip()
    if not name:
        raise GroupError(texts.NAME_MISSING)
    if len(name) > MAX_NAME:
        raise GroupError(texts.NAME_TOO_LONG.format(limit=MAX_NAME))
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise GroupError(texts.NAME_BAD_CHARS)
    return name


def register(session, name: str, key: str, actor: str, reminders: bool = True):
    """Add a group (name and key checked); GroupError with the reason otherwise."""
    name, key = group_name(name), webhook_key(key)
    try:
        return store.add(session, name, key, actor, reminders)
    except store.DuplicateGroup as exc:
        if exc.field == "name":
            raise GroupError(texts.NAME_TAKEN.format(name=name)) from None
        raise GroupError(texts.KEY_TAKEN) from None


def row(group) -> dict:
    """A group as listings show it: the key masked."""
    return {"id": group.id, "name": group.name, "webhook_key": mask(group.webhook_key),
            "reminders": bool(group.reminders), "created_by": group.created_by,
            "created_at": group.created_at.isoformat(timespec="seconds") if group.created_at else None}


def message_body(text: str) -> dict:
    """A text message when it fits WeCom's 2048 bytes, else markdown (4096 bytes, cut at a line end)."""
    if len(text.encode("utf-8")) <= TEXT_MAX_BYTES:
        return {"msgtype": "text", "text": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"content": cut(text, MARKDOWN_MAX_BYTES - 16) + "\n……"}}


def cut(text: str, max_bytes: int) -> str:
    """The longest start of `text` within `max_bytes` UTF-8 bytes, ending at a line end when one is near."""
    head = text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
    if len(head) == len(text):
        return text
    line_end = head.rfind("\n")
    return head[:line_end] if line_end > len(head) // 2 else head


def post(services, name: str, text: str) -> dict:
    """Post into a registered group through its robot. Raises WeChatClientException (with WeCom's
    errcode, or -1 when WeCom could not be reached) whose text never contains the key."""
    with services.db.session() as session:
        group = store.by_name(session, name)
        key = group.webhook_key if group is not None else ""
    if not key:
        raise WeChatClientException(NOT_REGISTERED, texts.NOT_REGISTERED.format(name=name))
    try:
        response = requests.post(f"{services.settings.wecom.api_base}webhook/send", params={"key": key},
                                 json=message_body(text), timeout=5, allow_redirects=False)
        result = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise WeChatClientException(-1, f"{texts.UNREACHABLE} ({type(exc).__name__})") from None
    errcode = int(result.get("errcode", -1) or 0) if isinstance(result, dict) else -1
    if errcode:
        errmsg = KEY_IN_URL.sub(r"\1****", str(result.get("errmsg", ""))[:200])
        raise WeChatClientException(errcode, errmsg)
    return result

"""Pushes through the WeChat / WeCom APIs: channel choice, shared access tokens, bounded retries."""
from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta

from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException

from bot.push import group_robots as groups
from storage.models import utcnow

log = logging.getLogger(__name__)
TOKEN_ERRORS = (40001, 40014, 42001)
SERVICE_WINDOW = timedelta(hours=48)   # customer-service messages only within 48 h of the user's last message


class RedisTokenStore:
    """wechatpy's session interface over Redis, so every process shares one access token."""

    def __init__(self, redis, prefix: str = "wechatpy"):
        self.redis, self.prefix = redis, prefix

    def get(self, key, default=None):
        value = self.redis.get(f"{self.prefix}:{key}")
        return value.decode() if value else default

    def set(self, key, value, ttl=None):
        # Expire early so no process ever uses a token in its last minutes.
        self.redis.set(f"{self.prefix}:{key}", value, ex=max(int(ttl or 7200) - 300, 60))

    def delete(self, key):
        self.redis.delete(f"{self.prefix}:{key}")


class _TokenRefresh:
    """Mixin: fetch the token under a Redis lock; refresh and retry a token error once, never more.

    The product's one adapter onto wechatpy's private methods (_handle_result, _decode_result, _request,
    _fetch_access_token): wechatpy's own retry is unbounded. tests/test_outbound.py pins what we rely on
    (one refresh and one retry on 40001, no loop, one token shared through Redis), so an upgrade that
    changes them fails there."""

    def _token_lock(self):
        return self.session.redis.lock(f"lock:token:{self.appid}", timeout=30, blocking_timeout=30)

    @property
    def access_token(self):
        token = self.session.get(self.access_token_key)
        if token:
            return token
        with self._token_lock():  # one process fetches; the others find its token
            token = self.session.get(self.access_token_key)
            if not token:
                self.fetch_access_token()
                token = self.session.get(self.access_token_key)
        return token

    def _handle_result(self, res, method=None, url=None, result_processor=None, **kwargs):
        result = self._decode_result(res) if not isinstance(res, dict) else res
        errcode = int(result.get("errcode", 0) or 0) if isinstance(result, dict) else 0
        if errcode in TOKEN_ERRORS and not getattr(self, "_retrying", False):
            log.info("access token rejected (%s): refreshing once", errcode)
            self.session.delete(self.access_token_key)
            kwargs["params"]["access_token"] = self.access_token
            self._retrying = True
            try:
                return self._request(method=method, url_or_endpoint=url,
                                     result_processor=result_processor, **kwargs)
            finally:
                self._retrying = False
        return super()._handle_result(res, method, url, result_processor, **kwargs)


class OfficialAccountClient(_TokenRefresh, WeChatClient):
    def __init__(self, settings, redis):
        # auto_retry=False: wechatpy's own token retry is unbounded; ours runs once.
        super().__init__(settings.app_id, settings.app_secret, session=RedisTokenStore(redis), timeout=5,
                         auto_retry=False)
        self.API_BASE_URL = settings.api_base

    def fetch_access_token(self):
        return self._fetch_access_token(url=f"{self.API_BASE_URL}token", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})


class WeComAppClient(_TokenRefresh, WeComClient):
    def __init__(self, settings, redis):
        super().__init__(settings.corp_id, settings.secret, session=RedisTokenStore(redis), timeout=5,
                         auto_retry=False)
        self.API_BASE_URL = settings.api_base

    def fetch_access_token(self):
        return self._fetch_access_token(url=f"{self.API_BASE_URL}gettoken", params={
            "corpid": self.corp_id, "corpsecret": self.secret})


_clients = threading.local()


def _client(cls, name: str, conf, services):
    """One client per thread and configuration, so its HTTP connections are kept alive and reused."""
    key = (name, id(services), conf)
    cached = getattr(_clients, "cache", None)
    if cached is None:
        cached = _clients.cache = {}
    if key not in cached:
        cached[key] = cls(conf, services.redis)
    return cached[key]


def official_account(services) -> OfficialAccountClient:
    return _client(OfficialAccountClient, "wechat", services.settings.wechat, services)


def wecom(services) -> WeComAppClient:
    return _client(WeComAppClient, "wecom", services.settings.wecom, services)


def can_push_privately(services, channel: str, user_id: str) -> bool:
    """Whether a one-to-one push can reach this user: a WeCom member through the WeCom app (an external
    contact's id, wm…/wo…, cannot be), an Official Account follower by customer-service or template
    message. A group bridge's member ids reach nobody."""
    if channel == "wecom":
        return services.settings.wecom.enabled and bool(user_id) and not EXTERNAL_CONTACT.match(user_id)
    return channel == "wechat" and services.settings.wechat.enabled and bool(user_id)


EXTERNAL_CONTACT = re.compile(r"^w[mo][A-Za-z0-9_-]{20,}$")


def choose_kind(channel: str, user, to_group: bool = False) -> str:
    """custom inside the 48 h window, template outside it; WeCom users get app messages."""
    if channel == "wecom":
        return "appchat" if to_group else "wecom"
    last = getattr(user, "last_inbound_at", None)
    return "custom" if last is not None and utcnow() - last < SERVICE_WINDOW else "template"


def send(services, kind: str, to: str, body: dict, dedupe: bool = False) -> dict:
    """One API call; raises WeChatClientException (with errcode) on failure.

    dedupe: WeCom drops a repeat of the same message within 30 minutes (enable_duplicate_check),
    which bounds duplicates when a broadcast is resumed after a crash.
    """
    text = body.get("text", "")
    if kind == "custom":
        return official_account(services).message.send_text(to, text)
    if kind == "template":
        data = {"first": {"value": body.get("title", "园区通知")}, "keyword1": {"value": text[:200]},
                "remark": {"value": body.get("remark", "")}}
        return official_account(services).message.send_template(
            to, services.settings.wechat.template_id, data, url=body.get("url"))
    if kind == "wecom":
        return wecom(services).post("message/send", data={
            "touser": to, "agentid": services.settings.wecom.agent_id, "msgtype": "text",
            "text": {"content": text}, "enable_duplicate_check": 1 if dedupe else 0,
            "duplicate_check_interval": 1800})
    if kind == "appchat":
        return wecom(services).appchat.send_text(to, text)
    if kind == "webhook":     # a registered group, through its group robot
        return groups.post(services, to, text)
    raise ValueError(f"unknown push kind {kind!r}")


PERMANENT_ERRORS = {40003, 43004, 43019, 45015, 40037, 81013, 86003, groups.NOT_REGISTERED}


def is_permanent(exc: Exception) -> bool:
    """Errors a retry cannot fix (not following, invalid openid, outside window …)."""
    return isinstance(exc, WeChatClientException) and exc.errcode in PERMANENT_ERRORS

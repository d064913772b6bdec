"""Settings: defaults → config.yaml (or $BOT_CONFIG) → environment → overrides, loaded once."""
from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or malformed; raised at start-up with the key's name."""


@dataclass(frozen=True)
class WeChatSettings:
    token: str
    app_id: str
    app_secret: str
    aes_key: str
    api_base: str = "https://api.weixin.qq.com/cgi-bin/"
    template_id: str = ""
    # Which callbacks are accepted: plain (plaintext only), compatible (both), safe (AES only).
    encrypt_mode: str = "compatible"
    enabled: bool = True           # off → /wechat answers 404 and its secrets are not required


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    api_base: str = "https://qyapi.weixin.qq.com/cgi-bin/"
    duty_staff: tuple = ()
    enabled: bool = True           # off → /wecom answers 404 and its secrets are not required


@dataclass(frozen=True)
class WeComBotSettings:
    """WeCom intelligent robot (智能机器人) in API mode: callbacks at /wecom/aibot (receive id "")."""
    token: str = ""
    aes_key: str = ""
    enabled: bool = True           # off → /wecom/aibot answers 404 and its secrets are not required
    # Seconds the callback waits for the reply before answering empty and replying through
    # response_url from the worker instead; 0 = always through response_url.
    passive_budget_s: float = 3.0


@dataclass(frozen=True)
class MeetingSettings:
    """Breakfast meetings (政企早茶会): the `meetings` section."""
    reminder_lead_hours: float = 24    # remind confirmed attendees once the meeting is this close
    per_enterprise_limit: int = 2      # seats one enterprise may take: the default of a new meeting


@dataclass(frozen=True)
class BroadcastSettings:
    """Policy broadcasts: the `broadcasts` section (see config.yaml for each key)."""
    batch_size: int = 50
    send_threads: int = 16
    lease_s: int = 120
    max_attempts: int = 5
    backoff_s: tuple = (5, 30, 120, 600)
    rate_limits: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    redis_url: str
    secret_key: str
    wechat: WeChatSettings
    wecom: WeComSettings
    group_webhook_secret: str
    timestamp_window_s: int = 300
    max_body_bytes: int = 1 << 20
    dedupe_ttl_s: int = 600
    conversation_timeout_s: int = 1800
    reply_max_bytes: int = 2048
    intent_threshold: float | None = None   # None → the threshold stored with the nlp model
    redis_persistence_check: bool = True
    group_unmentioned_intents: tuple = ("complaint.file", "complaint.status", "meeting.signup")
    group_unmentioned_confidence: float = 0.7
    serve_workers: int = 3
    serve_threads: int = 2
    scheduler_interval_s: int = 60
    jobs_inline: bool = False      # run background jobs at once, in-process (tests only)
    simulator: bool = False        # the chat simulator at / (behind the staff login); SIMULATOR=1 turns it on
    group_webhook_enabled: bool = True   # off → POST /group answers 404 and needs no secret
    bot_env: str = ""              # BOT_ENV: production forces production mode; development/test rule it out
    trusted_proxies: int = 0       # reverse proxies in front that set X-Forwarded-For (werkzeug ProxyFix)
    session_cookie_secure: bool | None = None   # None → on in production, off otherwise
    session_idle_minutes: int = 120              # a console session unused this long ends
    wecom_bot: WeComBotSettings = field(default_factory=WeComBotSettings)
    meetings: MeetingSettings = field(default_factory=MeetingSettings)
    broadcasts: BroadcastSettings = field(default_factory=BroadcastSettings)
    extra: dict = field(default_factory=dict)   # sections a feature validates itself (complaints: bot/complaints/rules.py)

    @property
    def production(self) -> bool:
        """Production unless BOT_ENV says development/test; forced by BOT_ENV=production or a non-SQLite DB."""
        if self.bot_env in ("development", "test"):
            return False
        return self.bot_env == "production" or not self.database_url.startswith("sqlite")

    @property
    def cookie_secure(self) -> bool:
        return self.production if self.session_cookie_secure is None else self.session_cookie_secure

    def with_overrides(self, **changes) -> Settings:
        """A copy with some top-level settings replaced (tests use this)."""
        return replace(self, **changes)


# Fixed environment names (contract.md) → (section, key).
ENV_NAMES = {
    "DATABASE_URL": (None, "database_url"),
    "REDIS_URL": (None, "redis_url"),
    "SECRET_KEY": (None, "secret_key"),
    "GROUP_WEBHOOK_SECRET": (None, "group_webhook_secret"),
    "TIMESTAMP_WINDOW_S": (None, "timestamp_window_s"),
    "SIMULATOR": (None, "simulator"),
    "BOT_ENV": (None, "bot_env"),
    "TRUSTED_PROXIES": (None, "trusted_proxies"),
    "SESSION_COOKIE_SECURE": (None, "session_cookie_secure"),
    "WECHAT_TOKEN": ("wechat", "token"),
    "WECHAT_APP_ID": ("wechat", "app_id"),
    "WECHAT_APP_SECRET": ("wechat", "app_secret"),
    "WECHAT_AES_KEY": ("wechat", "aes_key"),
    "WECHAT_API_BASE": ("wechat", "api_base"),
    "WECOM_CORP_ID": ("wecom", "corp_id"),
    "WECOM_AGENT_ID": ("wecom", "agent_id"),
    "WECOM_SECRET": ("wecom", "secret"),
    "WECOM_TOKEN": ("wecom", "token"),
    "WECOM_AES_KEY": ("wecom", "aes_key"),
    "WECOM_API_BASE": ("wecom", "api_base"),
    "WECOM_BOT_TOKEN": ("wecom_bot", "token"),
    "WECOM_BOT_AES_KEY": ("wecom_bot", "aes_key"),
}


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data


def _apply_env(raw: dict, environ) -> None:
    for name, (section, key) in ENV_NAMES.items():
        if environ.get(name) not in (None, ""):
            target = raw.setdefault(section, {}) if section else raw
            target[key] = environ[name]


def _section(cls, raw: dict, name: str):
    data = raw.get(name) or {}
    kwargs = {}
    for f in fields(cls):
        if f.name in data:
            kwargs[f.name] = tuple(data[f.name]) if isinstance(data[f.name], list) else data[f.name]
        elif f.default is MISSING:
            raise ConfigError(f"missing setting: {name}.{f.name}")
    try:
        if "agent_id" in kwargs:
            kwargs["agent_id"] = int(kwargs["agent_id"])
    except ValueError:
        raise ConfigError(f"{name}.agent_id must be a number") from None
    return cls(**kwargs)


def _secret_key(var_dir: Path, configured: str) -> str:
    """Use the configured key, else one generated once into var/ so sessions survive restarts."""
    if configured:
        return configured
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _typed(raw: dict, name: str, kind, default):
    value = raw.get(name, default)
    try:
        if kind is tuple:
            return tuple(value)
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name} must be {kind.__name__}, got {value!r}") from None


def _flag(value) -> bool:
    """YAML booleans, and the words an environment variable carries (0/1, false/true, off/on, no/yes)."""
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "off", "no", "")
    return bool(value)


def load_settings(path: str | os.PathLike | None = None, environ=None, **overrides) -> Settings:
    """Load and validate settings once; a missing or malformed key fails with its name."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("BOT_CONFIG") or ROOT / "config.yaml")
    raw = _read_yaml(path)
    _apply_env(raw, environ)
    var_dir = Path(raw.get("var_dir") or "var")
    if not var_dir.is_absolute():
        var_dir = ROOT / var_dir
    var_dir = Path(overrides.pop("var_dir", var_dir))
    group_webhook_enabled = _flag(raw.get("group_webhook_enabled", True))
    if group_webhook_enabled and not raw.get("group_webhook_secret"):   # switched off, it needs none
        raise ConfigError("missing setting: group_webhook_secret")
    defaults = Settings.__dataclass_fields__
    simple = {
        name: _typed(raw, name, type(defaults[name].default), defaults[name].default)
        for name in ("timestamp_window_s", "max_body_bytes", "dedupe_ttl_s", "conversation_timeout_s",
                     "reply_max_bytes", "group_unmentioned_intents",
                     "group_unmentioned_confidence", "serve_workers", "serve_threads",
                     "scheduler_interval_s", "trusted_proxies", "session_idle_minutes")
    }
    settings = Settings(
        var_dir=var_dir,
        database_url=raw.get("database_url") or f"sqlite:///{var_dir / 'bot.db'}",
        redis_url=raw.get("redis_url") or "",
        secret_key=_secret_key(var_dir, raw.get("secret_key") or ""),
        wechat=_section(WeChatSettings, raw, "wechat"),
        wecom=_section(WeComSettings, raw, "wecom"),
        wecom_bot=_wecom_bot(raw),
        meetings=_numbers(MeetingSettings, raw, "meetings"),
        broadcasts=_broadcasts(raw),
        intent_threshold=_threshold(raw.get("intent_threshold")),
        redis_persistence_check=raw.get("redis_persistence_check", True),
        group_webhook_secret=str(raw.get("group_webhook_secret") or ""),
        simulator=_flag(raw.get("simulator", False)),
        group_webhook_enabled=group_webhook_enabled,
        bot_env=_one_of(raw.get("bot_env"), "BOT_ENV", BOT_ENVS),
        session_cookie_secure=None if raw.get("session_cookie_secure") in (None, "") else _flag(raw["session_cookie_secure"]),
        extra={k: v for k, v in raw.items() if k not in defaults},
        **simple,
    )
    _validate(settings, raw)
    return replace(settings, **overrides) if overrides else settings


BOT_ENVS = ("production", "development", "test")
ENCRYPT_MODES = ("plain", "compatible", "safe")


def _one_of(value, name: str, allowed: tuple) -> str:
    """A word from `allowed` (any case), or empty: a typo such as BOT_ENV=prod must not pass silently."""
    word = str(value or "").strip().lower()
    if word and word not in allowed:
        raise ConfigError(f"setting {name} must be {', '.join(allowed[:-1])} or {allowed[-1]}, got {value!r}")
    return word


def _validate(settings: Settings, raw: dict) -> None:
    """Values whose typo would quietly weaken a check: fail at start, naming the setting."""
    if str(settings.wechat.encrypt_mode).strip().lower() not in ENCRYPT_MODES:
        raise ConfigError(f"setting wechat.encrypt_mode must be plain, compatible or safe, "
                          f"got {settings.wechat.encrypt_mode!r}")
    for name, value in (("wechat.enabled", settings.wechat.enabled), ("wecom.enabled", settings.wecom.enabled),
                        ("redis_persistence_check", raw.get("redis_persistence_check", True))):
        if not isinstance(value, bool):
            raise ConfigError(f"setting {name} must be true or false, got {value!r}")


def _threshold(value) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting intent_threshold must be a number between 0 and 1, got {value!r}") from None
    if not 0 <= number <= 1:
        raise ConfigError(f"setting intent_threshold must be a number between 0 and 1, got {value!r}")
    return number


def _numbers(cls, raw: dict, name: str):
    """A section of positive numbers; an unknown key or a wrong value fails with its name."""
    data = raw.get(name) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"setting {name} must be a mapping")
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"unknown setting {name}.{key}")
        kind = type(known[key].default)
        if kind not in (int, float):
            continue
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"setting {name}.{key} must be a number, got {value!r}") from None
        if isinstance(value, bool) or number <= 0 or (kind is int and number != value):
            raise ConfigError(f"setting {name}.{key} must be a positive {'whole ' if kind is int else ''}number, "
                              f"got {value!r}")
        values[key] = number
    return replace(cls(), **values)


def _broadcasts(raw: dict) -> BroadcastSettings:
    data = dict(raw.get("broadcasts") or {})
    backoff, limits = data.pop("backoff_s", None), data.pop("rate_limits", None) or {}
    conf = _numbers(BroadcastSettings, {"broadcasts": data}, "broadcasts")
    if backoff is not None:
        if not isinstance(backoff, list) or not backoff or not all(
                isinstance(s, (int, float)) and not isinstance(s, bool) and s >= 0 for s in backoff):
            raise ConfigError(f"setting broadcasts.backoff_s must be a list of seconds, got {backoff!r}")
        conf = replace(conf, backoff_s=tuple(backoff))
    if not isinstance(limits, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in limits.values()):
        raise ConfigError("setting broadcasts.rate_limits must map names to numbers (0 = unlimited)")
    return replace(conf, rate_limits=dict(limits))


def _wecom_bot(raw: dict) -> WeComBotSettings:
    """The robot's section; when it is enabled its Token and a well-formed EncodingAESKey are required."""
    conf = _section(WeComBotSettings, raw, "wecom_bot")
    if not isinstance(conf.enabled, bool):
        raise ConfigError(f"setting wecom_bot.enabled must be true or false, got {conf.enabled!r}")
    try:
        budget = float(conf.passive_budget_s)
    except (TypeError, ValueError):
        raise ConfigError(f"setting wecom_bot.passive_budget_s must be a number, "
                          f"got {conf.passive_budget_s!r}") from None
    conf = replace(conf, token=str(conf.token or ""), aes_key=str(conf.aes_key or ""), passive_budget_s=budget)
    if not conf.enabled:
        return conf
    for name in ("token", "aes_key"):
        if not getattr(conf, name).strip():
            raise ConfigError(f"missing setting: wecom_bot.{name}")
    if not _is_aes_key(conf.aes_key):
        raise ConfigError("setting wecom_bot.aes_key must be the 43-character EncodingAESKey")
    return conf


def _is_aes_key(value: str) -> bool:
    if len(value) != 43:
        return False
    try:
        return len(base64.b64decode(value + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False

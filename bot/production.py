"""Production mode (contract "Production mode"): what must hold before `serve`, `worker` or `migrate` starts.

A production deployment (settings.production: a non-SQLite DATABASE_URL or BOT_ENV=production) must not
run on the secrets shipped in config.yaml — anyone who read the repository could forge callbacks or sign
in — nor on a Redis that forgets pending ratings and queued pushes when it restarts. The demo console
account, if an earlier demo left it with its published password, is switched off.
"""
from __future__ import annotations

import sys

import redis as redis_lib
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings
from bot.demo import DEMO_CONSOLE
from storage import staff

# The demo secrets of the shipped config.yaml (tests/security/test_production.py proves each is refused).
# Any of them in any slot is a demo value: they are public.
DEMO_VALUES = frozenset({
    "demo-token", "wxdemo0000000000", "demo-secret", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    "wwdemo0000000000", "demo-wecom-secret", "demo-wecom-token", "demo-group-secret",
    "demo-wecom-bot-token", "Wb7Qd2XyR9mK4pL8sT1vN6cF3hJ0gZ5aE2uY7iO9kM3",
    DEMO_CONSOLE[1],
})
NO_PERSISTENCE = ("Redis keeps no data across a restart (appendonly no, no save snapshots): turn on appendonly "
                  "yes or RDB snapshots, or set redis_persistence_check: false")


class UnsafeConfiguration(ConfigError):
    """Production would start with these problems; str() is one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def channel_secrets(settings: Settings) -> list[tuple[str, str]]:
    """(environment name, value) of every secret an enabled channel needs. A channel switched off
    answers 404 (bot/__init__.py), so its secrets do not matter."""
    found = []
    if settings.wechat.enabled:
        w = settings.wechat
        found += [("WECHAT_TOKEN", w.token), ("WECHAT_APP_SECRET", w.app_secret), ("WECHAT_AES_KEY", w.aes_key),
                  ("WECHAT_APP_ID", w.app_id)]
    if settings.wecom.enabled:
        w = settings.wecom
        found += [("WECOM_SECRET", w.secret), ("WECOM_TOKEN", w.token), ("WECOM_AES_KEY", w.aes_key),
                  ("WECOM_CORP_ID", w.corp_id)]
    if settings.group_webhook_enabled:
        found.append(("GROUP_WEBHOOK_SECRET", settings.group_webhook_secret))
    if settings.wecom_bot.enabled:
        found += [("WECOM_BOT_TOKEN", settings.wecom_bot.token), ("WECOM_BOT_AES_KEY", settings.wecom_bot.aes_key)]
    return found


def _secret_key_generated(settings: Settings) -> bool:
    """True when SECRET_KEY came from var/secret_key, the development convenience: in production it
    must be configured, so every app host signs sessions with the same key and it is backed up."""
    generated = settings.var_dir / "secret_key"
    return generated.exists() and generated.read_text().strip() == settings.secret_key


def problems(settings: Settings) -> list[str]:
    """One line per missing or demo secret (SECRET_KEY, then the enabled channels'), in that order."""
    lines = []
    if not settings.secret_key.strip() or _secret_key_generated(settings):
        lines.append("SECRET_KEY is missing")
    elif settings.secret_key in DEMO_VALUES:
        lines.append("SECRET_KEY is the demo value")
    for name, value in channel_secrets(settings):
        value = str(value or "").strip()
        if not value:
            lines.append(f"{name} is missing")
        elif value in DEMO_VALUES:
            lines.append(f"{name} is the demo value")
    return lines


def require_safe_settings(settings: Settings) -> None:
    """In production, refuse missing or demo secrets (before anything is connected)."""
    if settings.production:
        found = problems(settings)
        if found:
            raise UnsafeConfiguration(found)


def redis_problems(settings: Settings, client: redis_lib.Redis) -> list[str]:
    """Pending ratings, conversations and queued pushes live in Redis: it must persist (AOF or RDB)."""
    if not settings.redis_persistence_check:
        return []
    try:
        appendonly = client.config_get("appendonly").get("appendonly", "")
        save = client.config_get("save").get("save", "")
    except redis_lib.ResponseError:   # a managed Redis may rename or forbid CONFIG
        warn("Redis refused CONFIG GET (a managed Redis?): make sure it keeps its data across a restart "
             "(appendonly yes or RDB snapshots)")
        return []
    except redis_lib.RedisError as exc:   # down at start: /healthz reports it; nothing to check against
        warn(f"could not reach Redis to check that it keeps its data across a restart: {exc}")
        return []
    if str(appendonly).lower() == "yes" or str(save).strip():
        return []
    return [NO_PERSISTENCE]


def disable_demo_console(db) -> bool:
    """Switch off the demo console account if it still has the published demo password."""
    username, password = DEMO_CONSOLE
    try:
        with db.session() as session:
            account = staff.check_password(session, username, password)
            if account is None:
                return False
            staff.update(account, account.role, account.department, active=False)
            staff.audit(session, "system", "staff.disable_demo", username, "production start")
    except SQLAlchemyError as exc:   # not migrated yet, or the database is down: nothing to disable now
        warn(f"could not check for the demo console account: {exc.__class__.__name__}")
        return False
    warn(f"演示管理员账号 {username} 仍用演示密码，生产环境下已停用 "
         "(demo console account disabled; add real ones with `python -m bot staff add`)")
    return True


def prepare(services) -> None:
    """At the start of a production server or worker, once its clients exist: refuse a forgetful
    Redis, then disable the demo console account. Outside production, nothing."""
    settings = services.settings
    if not settings.production:
        return
    require_safe_settings(settings)
    found = redis_problems(settings, services.redis)
    if found:
        raise UnsafeConfiguration(found)
    disable_demo_console(services.db)


def warn(message: str) -> None:
    """Start-up warnings go to stderr, beside the refusals (journald keeps both)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def report(exc: ConfigError) -> int:
    """The refusal on stderr, one `configuration error:` line per problem; the exit status."""
    for line in str(exc).splitlines():
        print(f"configuration error: {line}", file=sys.stderr, flush=True)
    return 2

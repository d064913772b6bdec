"""The process's shared clients, built once from settings and passed down (never at import)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import redis as redis_lib
from rq import Queue

from bot.config import Settings
from storage.db import Database
from storage.redis import connect


@dataclass
class Services:
    settings: Settings
    db: Database
    redis: redis_lib.Redis
    queue: Queue
    complaint_rules: object = None


_current: Services | None = None


def build(settings: Settings) -> Services:
    """Bind the database and Redis; warm nlp with the roster so the first message is fast."""
    global _current
    os.environ.setdefault("BOT_VAR_DIR", str(settings.var_dir))
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    db = Database().bind(settings.database_url)
    client = connect(settings.redis_url, settings.var_dir)
    queue = Queue("bot", connection=client, is_async=not settings.jobs_inline)
    from bot import complaint_rules
    _current = Services(settings, db, client, queue, complaint_rules.load(settings))
    return _current


def current() -> Services:
    """The services of this process (RQ jobs run where the worker built them)."""
    if _current is None:
        raise RuntimeError("services not built: call bot.services.build(settings) first")
    return _current


def warm_nlp(services: Services) -> None:
    """Load jieba and the intent model once, and teach it the enterprise names."""
    import nlp
    from nlp.intents import load_model
    from storage import enterprises
    load_model()
    try:
        with services.db.session() as session:
            nlp.set_roster(enterprises.names(session))
    except Exception:  # database not migrated yet: the roster arrives with the first import
        pass

"""The process's shared clients, built once from settings and passed down (never at import)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import redis as redis_lib
from rq import Queue

import nlp
from bot.complaints import rules as complaint_rules
from bot.config import Settings
from storage import deferred_jobs, enterprises
from storage.db import Database
from storage.redis import UNREACHABLE, LenientRedis, connect

if TYPE_CHECKING:   # only for the annotation: the chat core sits above this module
    from bot.chat.pipeline import Dispatcher

log = logging.getLogger(__name__)


class DurableQueue(Queue):
    """RQ's queue, except that a job it cannot take because Redis is unreachable is kept in the
    database (deferred_jobs); the worker enqueues it once Redis is back (bot.push.jobs.enqueue_deferred)."""

    fallback_db: Database | None = None

    def enqueue_call(self, func, args=None, kwargs=None, **options):
        try:
            return super().enqueue_call(func, args=args, kwargs=kwargs, **options)
        except UNREACHABLE:
            if self.fallback_db is None:
                raise
            self.keep(func, args or (), kwargs or {}, options.get("job_id"))
            return None

    def keep(self, func, args, kwargs: dict, job_id: str | None) -> None:
        name = func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"
        with self.fallback_db.session() as session:
            deferred_jobs.keep(session, name, list(args), kwargs, job_id)
        log.warning("redis unreachable: job %s kept in the database until the worker can enqueue it", name)

    def enqueue_kept(self, func: str, args: list, kwargs: dict, job_id: str | None):
        """Enqueue a kept job; raises if Redis is still unreachable (the job stays kept)."""
        return super().enqueue_call(func, args=args, kwargs=kwargs, job_id=job_id)


@dataclass
class Services:
    settings: Settings
    db: Database
    redis: redis_lib.Redis
    queue: Queue
    complaint_rules: complaint_rules.ComplaintRules | None = None
    dispatcher: Dispatcher | None = None   # given by the composition root to processes that chat (bot/__init__.py)

    def for_messages(self) -> Services:
        """These services as message handlers see them: Redis-only extras (conversations, remembered
        answers, index versions, "更多") find nothing and are skipped while Redis is unreachable,
        so the message itself is still handled."""
        view = self.__dict__.get("_for_messages")
        if view is None:
            view = replace(self, redis=LenientRedis(self.redis))
            self.__dict__["_for_messages"] = view.__dict__["_for_messages"] = view
        return view


_current: Services | None = None


def build(settings: Settings, dispatcher: Dispatcher | None = None) -> Services:
    """Bind the database and Redis (warm_nlp teaches nlp the roster so the first message is fast)."""
    global _current
    os.environ.setdefault("BOT_VAR_DIR", str(settings.var_dir))
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    db = Database().bind(settings.database_url)
    client = connect(settings.redis_url, settings.var_dir)
    queue = DurableQueue("bot", connection=client, is_async=not settings.jobs_inline)
    queue.fallback_db = db
    _current = Services(settings, db, client, queue, complaint_rules.load(settings), dispatcher)
    return _current


def current() -> Services:
    """The services of this process (RQ jobs run where the worker built them)."""
    if _current is None:
        raise RuntimeError("services not built: call bot.services.build(settings) first")
    return _current


def warm_nlp(services: Services) -> None:
    """Load jieba and the intent model once, and teach it the enterprise names."""
    nlp.warm(services.complaint_rules.assignments if services.complaint_rules else ())
    try:
        with services.db.session() as session:
            nlp.set_roster(enterprises.names(session))
    except Exception:  # database not migrated yet: the roster arrives with the first import
        pass

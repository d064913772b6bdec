"""Background jobs. Each takes ids, loads what it needs, and records the outcome."""
from __future__ import annotations

import logging
from datetime import timedelta

import requests
from wechatpy.exceptions import WeChatClientException

from bot.push import outbound
from bot.push.scheduler import Periodic
from bot.services import current
from storage import deferred_jobs, users
from storage import outbound as pushes
from storage.db import after_commit

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def queue_push(services, session, channel: str, user_id: str, text: str, to_group: bool = False, **body) -> int:
    """Record a push to a user (or WeCom group chat); the worker sends it once this session commits."""
    user = None if to_group else users.find(session, channel, user_id)
    kind = outbound.choose_kind(channel, user, to_group)
    row = pushes.create(session, channel, user_id, kind, dict(body, text=text))
    push_id = row.id
    after_commit(session, lambda: services.queue.enqueue(send_push, push_id, job_id=f"push-{push_id}"))
    return push_id


def enqueue_deferred(services) -> int:
    """Jobs kept in the database while Redis was unreachable go onto the queue now that it is back
    (this runs in the worker, which needs Redis). Each leaves the table as it is enqueued."""
    moved = 0
    with services.db.session() as session:
        for row in deferred_jobs.oldest(session):
            services.queue.enqueue_kept(row.func, row.args, row.kwargs, row.job_id)
            deferred_jobs.remove(session, row)
            session.commit()
            moved += 1
    if moved:
        log.info("%d kept job(s) enqueued", moved)
    return moved


def send_push(push_id: int) -> str:
    """Send one recorded push; transient errors retry with back-off, permanent ones are recorded."""
    services = current()
    with services.db.session() as session:
        row = pushes.get(session, push_id)
        if row is None or row.status == "sent":
            return "skipped"
        try:
            outbound.send(services, row.kind, row.to, row.body)
        except (WeChatClientException, requests.RequestException) as exc:
            return _failed(services, row, exc)
        pushes.mark(row, "sent")
        return "sent"


def _failed(services, row, exc) -> str:
    error = f"{getattr(exc, 'errcode', '')} {getattr(exc, 'errmsg', '') or exc}".strip()
    if outbound.is_permanent(exc) or row.attempts + 1 >= MAX_ATTEMPTS:
        pushes.mark(row, "failed", error)
        log.warning("push %s to %s failed for good: %s", row.id, row.channel, error)
        return "failed"
    pushes.mark(row, "retrying", error)
    delay = 2 ** row.attempts
    services.queue.enqueue_in(timedelta(seconds=delay), send_push, row.id)
    return "retrying"


def notify_staff(text: str) -> int:
    """Tell the duty staff (WeCom app message) that a user needs them."""
    return notify_wecom(list(current().settings.wecom.duty_staff), text)


def notify_wecom(user_ids: list[str], text: str) -> int:
    """One WeCom app message to these staff members; recorded like every push. Returns 1 if sent."""
    services = current()
    to = "|".join(u for u in user_ids if u)
    if not to:
        return 0
    with services.db.session() as session:
        push_id = pushes.create(session, "wecom", to, "wecom", {"text": text}).id
    return 1 if send_push(push_id) == "sent" else 0


# The worker runs these (bot/worker.py lists every feature's).
PERIODIC = [
    Periodic("deferred_jobs", 60, enqueue_deferred),
]

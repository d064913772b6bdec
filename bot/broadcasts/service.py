"""Policy broadcasts: resolve the target, record one delivery per recipient, and fan out in the
worker — leased batches, concurrent sends, rate limits, back-off, nothing lost to a crash.

Crash bound: a worker killed mid-batch leaves its claimed deliveries in `sending`; once their lease
(`broadcasts.lease_s`) expires another worker sends them again. So at most `batch_size` deliveries
per killed worker can be sent twice — only those whose API call had already gone out (WeCom app
messages also carry WeCom's enable_duplicate_check, which drops such repeats on WeCom's side).
"""
from __future__ import annotations

import re
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from wechatpy.exceptions import WeChatClientException

from bot import clock
from bot.errors import DomainError
from bot.meetings.texts import WEEKDAYS
from bot.push import group_texts, outbound
from bot.push.scheduler import Periodic
from bot.services import current
from storage import broadcasts as store
from storage import enterprises as enterprise_store
from storage import groups as group_store
from storage import meetings as meeting_store
from storage import policies as audience
from storage import staff as staff_store
from storage.db import after_commit
from storage.models import utcnow

TARGET_KINDS = ("all", "topic", "tag", "group")
# The topics owners subscribe to in chat ("订阅科技政策"; nlp/data/slots.yaml policy_topics) and 其他.
TOPICS = ("科技", "税收", "人才", "用工", "融资", "产业", "其他")
# A WeCom app chat's id (appchat/create: ASCII letters and digits; - and _ allowed); any other unregistered group name
# (a Chinese name, say) is unknown.
APP_CHAT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


class TargetError(DomainError):
    """A target that is not all, topic:NAME, tag:NAME, group:NAME or group:ID."""


class LinkError(DomainError):
    """A broadcast link that is not an http(s) address with a host (javascript:, data:, …)."""


LINK_ERROR = "链接只能是 http:// 或 https:// 开头的网址"
MAX_LINK = 500            # the column's size


def web_link(url: str | None) -> str:
    """The link if it is an http(s) URL with a host, else "": what may become an href or a message's
    link, whatever was stored before links were checked."""
    url = (url or "").strip()
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in url):
        return ""             # browsers drop tabs and newlines: "java\tscript:" is javascript:
    try:
        parts = urlsplit(url)
    except ValueError:        # "http://[::1" and the like
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else ""


def check_link(url: str | None) -> str:
    """An optional link as typed by staff: empty, or an http(s) URL; anything else is refused."""
    url = (url or "").strip()
    if url and not web_link(url):
        raise LinkError(LINK_ERROR)
    if len(url) > MAX_LINK:
        raise LinkError(f"链接太长（最多 {MAX_LINK} 个字符）")
    return url


def parse_target(target: str) -> tuple[str, str]:
    kind, _, name = target.strip().partition(":")
    if kind not in TARGET_KINDS or (kind != "all" and not name.strip()) or (kind == "all" and name):
        raise TargetError(f"发送对象应为 all、topic:主题、tag:标签、group:群名 或 group:群ID，不是“{target}”")
    return kind, name.strip()


def known_topics(session) -> list[str]:
    """The topics a broadcast may name: those owners subscribe to in chat and those the policy base uses."""
    found = {t for p in audience.all_policies(session) for t in (p.topics or [])}
    return list(TOPICS) + sorted(found - set(TOPICS))


def known_tags(session) -> list[str]:
    """The enterprise tags a broadcast may name (the roster's tags; an industry's name also matches)."""
    return sorted({t for e in enterprise_store.all_enterprises(session) for t in (e.tags or [])})


def _known_tag(session, tag: str) -> bool:
    return any(tag in (e.tags or []) or tag in (e.industry or "") for e in enterprise_store.all_enterprises(session))


def check_target(session, target: str) -> tuple[str, str]:
    """A target that names something that exists; an unknown topic, tag or group is refused by name."""
    kind, name = parse_target(target)
    if kind == "topic" and name not in known_topics(session):
        raise TargetError(f"没有“{name}”这个政策主题，可选：{'、'.join(known_topics(session))}")
    if kind == "tag" and not _known_tag(session, name):
        tags = known_tags(session)
        raise TargetError(f"企业名录中没有标签“{name}”"
                          + (f"，可选：{'、'.join(tags)}" if tags else "（请先在企业名录中设置标签）"))
    if kind == "group" and group_store.by_name(session, name) is None and not APP_CHAT_ID.fullmatch(name):
        groups = [g.name for g in group_store.listing(session)]
        raise TargetError(f"没有登记名为“{name}”的企业微信群" + (f"，已登记：{'、'.join(groups)}" if groups else
                                                              "（请先用 python -m bot groups add 或在“企业微信群”页登记）"))
    return kind, name


def recipients(session, target: str) -> list[tuple[str, str, str]]:
    """(channel, recipient, kind) for everybody the target reaches, honouring every unsubscribe; an unknown
    topic, tag or group is a TargetError naming the ones there are."""
    kind, name = check_target(session, target)
    if kind == "group":   # a registered group through its robot's webhook; any other id is a WeCom app chat
        registered = group_store.by_name(session, name)
        return [("wecom", registered.name, "webhook")] if registered else [("wecom", name, "appchat")]
    users = {"all": audience.users_all, "topic": audience.users_of_topic, "tag": audience.users_of_tag}[kind](
        session, *([name] if name else []))
    return [(u.channel, u.user_id, outbound.choose_kind(u.channel, u)) for u in users]


def create(services, session, title: str, body: str, target: str, url: str = "", created_by: str = "staff"):
    """Record the broadcast and its deliveries; the worker starts once this commits. Whoever sent it (a console
    login, cli:<os user>, a staff member's chat id) is written to the audit log; the system's reminders are not."""
    url = check_link(url)
    found = recipients(session, target)
    broadcast = store.create(session, title, body, url, target, created_by, found)
    if created_by != "system":
        staff_store.audit(session, created_by, "broadcast.send", str(broadcast.id), f"{target}（{len(found)} 位接收人）")
    broadcast_id, workers = broadcast.id, max(1, min(4, len(found) // 500 + 1))
    after_commit(session, lambda: [services.queue.enqueue(deliver, broadcast_id) for _ in range(workers)])
    return broadcast


def status(session, broadcast_id: int) -> dict:
    counts = store.counts(session, broadcast_id)
    total = sum(counts.values())
    return {"id": broadcast_id, "total": total, "sent": counts.get("sent", 0), "failed": counts.get("failed", 0),
            "pending": counts.get("pending", 0) + counts.get("sending", 0)}


class RateLimiter:
    """Fixed windows in Redis, shared by every worker: wait for a free slot."""

    def __init__(self, redis, limits: dict):
        self.redis, self.limits = redis, limits

    def _take(self, key: str, limit: int, window_s: int) -> float:
        """0 when a slot was taken, else seconds to wait for the next window."""
        now = time.time()
        window = int(now // window_s)
        name = f"rl:{key}:{window}"
        count = self.redis.incr(name)
        if count == 1:
            self.redis.expire(name, window_s + 1)
        return 0.0 if count <= limit else (window + 1) * window_s - now

    def wait(self, channel: str) -> None:
        limit = int(self.limits.get(f"{channel}_per_second") or 0)
        while limit:
            delay = self._take(channel, limit, 1)
            if not delay:
                return
            time.sleep(delay)

    def member_delay(self, member: str) -> float:
        """WeCom's per-member limits: how long this member's next message must wait (0: go)."""
        for window_s, key in ((60, "wecom_member_per_minute"), (3600, "wecom_member_per_hour")):
            limit = int(self.limits.get(key) or 0)
            if limit:
                delay = self._take(f"member:{member}:{window_s}", limit, window_s)
                if delay:
                    return delay
        return 0.0

    def robot_delay(self, group: str) -> float:
        """A group robot takes about 20 messages a minute (each registered group has its own robot)."""
        limit = int(self.limits.get("wecom_group_per_minute") or 0)
        return self._take(f"robot:{group}:60", limit, 60) if limit else 0.0


def _message(broadcast) -> str:
    link = web_link(broadcast.url)
    return f"【{broadcast.title}】\n{broadcast.body}" + (f"\n详情：{link}" if link else "")


def _send_one(services, limiter, text: str, title: str, url: str, row) -> tuple[int, str, str, float]:
    """(delivery id, outcome: sent | retry | failed | later, error, delay)."""
    delivery_id, channel, recipient, kind, attempts = row
    if kind in ("wecom", "webhook"):
        delay = limiter.member_delay(recipient) if kind == "wecom" else limiter.robot_delay(recipient)
        if delay:
            return delivery_id, "later", "rate limited", delay
    if kind != "webhook":     # a group robot has only its own limit
        limiter.wait("wecom" if kind in ("wecom", "appchat") else "wechat")
    try:
        outbound.send(services, kind, recipient, {"text": text, "title": title, "url": url or None},
                      dedupe=True)
    except (WeChatClientException, requests.RequestException) as exc:
        error = f"{getattr(exc, 'errcode', '') or type(exc).__name__} {getattr(exc, 'errmsg', '') or ''}".strip()
        return delivery_id, "failed" if outbound.is_permanent(exc) else "retry", error, 0.0
    return delivery_id, "sent", "", 0.0


def deliver(broadcast_id: int) -> dict:
    """Worker job: claim batches until none is due; back-offs come back as a scheduled job."""
    services = current()
    config = services.settings.broadcasts
    limiter = RateLimiter(services.redis, config.rate_limits)
    done = {"sent": 0, "failed": 0, "retry": 0}
    with services.db.session() as session:
        broadcast = store.get(session, broadcast_id)
        text, title, url = _message(broadcast), broadcast.title, web_link(broadcast.url)
    with ThreadPoolExecutor(max_workers=config.send_threads) as pool:
        while True:
            now = utcnow()
            with services.db.session() as session:
                store.reclaim_expired(session, broadcast_id, now - timedelta(seconds=config.lease_s))
                batch = store.claim(session, broadcast_id, config.batch_size, now)
            if not batch:
                break
            results = list(pool.map(lambda row: _send_one(services, limiter, text, title, url, row), batch))
            _record(services, config, batch, results, done)
    _schedule_backoffs(services, broadcast_id)
    return done


def _record(services, config, batch, results, done) -> None:
    attempts = {row[0]: row[4] for row in batch}
    now = utcnow()
    with services.db.session() as session:
        store.mark_sent(session, [d for d, outcome, _, _ in results if outcome == "sent"], now)
        for delivery_id, outcome, error, delay in results:
            if outcome == "failed" or (outcome == "retry" and attempts[delivery_id] >= config.max_attempts):
                store.mark_failed(session, delivery_id, error)
                done["failed"] += 1
            elif outcome in ("retry", "later"):
                wait = delay or config.backoff_s[min(attempts[delivery_id], len(config.backoff_s)) - 1]
                store.mark_retry(session, delivery_id, error, now + timedelta(seconds=wait), refund=outcome == "later")
                done["retry"] += 1
            else:
                done["sent"] += 1


def _schedule_backoffs(services, broadcast_id: int) -> None:
    with services.db.session() as session:
        due = store.next_due(session, broadcast_id)
    if due is not None:
        services.queue.enqueue_in(max(due - utcnow(), timedelta(seconds=1)), deliver, broadcast_id)


def resume_stalled(services) -> list[int]:
    """Broadcasts with due or abandoned deliveries get a worker again (after a crash or restart).

    Running deliver twice is harmless: claims are atomic, so the extra job finds nothing to do.
    """
    config = services.settings.broadcasts
    with services.db.session() as session:
        stalled = store.stalled(session, utcnow(), utcnow() - timedelta(seconds=config.lease_s))
    for broadcast_id in stalled:
        services.queue.enqueue(deliver, broadcast_id)
    return stalled


def remind_groups(services, now=None) -> int:
    """Registered groups that take reminders hear of each breakfast meeting once it is within the lead
    time (meetings.reminder_lead_hours): a one-recipient broadcast each, so the robot's rate limit,
    retries and crash safety apply. The claim row makes it once per meeting and group."""
    now = now or clock.now()   # meeting times are park-local
    lead = timedelta(hours=services.settings.meetings.reminder_lead_hours)
    posted = 0
    with services.db.session() as session:
        targets = group_store.with_reminders(session)
        meetings = [m for m in meeting_store.upcoming(session, now, ("open", "closed")) if m.starts_at <= now + lead]
        for meeting in meetings if targets else []:
            for group in targets:
                claim = group_store.claim_reminder(session, meeting.id, group.id)
                if claim is not None:
                    claim.broadcast_id = create(services, session, group_texts.MEETING_REMINDER_TITLE,
                                                _meeting_reminder(meeting), f"group:{group.name}",
                                                created_by="system").id
                    posted += 1
    return posted


def _meeting_reminder(meeting) -> str:
    left = max(meeting.capacity - meeting.seats_taken, 0)
    seats = group_texts.MEETING_SEATS_LEFT.format(left=left) if left else group_texts.MEETING_FULL
    starts = meeting.starts_at
    return group_texts.MEETING_REMINDER.format(
        title=meeting.title, theme=f"（{meeting.theme}）" if meeting.theme else "", venue=meeting.venue, seats=seats,
        when=f"{starts:%m月%d日}（周{WEEKDAYS[starts.weekday()]}）{starts:%H:%M}")


# The worker runs these (bot/worker.py lists every feature's).
PERIODIC = [
    Periodic("broadcast_resume", 60, resume_stalled),
    Periodic("group_meeting_reminders", 300, remind_groups),
]

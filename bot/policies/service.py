"""The policy base: import, a search index kept in step with the database, eligibility matching,
and the answers the chat gives. Used by the chat handlers and the CLI."""
from __future__ import annotations

import csv
import io
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

from bot import clock
from bot.errors import DomainError
from bot.policies import texts
from nlp.search import PolicyIndex
from storage import policies as store

VERSION_KEY = "policies:version"
MIN_SCORE = 1.5            # below this BM25 score a hit is not an answer
DATE_FIELDS = ("deadline", "valid_from", "valid_to")
# Longest text each field may hold (the column's width where it has one); anything longer is refused
# before saving rather than stored as megabytes or failing in the database.
FIELD_LIMITS = {"title": 200, "doc_no": 100, "issuer": 100, "level": 8, "category": 32, "amount": 200,
                "payout_mode": 8, "contact": 200, "source_url": 500, "body": 20000}
TEXT_LIMIT = 5000           # any other text field (summary, eligibility, materials, …)
MAX_TOPICS = 20


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load without anchors and aliases: a few hundred bytes of nested aliases expand a million
    times (the "billion laughs"); a policy file never needs them."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            raise PolicyFileError("文件中不允许使用 YAML 锚点/别名")
        return super().compose_node(parent, index)


class PolicyFileError(DomainError):
    """A policy file that cannot be imported; says which record and why."""


def read_file(path: Path) -> list[dict]:
    """YAML (a list of records) or CSV (one record a row; topics separated by , or ;)."""
    return parse_text(path.name, path.read_text(encoding="utf-8-sig"))


def parse_text(name: str, text: str) -> list[dict]:
    """The records of a policy file's text; the name's suffix tells CSV from YAML."""
    if name.lower().endswith(".csv"):
        records = list(csv.DictReader(io.StringIO(text)))
        for record in records:
            record["topics"] = [t.strip() for t in (record.get("topics") or "").replace(";", ",").replace("，", ",")
                                .split(",") if t.strip()]
        return records
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)   # a SafeLoader subclass: safe as safe_load
    except PolicyFileError as exc:
        raise PolicyFileError(f"{name}: {exc}") from None
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"{name}：不是有效的 YAML（{str(exc).splitlines()[0]}）") from None
    if not isinstance(data, list):
        raise PolicyFileError(f"{name}：应为政策记录的列表")
    return data


def _clean(record: dict, n: int) -> dict:
    if not isinstance(record, dict) or not str(record.get("title") or "").strip():
        raise PolicyFileError(f"第 {n} 条：政策要有标题")
    out = {k: v for k, v in record.items() if v not in (None, "")}
    out["title"] = str(out["title"]).strip()
    for name in DATE_FIELDS:
        if name in out and not isinstance(out[name], date):
            try:
                out[name] = date.fromisoformat(str(out[name]))
            except ValueError:
                raise PolicyFileError(f"第 {n} 条（{out['title']}）：{name} 应为日期，如 2026-03-15") from None
    out["topics"] = list(out.get("topics") or [])
    _check_lengths(out, n)
    out["extra"] = {k: v for k, v in out.items() if k not in store.FIELDS and k != "title"}
    return out


def _check_lengths(record: dict, n: int) -> None:
    title = record["title"][:40]
    if len(record["topics"]) > MAX_TOPICS:
        raise PolicyFileError(f"第 {n} 条（{title}）：主题最多 {MAX_TOPICS} 个")
    for name, value in record.items():
        limit = FIELD_LIMITS.get(name, TEXT_LIMIT)
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(len(str(v)) > limit for v in values):
            raise PolicyFileError(f"第 {n} 条（{title}）：{name} 太长（最多 {limit} 个字）")


def import_records(services, session, records: list[dict], demo: bool = False, progress=None) -> dict:
    counts = {"created": 0, "updated": 0}
    cleaned = [_clean(r, n) for n, r in enumerate(records, 1)]   # all or nothing: check first
    for n, record in enumerate(cleaned, 1):
        title = record.pop("title")
        _, created = store.upsert(session, title, demo=demo or bool(record.pop("demo", False)), **record)
        counts["created" if created else "updated"] += 1
        if progress:
            progress(n, len(cleaned))
    changed(services)
    return counts


def changed(services) -> None:
    """Every process rebuilds its index on its next question (called after any change to the base)."""
    services.redis.set(VERSION_KEY, uuid.uuid4().hex)


def save(services, session, policy, record: dict):
    """Create (policy None) or edit one policy from a form's fields, checked as an import would be."""
    cleaned = _clean(record, 1)
    title = cleaned.pop("title")
    cleaned.pop("extra", None)
    for name in set(record) - {"title"}:   # a field emptied in the form is emptied in the base
        cleaned.setdefault(name, None if name in DATE_FIELDS else "")
    if policy is None:
        if store.by_title(session, title) is not None:
            raise PolicyFileError(f"已有同名政策「{title}」")
        policy, _ = store.upsert(session, title, **cleaned)
    else:
        try:
            store.update(session, policy, title, **cleaned)
        except ValueError:
            raise PolicyFileError(f"已有同名政策「{title}」") from None
    changed(services)
    return policy


def expire(services, session, policy, today: date | None = None) -> None:
    """No longer offered: valid until yesterday, so it leaves answers and suggestions at once."""
    policy.valid_to = (today or clock.today()) - timedelta(days=1)
    changed(services)


def seed_demo(services, session) -> dict:
    return import_records(services, session, read_file(Path(__file__).parent / "data/demo_policies.yaml"), demo=True)


@dataclass
class _Cached:
    version: bytes | None = None
    day: date | None = None
    index: PolicyIndex | None = None


_cache = _Cached()
_lock = threading.Lock()


def index(services, session, today: date | None = None) -> PolicyIndex:
    """The search index of current policies, rebuilt when the policy base or the day changes."""
    today = today or clock.today()
    version = services.redis.get(VERSION_KEY)
    if version is None:   # Redis lost the key (restart, flush): nobody can vouch for any cached index
        services.redis.set(VERSION_KEY, uuid.uuid4().hex, nx=True)
        version = services.redis.get(VERSION_KEY)
    with _lock:
        if _cache.index is None or _cache.version != version or _cache.day != today:
            docs = [{"id": p.id, "title": p.title, "summary": p.summary,
                     "body": " ".join((p.eligibility, p.beneficiaries, p.amount, p.how_to_apply, p.category,
                                       " ".join(p.topics or []), p.body))}
                    for p in store.current(session, today)]
            _cache.version, _cache.day, _cache.index = version, today, PolicyIndex(docs)
        return _cache.index


def search(services, session, query: str, limit: int = 3) -> list:
    hits = index(services, session).search(query, limit=limit, min_score=MIN_SCORE)
    found = [(store.get(session, hit.doc_id), hit.score) for hit in hits]
    return [(policy, score) for policy, score in found if policy is not None]


def _short(text: str, limit: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def answer_hits(policies) -> str:
    lines = [texts.HITS_HEAD]
    for n, policy in enumerate(policies, 1):
        lines.append(texts.HIT.format(n=n, title=policy.title, summary=_short(policy.summary, 70),
                                      amount=_short(policy.amount or "见政策原文", 40),
                                      deadline=policy.deadline.isoformat() if policy.deadline else "常年",
                                      how=_short(policy.how_to_apply, 50), contact=policy.contact or "园区企业服务中心"))
    return "\n".join(lines + [texts.HITS_TAIL])


def detail(policy) -> str:
    return texts.DETAIL.format(title=policy.title, doc_no=f"{policy.doc_no}　" if policy.doc_no else "",
                               issuer=policy.issuer or "—", level=policy.level, summary=policy.summary,
                               eligibility=policy.eligibility or "—", amount=policy.amount or "—",
                               payout_mode=policy.payout_mode, materials=policy.materials or "—",
                               how=policy.how_to_apply or "—",
                               deadline=policy.deadline.isoformat() if policy.deadline else "常年",
                               contact=policy.contact or "园区企业服务中心")


def payout(policy) -> str:
    return texts.PAYOUT.format(title=policy.title, payout_mode=policy.payout_mode,
                               explain=texts.PAYOUT_MODES.get(policy.payout_mode, ""), issuer=policy.issuer or "主管部门",
                               contact=policy.contact or "园区企业服务中心")


def profile_words(enterprise) -> list[str]:
    """What the rules look at: industry, tags, and size (小微 from tags or profile)."""
    words = [enterprise.industry or ""] + list(enterprise.tags or [])
    size = (enterprise.profile or {}).get("size", "")
    if size:
        words.append(size)
    if any("小微" in w for w in words):
        words.append("小微")
    return [w for w in words if w]


def fits(policy, enterprise) -> str | None:
    """Why this policy likely suits the enterprise, or None. Rules: industries_any, exclude_industries,
    statuses_any (tags such as 高新技术企业), sizes (小微 …)."""
    rules = policy.rules or {}
    words = profile_words(enterprise)
    text = " ".join(words)
    if any(bad in (enterprise.industry or "") for bad in rules.get("exclude_industries", [])):
        return None
    reasons = []
    for key, label in (("industries_any", "行业"), ("statuses_any", "资质"), ("sizes", "规模")):
        wanted = rules.get(key)
        if wanted:
            matched = [w for w in wanted if w in text]
            if not matched:
                return None
            reasons.append(f"{label}符合（{'、'.join(matched)}）")
    return "；".join(reasons) if reasons else None


def suitable(session, enterprise, today: date | None = None) -> list[tuple]:
    return [(p, why) for p in store.current(session, today or clock.today()) if (why := fits(p, enterprise))]


LAST_ANSWER_TTL_S = 1800


def _last_key(msg) -> str:
    return f"policy:last:{msg.channel}:{msg.chat_id or '-'}:{msg.user_id}"


def remember_answer(services, msg, ids: list[int], question: str) -> None:
    """What the user was last shown, so "第2条", "转咨询" and "催办" know what they refer to."""
    services.redis.set(_last_key(msg), json.dumps({"ids": ids, "question": question}, ensure_ascii=False),
                       ex=LAST_ANSWER_TTL_S)


def last_answer(services, msg) -> dict:
    raw = services.redis.get(_last_key(msg))
    return json.loads(raw) if raw else {}

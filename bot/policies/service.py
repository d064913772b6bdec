"""The policy base: import, a search index kept in step with the database, eligibility matching,
and the answers the chat gives. Used by the chat handlers and the CLI."""
from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from time import monotonic
from types import MappingProxyType

import redis as redis_lib
import yaml

from bot import clock
from bot.errors import DomainError
from bot.policies import texts
from nlp.normalize import normalize
from nlp.search import STOPWORDS, PolicyIndex, synonyms
from nlp.tokenizer import domain_terms, tokenizer
from storage import policies as store
from storage.db import after_commit

log = logging.getLogger(__name__)

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
    changed(services, session)
    return counts


def changed(services, session=None) -> None:
    """Called after any change to the base: this process uses it from its next question, every other one
    within RECHECK_S. With `session`, the version changes again once it commits, so a process that rebuilt
    in between (from the rows as they were before the commit) rebuilds again."""
    _bump(services)
    if session is not None:
        after_commit(session, lambda: _bump(services, committed=True))


def _bump(services, committed: bool = False) -> None:
    try:
        services.redis.set(VERSION_KEY, uuid.uuid4().hex)
        forget(services)   # after the new version is in Redis: a version read begun before it is not trusted
    except redis_lib.RedisError:
        if not committed:
            raise
        # the change is committed and the version was changed before the commit: only a rebuild that raced
        # the commit could stay stale (until the next change); the staff member's save is not undone
        log.warning("policy base changed but its version could not be bumped after the commit", exc_info=True)


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
    changed(services, session)
    return policy


def expire(services, session, policy, today: date | None = None) -> None:
    """No longer offered: valid until yesterday, so it leaves answers and suggestions at once."""
    policy.valid_to = (today or clock.today()) - timedelta(days=1)
    changed(services, session)


def seed_demo(services, session) -> dict:
    return import_records(services, session, read_file(Path(__file__).parent / "data/demo_policies.yaml"), demo=True)


# --- the policy base as this process keeps it between messages ---
#
# Policies change rarely (staff edit, import or expire one) and are read on every policy question, so each
# process keeps the whole base as plain immutable values (storage.policies.PolicyRow), with the normalised
# text each is matched against and the BM25 index of the current ones. A snapshot is keyed by the base's
# version (VERSION_KEY in Redis, a new value on every change: `changed`) and the park's day (deadlines and
# validity end at midnight). Asking Redis for the version costs a round trip, so a process asks at most
# once per RECHECK_S: an edit made in another process is seen by this one within RECHECK_S seconds; the
# process that made it sees it on its next question (`changed` drops its own snapshot at once).

RECHECK_S = 2.0


@dataclass(frozen=True)
class Snapshot:
    """The policy base at one version, on one day; never changed once built (threads share it)."""
    version: bytes | str | None
    day: date
    rows: MappingProxyType          # id → PolicyRow: every policy, expired ones too ("第1条" may name one)
    current: tuple                  # the PolicyRows open on `day`, by id
    texts: MappingProxyType         # id → the normalised text a current policy is matched against
    index: PolicyIndex              # BM25 over the current ones
    names: MappingProxyType         # id → the words of a current policy's title ("留抵退税")


@dataclass
class _Cache:
    snapshot: Snapshot | None = None
    checked: float = float("-inf")  # monotonic time the version was last read from Redis
    changes: int = 0                # changes made in this process (`forget`): a read begun before one is stale
    lock: threading.Lock = field(default_factory=threading.Lock)


# One cache per database (a process has one; each test app binds its own, so tests never see each other's).
_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache_of(services) -> _Cache:
    cache = _caches.get(services.db)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(services.db, _Cache())
    return cache


def _read_version(services):
    version = services.redis.get(VERSION_KEY)
    if version is None:   # Redis lost the key (restart, flush): nobody can vouch for any cached snapshot
        services.redis.set(VERSION_KEY, uuid.uuid4().hex, nx=True)
        version = services.redis.get(VERSION_KEY)
    return version


def _build(services, version, today: date) -> Snapshot:
    # A session of its own: the snapshot is shared by every thread, so it holds only committed rows (never a
    # request's uncommitted or rolled-back edit), read in a transaction begun after the version was read.
    with services.db.session() as session:
        every = store.rows(session)
    current = tuple(p for p in every if p.is_current(today))
    docs = [{"id": p.id, "title": p.title, "summary": p.summary,
             "body": " ".join((p.eligibility, p.beneficiaries, p.amount, p.how_to_apply, p.category,
                               " ".join(p.topics), p.body))}
            for p in current]
    return Snapshot(version=version, day=today, rows=MappingProxyType({p.id: p for p in every}), current=current,
                    texts=MappingProxyType({p.id: policy_text(p) for p in current}), index=PolicyIndex(docs),
                    names=MappingProxyType({p.id: frozenset(_tokens(normalize(p.title).text)) for p in current}))


def snapshot(services, today: date | None = None) -> Snapshot:
    """The policy base as of its version at most RECHECK_S ago (at once after a change in this process)."""
    today = today or clock.today()
    cache = _cache_of(services)
    held = cache.snapshot
    if held is not None and held.day == today and monotonic() - cache.checked < RECHECK_S:
        return held
    with cache.lock:   # one thread asks and rebuilds; the others wait for its snapshot
        held = cache.snapshot
        now = monotonic()
        if held is not None and held.day == today and now - cache.checked < RECHECK_S:
            return held
        changes = cache.changes
        version = _read_version(services)
        if held is None or held.version != version or held.day != today:
            held = cache.snapshot = _build(services, version, today)
        if cache.changes == changes:   # else a change landed meanwhile: ask again next time
            cache.checked = now
        return held


def forget(services) -> None:
    """Ask Redis for the version on this process's next question (after a change made here)."""
    cache = _cache_of(services)
    cache.changes += 1
    cache.checked = float("-inf")


def index(services, session=None, today: date | None = None) -> PolicyIndex:
    """The search index of current policies, rebuilt when the policy base or the day changes."""
    return snapshot(services, today).index


def get(services, session, policy_id: int):
    """One policy (expired ones too) as a PolicyRow, or None: from the snapshot, else from the database
    (one added in another process since this one last looked)."""
    found = snapshot(services).rows.get(policy_id)
    return found if found is not None else store.row(session, policy_id)


def search(services, session, query: str, limit: int = 3) -> list:
    base = snapshot(services)
    hits = base.index.search(query, limit=limit, min_score=MIN_SCORE)
    found = [(base.rows.get(hit.doc_id), hit.score) for hit in hits]
    return [(policy, score) for policy, score in found if policy is not None]


def _short(text: str, limit: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[:limit - 1] + "…"


# Markers for staff, not for owners: a demo record's "（演示）" and the like never reach the chat.
DEMO_MARK = re.compile(r"\s*[（(](演示|演示引用|演示数据|测试|test|demo)[)）]", re.I)
INTERNAL_TAGS = re.compile(r"演示|测试|test|demo", re.I)


def shown(text: str) -> str:
    """A title or field as an owner sees it: without the demo marker."""
    return DEMO_MARK.sub("", text or "")


def answer_hits(policies) -> str:
    lines = [texts.HITS_HEAD]
    for n, policy in enumerate(policies, 1):
        lines.append(texts.HIT.format(n=n, title=shown(policy.title), summary=_short(policy.summary, 70),
                                      amount=_short(policy.amount or "见政策原文", 40),
                                      deadline=policy.deadline.isoformat() if policy.deadline else "常年",
                                      how=_short(policy.how_to_apply, 50), contact=policy.contact or "园区企业服务中心"))
    return "\n".join(lines + [texts.HITS_TAIL])


def detail(policy) -> str:
    return texts.DETAIL.format(title=shown(policy.title), doc_no=f"{shown(policy.doc_no)}　" if policy.doc_no else "",
                               issuer=policy.issuer or "—", level=policy.level, summary=policy.summary,
                               eligibility=policy.eligibility or "—", amount=policy.amount or "—",
                               payout_mode=policy.payout_mode, materials=policy.materials or "—",
                               how=policy.how_to_apply or "—",
                               deadline=policy.deadline.isoformat() if policy.deadline else "常年",
                               contact=policy.contact or "园区企业服务中心")


def payout(policy) -> str:
    return texts.PAYOUT.format(title=shown(policy.title), payout_mode=policy.payout_mode,
                               explain=texts.PAYOUT_MODES.get(policy.payout_mode, ""), issuer=policy.issuer or "主管部门",
                               contact=policy.contact or "园区企业服务中心")


def profile_words(enterprise) -> list[str]:
    """What the rules look at: industry, tags, and size (小微 from tags or profile); each once, and
    without internal tags (演示数据): this is also what the owner is shown."""
    words = [enterprise.industry or ""] + list(enterprise.tags or [])
    size = (enterprise.profile or {}).get("size", "")
    if size:
        words.append(size)
    if any("小微" in w for w in words) and "小微" not in words:
        words.append("小微")
    found: list[str] = []
    for word in words:
        word = str(word).strip()
        if word and not INTERNAL_TAGS.search(word) and word not in found and not any(word in w for w in found):
            found.append(word)
    return found


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


def suitable(session, enterprise, today: date | None = None, services=None) -> list[tuple]:
    """(policy, why) for the current policies that suit the enterprise; with `services`, PolicyRows from this
    process's snapshot, else the database's rows."""
    if services is not None:
        return [(p, why) for p in snapshot(services, today).current if (why := fits(p, enterprise))]
    return [(p, why) for p in store.current(session, today or clock.today()) if (why := fits(p, enterprise))]


LAST_ANSWER_TTL_S = 1800


def last_key(msg) -> str:
    """The Redis key of what this user was last shown (per channel, chat and user). A dispatcher that fetches
    it with the message's claim (a KeyBatch passed as `keys`) makes reading and writing it cost no round trip."""
    return f"policy:last:{msg.channel}:{msg.chat_id or '-'}:{msg.user_id}"


def remember_answer(services, msg, ids: list[int], question: str, kind: str = "answer", ticket: str = "",
                    keys=None) -> None:
    """What the user was last shown, so "第2条", "转咨询" and "催办" know what they refer to. `kind`:
    answer (policies listed), payout (one policy's payout explained: 催办 may follow), chased (催办 filed as
    `ticket`), ask (which policy?), none (nothing fitted). `keys`: the message's KeyBatch, if any (a key it
    did not fetch is written through at once)."""
    store = keys if keys is not None else services.redis
    store.set(last_key(msg), json.dumps({"ids": ids, "question": question, "kind": kind, "ticket": ticket},
                                        ensure_ascii=False), ex=LAST_ANSWER_TTL_S)


def last_answer(services, msg, keys=None) -> dict:
    raw = (keys if keys is not None else services.redis).get(last_key(msg))
    return json.loads(raw) if raw else {}


# --- reading a question: what it is about, and which policies really fit it ---

# Words that say what kind of help or what about it is asked (补贴, 什么时候, 到账, 怎么申请…), not what
# for: a question made only of these names no policy ("补贴什么时候到账"); the other words must be
# found in a policy for it to count as an answer.
GENERIC_WORDS = frozenset("""
补贴 补助 补助款 补贴款 奖补 奖补资金 资金 奖励 奖金 奖励资金 有奖 奖 扶持 扶持资金 支持 优惠 优惠政策 资助 补偿 返还
政策 款 款项 钱
到账 账上 到帐 打款 到位 兑现 发放 拨付 拨款 下来 下发 发下来 进度 催办
什么 什么时候 时候 啥时候 啥 多久 怎么 怎么样 如何 怎样 咋 为什么 为啥 哪些 哪个 哪项 多少 几个 一个
申请 申报 办理 领取 领 享受 符合 条件 材料 资料 证明 流程 手续 需要 准备 可以 能够 能不能 可不可以 是不是 还能
我们 我们公司 我司 本公司 公司 企业 单位 园区 咱们 你们 有没有 没有 有冇 有无 请问 问下 问问 问一下 一下 想问 顺便
就是 那个 这个 这些 那些 这项 那项 上次 之前 以前 去年 今年 明年 前年 现在 目前 最近 最新 新来 还有 还是 还没 没到 已经 一直
情况 一般 通常 大概 知道 了解 相关 方面 有关 关于 针对 以上 以下 具体 详细 介绍 标准 金额 额度 比例 最高
截止 截止时间 时间 部门 电话 联系 找谁 哪里 在哪
谢谢 你好 您好 老师 麻烦 帮忙 帮我 看看 查查 查询 查一下 咨询 不是 投诉 那要 还要 要求 规定 文件 通知 能否 是否 多长时间
那边 这边 好像 似乎 听说 据说 清楚 搞不清楚 不清楚 不知道 十几个 几十个 好几个 人事 财务 老板 领导 同事
人家 别人 别家 隔壁 同行 邻居 收到 拿到 到手 刚刚 刚才 问个 不能 等了 等到 可是 但是 不过 从来 自己 会计 出纳 没收
以后 推送 方面 不要 要不要 需不需要 用不用 需要不需要 之后 大概 几多 最多 大约
政府 负担 蛮重 很重 太重 压力 成本 开销 蛮 挺
几时 我哋 你哋 佢哋 嘅 咗 啲 系 喺 点样 咩 边个 乜嘢 而家 仲 嗰个 呢个 嗰 呢 咁 噉 㗎
hi hello pls please btw ok okay thanks thx fresh new apply subsidy subsidies grant grants policy policies money
""".split())
# The kind of help a question asks for; the words just before it name the thing ("电费补贴": 电费).
BENEFIT_WORDS = frozenset("补贴 补助 补助款 补贴款 奖补 奖补资金 资金 奖励 奖金 奖励资金 扶持 扶持资金 优惠 资助 补偿 返还 "
                          "政策 款".split())
PAYOUT = re.compile(r"到账|到帐|账上|拨付|拨款|兑现|发放|下发|打款|打到|到位|发下来|下来了?没|哪个月|哪个环节|到哪一步|"
                    r"(什么时候|啥时候|何时|多久|多长时间|几时|哪天)(能|才|会|可以|可)?(到|下来|发|拨|批|打|给)|"
                    r"钱.{0,8}(什么时候|啥时候|何时|多久)|还没(到|发|下来|拨|打|给)")
COVERED_SHARE = 0.5        # a policy fits when it covers more than this share of the thing asked about (by idf)…
ALL_COVERED_SHARE = 0.3    # …and at least this share of all the question's words
UNKNOWN_UNCOVERED = 3.0    # the weight of an uncovered word the dictionary lacks (a typo, a glued pair)
NAME_CHARS = 4             # a word this long that a policy's title holds names that policy
NAMED_AT_MOST = 2          # …when it names no more policies than this
NEAR_BEST = 0.35           # fitting hits this far below the best one are not worth listing
PARTICLES = frozenset("的 之 地 得 了 吗 呢 吧 啊 呀".split())
# Single characters that belong to no name: the span of what was asked never grows over them.
FUNCTION_CHARS = frozenset("给把被在有是我你他她它的了吗呢吧啊呀和与或跟对向从到就也都还能要想会可刚先事"
                           "这那哪啥么没不很太又再才让请问搞弄办领拿交报")


@dataclass
class Reading:
    """What a policy question is about and which current policies fit it."""
    text: str
    words: list[str] = field(default_factory=list)    # what it is specifically about, in order
    what: str = ""                                    # those words as the question put them ("电费补贴")
    hits: list = field(default_factory=list)          # (policy, score) that fit, best first
    payout: bool = False                              # asks when money arrives (到账, 兑现, 拨付…)

    @property
    def named(self) -> bool:
        return bool(self.words)

    def clear_best(self, ratio: float = 1.6):
        """The one policy the question is clearly about, or None when two are close."""
        if len(self.hits) == 1 or (len(self.hits) > 1 and self.hits[0][1] >= ratio * self.hits[1][1]):
            return self.hits[0][0]
        return None


def _tokens(text: str) -> list[str]:
    return [t for t in tokenizer().lcut(text) if t.strip() and any(ch.isalnum() for ch in t)]


def _specific(tokens: list[str]) -> list[str]:
    """The words that name something: no generic or stop words, and no chance pairs jieba's HMM glued
    to a function character (能批, 建有, 没到); 光伏 or 能源 stay."""
    known = tokenizer().FREQ
    return [t for t in tokens if len(t) >= 2 and t not in GENERIC_WORDS and t not in STOPWORDS
            and (known.get(t) or not (t[0] in FUNCTION_CHARS or t[-1] in FUNCTION_CHARS
                                      or any(g in t for g in GENERIC_WORDS)))]


def _phrase(tokens: list[str], words: list[str]) -> str:
    """The span of the question from its first to its last specific word, with a benefit word that
    follows ("电费" + "补贴"): how the owner named the thing."""
    if not words:
        return ""
    first = tokens.index(words[0])
    last = max(i for i, t in enumerate(tokens) if t == words[-1])
    while first > 0 and _bare_char(tokens[first - 1]):      # 买|新|能源|车: the whole name, not just 能源
        first -= 1
    while last + 1 < len(tokens) and _bare_char(tokens[last + 1]):
        last += 1
    end = last + 1
    while end < len(tokens) and tokens[end] in PARTICLES:
        end += 1
    if end < len(tokens) and tokens[end] in BENEFIT_WORDS and tokens[end] != "政策":
        last = end
    return "".join(tokens[first:last + 1])


def _bare_char(token: str) -> bool:
    return len(token) == 1 and "\u4e00" <= token <= "\u9fff" and token not in FUNCTION_CHARS


def _thing(tokens: list[str], words: list[str]) -> list[str]:
    """The thing asked about: the run of words just before the first benefit word ("停车场建设有补助":
    停车场 建设; "我们食品厂想搞技术改造，有补贴吗": 技术改造), else every specific word."""
    for i, token in enumerate(tokens):
        if token in BENEFIT_WORDS:
            run, j = [], i - 1
            while j >= 0 and (tokens[j] in words or _bare_char(tokens[j]) or tokens[j] in PARTICLES
                              or tokens[j] in FUNCTION_CHARS and not run):
                if tokens[j] in words:
                    run.insert(0, tokens[j])
                j -= 1
            if run:
                return run
            break
    return words


RARE_WORD = 13.0     # what a word jieba does not know (稳岗, 光伏, or a pair its HMM glued) is worth at most
FOREIGN_WORD = 4.0   # a Latin-letter word in a Chinese question (startup, app): the policy says it in Chinese


def information(word: str) -> float:
    """How much a word says about what is asked, from its frequency in jieba's general dictionary:
    工作 or 建设 little, 宠物 or 电费 much. (The policy base is too small for its own idf to tell.)"""
    if word.isascii():
        return FOREIGN_WORD
    tk = tokenizer()
    return min(math.log(tk.total / ((tk.FREQ.get(word) or 0) + 1)), RARE_WORD)


def policy_text(policy) -> str:
    parts = [policy.title, policy.summary, policy.eligibility, policy.beneficiaries, policy.amount,
             policy.how_to_apply, policy.materials, policy.category, " ".join(policy.topics or []), policy.body]
    return normalize(" ".join(p or "" for p in parts)).text


def covers(text: str, word: str) -> bool:
    """The policy's text says the word: itself, a synonym, or (a long word) most of its character pairs."""
    if word in text or any(s in text for s in synonyms().get(word, ())):
        return True
    if len(word) >= 3:
        pairs = [word[i:i + 2] for i in range(len(word) - 1)]
        return sum(p in text for p in pairs) / len(pairs) >= 0.5
    return False


def read(services, session, text: str, limit: int = 3) -> Reading:
    """Read a policy question: the words that say what it is about, and the policies that cover them.
    A policy that merely shares 补贴 or 申报 with the question does not fit; with nothing specific asked
    there is nothing to fit (the caller asks which policy is meant)."""
    norm = normalize(text).text
    tokens = _tokens(norm)
    words = list(dict.fromkeys(_specific(tokens)))
    reading = Reading(text=norm, words=words, what=_phrase(tokens, words), payout=bool(PAYOUT.search(norm)))
    if not words:
        return reading
    base = snapshot(services)
    weight = {w: information(w) for w in words}
    thing = _thing(tokens, words)
    known = tokenizer().FREQ
    fitting = []
    for hit in base.index.search(norm, limit=10, min_score=MIN_SCORE):
        policy, body = base.rows.get(hit.doc_id), base.texts.get(hit.doc_id)
        if policy is None or body is None:
            continue
        covered = {w for w in words if covers(body, w)}
        # A word jieba's dictionary lacks and the policy does not say is mostly a typo or a chance pair its
        # HMM glued from chatter ("刚评上那个高新" → 刚评): it weighs little against the words that fit.
        missing = sum(weight[w] if w in known else UNKNOWN_UNCOVERED for w in words if w not in covered)
        share = sum(weight[w] for w in covered) / (sum(weight[w] for w in covered) + missing or 1)
        thing_covered = sum(weight[w] for w in thing if w in covered)
        thing_missing = sum(weight[w] if w in known else UNKNOWN_UNCOVERED for w in thing if w not in covered)
        if thing_covered / (thing_covered + thing_missing or 1) > COVERED_SHARE and share >= ALL_COVERED_SHARE:
            fitting.append((policy, hit.score, share))
    if not fitting:
        fitting = _named_policies(base, words)
    if not fitting:
        asked = _asking_clause(norm)
        if asked is not None:   # "设备被雨水泡坏了，资金周转困难，有没有贷款贴息的政策": the situation, then the question
            in_clause = read(services, session, asked, limit)
            if in_clause.hits:
                return in_clause
    if fitting:
        fitting.sort(key=lambda f: (-round(f[2], 2), -f[1]))
        best = fitting[0][1]
        reading.hits = [(p, score) for p, score, _ in fitting if score >= NEAR_BEST * best][:limit]
    return reading


CLAUSE_END = re.compile(r"[,，。.!！?？;；\s]+")
ASKING = re.compile(r"政策|补贴|补助|奖励|奖补|贴息|扶持|优惠|减免|退税|有没有|有冇|有什么|有啥|怎么申请|能不能(申请|享受)")


def _asking_clause(norm: str) -> str | None:
    """The last clause of several that asks about a policy, or None (one clause, or none that asks)."""
    clauses = [c for c in CLAUSE_END.split(norm) if c]
    asking = [c for c in clauses if ASKING.search(c)]
    return asking[-1] if len(clauses) > 1 and asking else None


def _named_policies(base: Snapshot, words: list[str]) -> list:
    """Policies the question names by a word of their title ("别闹了，问个正经的：留抵退税怎么申请", "我们是新创公司，
    想申请创业担保贷款"): a policy's name is decisive however much chatter surrounds it. Only a name-like word —
    four characters or more, or a term of the domain dictionary — and only when it names at most NAMED_AT_MOST."""
    terms = domain_terms()
    named = [w for w in words if (len(w) >= NAME_CHARS or w in terms) and w not in GENERIC_WORDS]
    found = {pid for pid, title in base.names.items() if any(_in_title(w, title) for w in named)}
    if not found or len(found) > NAMED_AT_MOST:
        return []
    return [(base.rows[pid], 1.0, 1.0) for pid in sorted(found) if pid in base.rows]


LONG_NAME_CHARS = 6        # "研发费用加计扣除" names 研发费用税前加计扣除: it is made of the title's own words


def _in_title(word: str, title_words: frozenset) -> bool:
    if word in title_words:
        return True
    if len(word) < LONG_NAME_CHARS:
        return False
    rest = word
    for part in sorted(title_words, key=len, reverse=True):
        if len(part) >= 2:
            rest = rest.replace(part, "")
    return not rest


# The kind of benefit a question names ("补贴最多有几多": a 补贴, not a tax refund), and whether it speaks of
# having applied ("申请之后钱多久到账": not a benefit granted without applying, 免申即享; "需要我们自己申请吗" asks
# whether one must, which fits either).
CLEARLY_BETTER = 1.5   # a listed policy scoring this many times the next one is the one the question meant
BENEFIT_KINDS = ("奖励", "补贴", "补助", "奖补", "返还", "贴息", "减免", "退税", "贷款", "扣除")
APPLIED = re.compile(r"(申报|申请)(了|过|后|之后|以后|完)|报的|报了|递交")


def _kinds(norm: str) -> list[str]:
    return [w for w in BENEFIT_KINDS if w in norm]


def meant_among(services, session, ids: list[int], text: str, question: str = ""):
    """Which of the policies just listed (`ids`, best first) a follow-up about "it" means, or None when it
    cannot tell: the one the follow-up's kind of benefit fits ("补贴最多有几多" after a subsidy and a tax
    refund), the one the question that listed them named by its title ("增值税留抵退税的条件" listed two), else
    the one that is applied for when it speaks of applying."""
    shown = [p for p in (get(services, session, i) for i in ids) if p is not None]
    if len(shown) <= 1:
        return shown[0] if shown else None
    norm = normalize(text).text
    kinds = _kinds(norm)
    if kinds:
        shown = [p for p in shown if any(k in normalize(p.title).text for k in kinds)] or shown
    if len(shown) > 1 and question:
        named = {p.id for p, _, _ in _named_policies(snapshot(services), _specific(_tokens(normalize(question).text)))}
        shown = [p for p in shown if p.id in named] or shown
    if len(shown) > 1 and question:   # "我们今年第一次升规入统，有奖励吗" listed two: 升规 is far the better answer
        scores = {p.id: score for p, score in search(services, session, question, limit=len(ids))}
        ranked = sorted(shown, key=lambda p: -scores.get(p.id, 0.0))
        if scores.get(ranked[0].id, 0.0) >= CLEARLY_BETTER * scores.get(ranked[1].id, 0.0):
            shown = ranked[:1]
    if len(shown) > 1 and APPLIED.search(norm):
        shown = [p for p in shown if p.payout_mode != "免申即享"] or shown
    return shown[0] if len(shown) == 1 else None


def likely(services, session, text: str, enterprise=None, seen: list[int] | None = None, limit: int = 3) -> list:
    """The policies an unnamed question most likely means: those the user was just shown, those that
    suit the enterprise, then those of the kind asked about (奖励 → the 奖励 policies)."""
    found: list = []
    for policy_id in seen or []:
        policy = get(services, session, policy_id)
        if policy is not None:
            found.append(policy)
    if enterprise is not None:
        found += [p for p, _ in suitable(session, enterprise, services=services)]
    found += [p for p, _ in search(services, session, text, limit=limit * 2)]
    norm = normalize(text).text
    applied, kinds = APPLIED.search(norm), _kinds(norm)
    unique = list({p.id: p for p in found}.values())
    unique.sort(key=lambda p: (p.id not in (seen or []),
                               bool(kinds) and not any(k in p.title for k in kinds),   # 奖励 asked: 奖励 first
                               bool(applied) and p.payout_mode == "免申即享"))         # nothing applied for there
    return unique[:limit]

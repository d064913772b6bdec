"""What a complaint is about — its problems, places and category — so that the same matter told again
(worded differently, or by a colleague) joins the open ticket (并单), and a status question by
description ("路灯的事处理得怎么样了") finds the ticket it means.

A telling is read into a Matter: the problems it names (bot/complaints/matters.yaml: strong ones are
specific problems, weak ones objects many problems share), the places (nlp.slots.places: zone, gate,
road, building, floor, estate, facility), the category, and what is left of the words once fillers,
places and punctuation are gone. Two tellings are compared problem by problem and place by place, then
by their remaining words and by the category model's view of them (cosine of its TF-IDF vectors).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from nlp import engine, model, normalize
from nlp.features import features
from nlp.slots import CATEGORY_SURE, complaint_category, places, sure_or_cued

DATA = Path(__file__).resolve().parent / "matters.yaml"
SAME_MATTER = 0.5           # relation() at or above this: one matter (tuned on tests/data/merge_pairs.jsonl)
DESCRIBES = 0.6             # status: a ticket the question names scores at least this
CLEAR_LEAD = 0.35           # …and more than this above the next one, else the user chooses
# Words that say nothing about which matter: request and status talk, pronouns, time, intensity.
FILLER = re.compile(
    r"呢单|嗰单|这单|那单|系边个|边个部门|跟紧|怎么样|咋样|怎样|如何|进展|进度|处理|状态|结果|消息|回复|登记|弄好|修好|搞好|搞定|解决|跟进|到哪|哪一步|"
    r"谁在管|有人|来看|看过|现在|之前|上次|上周|刚才|后来|一下|问问|请问|问下|那个|这个|那件|这件|那边|这边|事情|"
    r"问题|诉求|工单|投诉|反映|情况|我们|你们|他们|公司|园区|厂区|厂里|还是|又|还|都|也|就|了|吗|呢|没有|没|啊|呀|吧|哦|"
    r"的|得|着|过|是|在|有|和|跟|把|被|给|让|要|想|能|会|一直|已经|到底|赶紧|快点|麻烦|帮忙|帮我|请|今天|昨天|"
    r"昨晚|今早|早上|晚上|上午|下午|中午|半夜|凌晨|每天|这几天|这周|上个月|几天|好几天|天天|老是|总是|一直|"
    r"哪些|哪个|哪件|多少|几个|全部|所有|列表|列出|有哪|看看|查查|查一下|查一查|看一下|看一看|帮我查下|帮我看下|查下|看下|查询|帮我查|"
    r"单子|单据|自己|列出来|列一下|一步|哪步|办完|一起|给我|看哈|哈|嘛|"
    r"哪个部门|哪个单位|边个部门|部门|单位|谁负责|负责|谁在办|在办|在跟|跟紧|跟进|呢单|嗰单|这单|那单|"
    r"几时|什么时候|啥时候|多久|能办|办好|"
    r"什么|怎么|为什么|啥|case|status|the|issue|ok|我|你|他|那|这|事|个|搞|弄|得|都|"
    r"tickets?|updates?|progress|news|any|pls|please|thx|thanks|asap|btw|fyi|follow|up", re.I)
_NOT_ALNUM = re.compile(r"[\W_]+")
# "跟3号路不是一回事": the teller says it is another matter.
DISTINCT = re.compile(r"不是一回事|不是同一|不是一条线|另一个|另外一个|另外还有|又一个新|新的问题|别的问题|另一件|另外一件")
# Rooms found in any building: they never contradict the building ("孵化楼" and "办公室").
NESTED_ROOMS = ("办公室", "前台", "大厅", "会议室", "厕所", "卫生间", "机房", "展厅")
CATEGORY_WORDS = {"供电": "供电|电力|用电", "供水": "供水|用水|水务", "燃气": "燃气|天然气", "道路交通": "道路|交通",
                  "环境": "环境|环保|污染", "审批服务": "审批|办事|窗口", "税务": "税务|税", "融资": "融资|贷款|银行",
                  "用工招聘": "用工|招聘|招工|社保", "安全生产": "安全|消防", "园区服务": "物业|园区服务"}


@lru_cache(maxsize=1)
def _category_of_concept() -> dict[str, str]:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return {concept: category for category, concepts in (raw.get("categories") or {}).items() for concept in concepts}


def category(text: str) -> str:
    """The department-routing category of a complaint: the category model's choice, unless every problem
    the text names belongs to one other category that the model also ranks among its first three."""
    return _category(_normalized(text), _models())


def names_its_own_category(text: str) -> bool:
    """Does the text say which kind of matter it is — the category model sure of one, or (rules) a cue word?
    "我们安排了两个人在旁边守着" does not: told right after a filing, it is about that ticket."""
    norm = _normalized(text)
    if _models()[0] == "model":
        return model.load("categories").predict(norm).ranking[0][1] >= CATEGORY_SURE
    return complaint_category(norm) != "其他"


@lru_cache(maxsize=256)
def _category(norm: str, models: tuple) -> str:
    ranking = model.load("categories").predict(norm).ranking if models[0] == "model" else []
    chosen = sure_or_cued(norm, ranking) if ranking else complaint_category(norm)
    strong, _ = _concepts()
    named = {_category_of_concept().get(name) for name, rx in strong if rx.search(norm)} - {None}
    if len(named) == 1:
        only = next(iter(named))
        if only != chosen and only in [name for name, p in ranking[:3] if p >= 0.02]:
            return only
    return chosen


# One message reads the same words several times (is it a problem? its category, its places, a repeat?):
# the normalised text, the category and the Matter are kept for the last few texts. They depend on the
# text, the engine and the installed category model only: _models() names the engine in every key, and
# a newly installed model (nlp.model.load picks it up while running) empties the caches.
_model_in_use: list = [None]


@lru_cache(maxsize=256)
def _normalized(text: str) -> str:
    return normalize(text).text


def _models() -> tuple:
    name = engine.current()
    if name != "model":
        return (name, None)
    current = model.load("categories")
    if current is not _model_in_use[0]:
        _category.cache_clear()
        _complaint_category.cache_clear()
        _model_in_use[0] = current       # kept alive, so its id names it in the keys
    return (name, id(current))


@lru_cache(maxsize=1)
def _concepts() -> tuple[tuple[tuple[str, re.Pattern], ...], tuple[tuple[str, re.Pattern], ...]]:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return tuple((name, re.compile(rx)) for name, rx in (raw.get("strong") or {}).items()), \
        tuple((name, re.compile(rx)) for name, rx in (raw.get("weak") or {}).items())


@dataclass(frozen=True)
class Matter:
    text: str                 # normalised (Simplified, lower-case)
    strong: frozenset         # specific problems named
    weak: frozenset           # objects named
    places: tuple             # ((kind, value), …)
    content: str              # what is left without fillers, places and punctuation
    category: str
    words: str = ""           # without fillers and punctuation, places kept

    @property
    def has_problem(self) -> bool:
        return bool(self.strong)


def read(text: str, category: str | None = None) -> Matter:
    norm = _normalized(text)
    strong, weak, found, content, words = _read(norm)
    return Matter(norm, strong, weak, found, content, category or _complaint_category(norm, _models()), words)


@lru_cache(maxsize=256)
def _read(norm: str) -> tuple:
    """What a Matter holds besides its category (the text alone decides it)."""
    strong, weak = _concepts()
    found = places(norm)
    rest = norm
    for _, value in found:
        rest = rest.replace(value, " ")
    content = re.sub(r"\d+", "", _NOT_ALNUM.sub("", FILLER.sub(" ", rest)))
    return (frozenset(n for n, rx in strong if rx.search(norm)), frozenset(n for n, rx in weak if rx.search(norm)),
            tuple(found), content, _NOT_ALNUM.sub("", FILLER.sub(" ", norm)))


@lru_cache(maxsize=256)
def _complaint_category(norm: str, models: tuple) -> str:
    return complaint_category(norm)


# --- comparing two tellings ---

def place_conflict(a: Matter, b: Matter) -> bool:
    """Both name a place of one kind and none of them agree: 东区 and 西区, 6栋 and 7栋, 灌装车间 and 宿舍."""
    for kind in {k for k, _ in a.places} & {k for k, _ in b.places}:
        va = {v for k, v in a.places if k == kind}
        vb = {v for k, v in b.places if k == kind}
        if kind == "facility":
            va, vb = {v for v in va if not v.endswith(NESTED_ROOMS)}, {v for v in vb if not v.endswith(NESTED_ROOMS)}
            if va and vb and not any(_same_facility(x, y) for x in va for y in vb):
                return True
        elif not va & vb:
            return True
    return False


def _same_facility(x: str, y: str) -> bool:
    """"冷库" and "冷库" agree; "灌装车间" and "车间" agree (one is unqualified); two qualifiers differ."""
    if x == y:
        return True
    head = 2 if not x.endswith(("政务中心", "配电房", "配电室")) else 3
    return x[-head:] == y[-head:] and (len(x) <= head + 0 or len(y) <= head + 0 or x in y or y in x)


OUTDOOR = ("zone", "road", "gate", "estate")    # the address kinds; buildings, floors and rooms are the spot


def _apart(a: Matter, b: Matter) -> bool:
    """Both give an address (zone, road, gate, estate) and nothing in them agrees: 西区纬二路 and 东门."""
    oa = {(k, v) for k, v in a.places if k in OUTDOOR}
    ob = {(k, v) for k, v in b.places if k in OUTDOOR}
    return bool(oa and ob and not oa & ob)


def shared_places(a: Matter, b: Matter) -> int:
    """Places both name (a facility with or without its qualifier: "宿舍" and "员工宿舍")."""
    return sum(1 for ka, va in a.places
               if any(ka == kb and (va == vb or (ka == "facility" and _same_facility(va, vb))) for kb, vb in b.places))


def overlap(a: str, b: str) -> float:
    """Share of the shorter text's character bigrams (single characters for one-character texts) in the other,
    each weighed by its rarity (the category model's IDF): "流浪狗" counts, "到处" hardly."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    weight = _idf()
    top = weight.get("", 1.0)
    wa, wb = sum(weight.get(g, top) for g in ga), sum(weight.get(g, top) for g in gb)
    return sum(weight.get(g, top) for g in ga & gb) / min(wa, wb)


@lru_cache(maxsize=1)
def _idf() -> dict[str, float]:
    categories = model.load("categories")
    table = {f: float(w) for f, w in zip(categories.vocabulary, categories.idf, strict=False) if len(f) <= 2}
    table[""] = float(max(categories.idf)) if len(categories.idf) else 1.0   # unseen: as rare as the rarest
    return table


def _grams(text: str) -> set[str]:
    if len(text) == 1:
        return {text}
    return {text[i:i + 2] for i in range(len(text) - 1)}


def model_cosine(a: Matter, b: Matter) -> float:
    """Cosine of the two tellings as the category model sees them (TF-IDF of words and character n-grams)."""
    categories = model.load("categories")
    ia, va = categories.vector(features(a.text))
    ib, vb = categories.vector(features(b.text))
    weights = dict(zip(ib, vb, strict=False))
    return sum(v * weights.get(i, 0.0) for i, v in zip(ia, va, strict=False))


def rare_shared(a: str, b: str) -> float:
    """The rarest character bigram both contents share, by the category model's IDF (0 when none):
    "摄像头", "彩钢瓦", "渣土" are rare in any telling, "还是" and "下雨" are not."""
    shared = _grams(a) & _grams(b) if len(a) > 1 and len(b) > 1 else set()
    weight = _idf()
    top = weight.get("", 1.0)
    return max((weight.get(g, top) for g in shared), default=0.0)


RARE = 6.0       # a shared bigram at least this rare (IDF) says the two tellings speak of one thing


def relation(a: Matter, b: Matter) -> float:
    """How surely two tellings are one matter, 0…1 (SAME_MATTER and above: the same)."""
    if place_conflict(a, b) or DISTINCT.search(b.text) or DISTINCT.search(a.text):
        return 0.0
    words = overlap(a.content, b.content)
    rare = rare_shared(a.content, b.content) >= RARE
    if a.strong and b.strong:
        shared = a.strong & b.strong
        if not shared:
            return 0.0
        # problems only one of them names: the more there are (on both sides), the likelier two matters
        only_a, only_b = len(a.strong - b.strong), len(b.strong - a.strong)
        return max(0.0, min(1.0, 0.65 + 0.1 * len(shared) + 0.1 * shared_places(a, b) + 0.2 * words
                            - 0.3 * _apart(a, b) - 0.15 * (only_a + only_b) - 0.1 * bool(only_a and only_b)))
    evidence = (0.35 * words + 0.15 * max(0.0, model_cosine(a, b)) + 0.1 * (a.category == b.category)
                + 0.1 * bool(a.weak & b.weak) + 0.1 * min(shared_places(a, b), 2) + 0.3 * rare)
    if a.strong or b.strong:    # one names a specific problem the other does not
        evidence -= 0.2
    return max(0.0, min(1.0, evidence))


def same_matter(ticket_text: str, message: str, ticket_category: str | None = None,
                message_category: str | None = None) -> bool:
    return relation(read(ticket_text, ticket_category), read(message, message_category)) >= SAME_MATTER


# --- a status question by description ---

def describes(question: Matter, ticket: Matter) -> float:
    """How well a question ("退税那个进展咋样了") names a ticket; 0 when it names another place or problem."""
    if place_conflict(question, ticket):
        return 0.0
    score = 0.0
    if question.strong:
        shared = question.strong & ticket.strong
        score += min(1.5, 1.0 * len(shared)) if shared else -0.5
    score += 0.6 * bool(question.weak & ticket.weak)
    score += 0.6 * shared_places(question, ticket)
    words = CATEGORY_WORDS.get(ticket.category)
    if words and re.search(words, question.text):
        score += 0.8
    score += 1.0 * overlap(question.content, ticket.words)
    return score


def is_specific(question: Matter) -> bool:
    """Does the question name any matter at all ("我的诉求" does not)?"""
    return bool(question.strong or question.weak or question.places or len(question.content) >= 2
                or any(re.search(words, question.text) for words in CATEGORY_WORDS.values()))


def best_matches(question: Matter, tickets: list, texts: dict) -> list:
    """The tickets a question names: one when it is clear, several when they tie, none when nothing fits.
    `texts` maps a ticket's id to its Matter."""
    scored = sorted(((describes(question, texts[t.id]), -i, t) for i, t in enumerate(tickets)),
                    key=lambda row: (row[0], row[1]), reverse=True)
    fitting = [(s, t) for s, _, t in scored if s >= DESCRIBES]
    if not fitting:
        return []
    best = fitting[0][0]
    close = [t for s, t in fitting if best - s < CLEAR_LEAD]
    return close[:4]

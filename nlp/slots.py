"""Slot filling: ticket ids, phones, dates, head counts, companies, complaint category, topics."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from nlp import engine, model
from nlp.dates import find_dates
from nlp.normalize import normalize

DATA = Path(__file__).resolve().parent / "data"
TICKET = re.compile(r"ts\d{13}", re.I)
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
NUMERALS = {"一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
            "八": 8, "九": 9, "十": 10}
_NUM = r"(\d{1,2}|[一二两俩三四五六七八九十]{1,2})"
COMPANION = re.compile(rf"带(上|埋|着|了)?{_NUM}(个|位|名)(同事|人|员工|伙伴|朋友)?")
SEATS = re.compile(rf"(来|报|去|订|book|留|要){_NUM}(个|位|名)(人|位子|座位|名额)?|{_NUM}(个|位)(位子|座位|名额|人参加)")
_COMPANY_SUFFIX = r"(?:有限责任公司|股份有限公司|有限公司|公司|集团|厂|合作社)"
COMPANY = re.compile(rf"([一-鿿a-z0-9]{{2,20}}?{_COMPANY_SUFFIX})")
# A name-shaped phrase that names no one: "我们厂", "这家公司", "西区4号厂(房)" — a pronoun or a place before the suffix.
NOT_A_NAME = re.compile(rf"^(我们?|咱们?|本|你们?|他们?|这|那|这个|那个|这家|那家|隔壁|对面|贵|我司)?{_COMPANY_SUFFIX}$|"
                        rf"\d+号{_COMPANY_SUFFIX}$")
SELF_INTRO = re.compile(r"^(我们是|我是|我们|我司是|是|我在|在)(?=..)")   # "我们是湘西龙腾酒业有限公司": the name after it

# Places in a park (normalised text), each as (kind, value), so that two tellings can be compared kind
# by kind: "东区" and "西区" are two zones; "8号厂房" and "东区" are compatible.
_PNUM = r"(?:\d{1,3}|[一二三四五六七八九十]{1,3})"
_FACILITY_WORDS = ("车间|厂房|冷库|粮库|仓库|库房|厨房|食堂|饭堂|宿舍楼|宿舍|停车场|实验楼|孵化楼|电商楼|办公楼|综合楼|写字楼|"
                   "配电房|配电室|机房|排洪渠|化粪池|搅拌站|前台|大厅|政务服务中心|政务中心|税务大厅|窗口|"
                   "站台|厕所|卫生间|会议室|办公室|展厅|门卫室|锅炉房|污水处理站|污水站|水泵房|驿站|空地")
_QUALIFIERS = ("灌装|榨油|热处理|中央|员工|职工|生产|包装|冲压|喷涂|装配|成品|原料|一楼|二楼|电镀|焊接|注塑|"
               "机加工|组装|烘焙|屠宰|冷冻|发酵|酿造|纺纱|织布|印染|仓储")
PLACE_PATTERNS = (
    ("zone", re.compile(r"(?<![a-z])([东西南北中]|[a-z])区")),
    ("side", re.compile(r"(?<![a-z往向朝])([东西南北](?:侧|头|边))(?!的人)")),
    ("gate", re.compile(rf"([东西南北前后侧]|{_PNUM}号)大?门(?!票|诊|店)")),
    ("road", re.compile(rf"((?:经|纬){_PNUM}路|{_PNUM}号路|[一-鿿]{{2}}(?:路|大道|大街|街)(?![灯面况费线人由子途]))")),
    ("building", re.compile(rf"((?<![\d])(?:[a-z]?{_PNUM}|[a-z])(?:栋|幢|座|号楼|单元)|{_PNUM}号(?:厂房|仓库|仓|库|车间|宿舍))")),
    ("floor", re.compile(rf"((?<![\d号落了]){_PNUM}(?:楼|层)(?![梯道下上顶房]))")),
    ("estate", re.compile(r"((?:新材料|食品产业|[一-鿿]{2})园)(?!区|林|艺|丁)")),
    ("facility", re.compile(rf"((?:{_QUALIFIERS})?(?:{_FACILITY_WORDS}))")),
)
_NOT_A_ROAD = set("那这条段个的烂坑修马道整一全上下走过进出小大公铁近远水线电网套销绕问思后前边旁在到")
_NOT_AN_ESTATE = ("公园", "园区", "花园", "家园", "校园", "乐园", "儿园", "庄园", "果园", "菜园")


def chinese_number(text: str) -> int | None:
    """'3' → 3, '两' → 2, '十二' → 12."""
    if text.isdigit():
        return int(text)
    if len(text) == 1:
        return NUMERALS.get(text)
    tens, _, units = text.partition("十")
    if "十" in text:
        return NUMERALS.get(tens, 1) * 10 + (NUMERALS.get(units, 0) if units else 0)
    return None


@lru_cache(maxsize=1)
def _tables() -> dict:
    raw = yaml.safe_load((DATA / "slots.yaml").read_text(encoding="utf-8"))
    return {table: [(name, re.compile(rx)) for name, rx in entries.items()]
            for table, entries in raw.items()}


# Below this probability the category model's choice yields to the cue words (slots.yaml): on validation
# 0.927 → 0.940, test 0.960 → 0.969, fresh rounds 6–8 0.970 → 0.973 (session 9).
CATEGORY_SURE = 0.5


def complaint_category(text: str) -> str:
    """The department-routing category of a complaint (config.yaml complaints.categories): the
    category model's choice (nlp/model/categories.model.gz), or with NLP_ENGINE=rules the cue words."""
    text = normalize(text).text
    if engine.current() != "model":
        return category_by_cues(text)
    return sure_or_cued(text, model.load("categories").predict(text).ranking)


def sure_or_cued(text: str, ranking: list) -> str:
    """The category model's first choice (`ranking`, best first, of the normalised `text`) when it is sure;
    unsure ("园区宽带这周天天断网，订单系统都登不上": 税务 at 0.33), the cue words' when they say one."""
    best, probability = ranking[0]
    if probability >= CATEGORY_SURE:
        return best
    cued = category_by_cues(text)
    return cued if cued != "其他" else best


def category_by_cues(text: str) -> str:
    """The category with the most distinct cue words ("道路塌陷，货车进不来": 道路+货车 beat 塌);
    on a tie the table's order decides. Nothing matching → 其他."""
    best, best_hits = "其他", 0
    for name, pattern in _tables()["complaint_categories"]:
        hits = len(set(pattern.findall(text)))
        if hits > best_hits:
            best, best_hits = name, hits
    return best


def policy_topics(text: str) -> list[str]:
    return [name for name, pattern in _tables()["policy_topics"] if pattern.search(text)]


def head_count(text: str) -> int | None:
    """'带两个同事' → 3 people in all; '我们来三个' → 3; '一共来三个人' → 3 whatever else is said."""
    total = SEATS.search(text) if re.search(r"一共|总共|共计|合计", text) else None
    if total:
        return chinese_number(total.group(2) or total.group(5))
    match = COMPANION.search(text)
    if match:
        n = chinese_number(match.group(2))
        return n + 1 if n else None
    match = SEATS.search(text)
    if match:
        n = chinese_number(match.group(2) or match.group(5))
        return n
    return None


def phones(text: str) -> list[str]:
    return MOBILE.findall(text) + [p for p in LANDLINE.findall(text)]


def places(text: str) -> list[tuple[str, str]]:
    """The places normalised text names, as (kind, value): zone 东区, gate 东门/2号门, road 纬二路/科技路,
    building 6栋/8号厂房, floor 3楼, estate 食品园, facility 灌装车间/冷库/食堂."""
    found: list[tuple[str, str]] = []
    for kind, pattern in PLACE_PATTERNS:
        for match in pattern.finditer(text):
            value = _place_value(kind, match.group(0) if kind in ("zone", "gate", "side") else match.group(1))
            if value and (kind, value) not in found:
                found.append((kind, value))
    return found


def _place_value(kind: str, value: str) -> str:
    if kind == "gate":
        return value.replace("大门", "门")
    if kind == "road" and not re.match(r"^(经|纬|\d|[一二三四五六七八九十]+号)", value):
        if value[0] in _NOT_A_ROAD or value[1] in _NOT_A_ROAD:
            return ""
    if kind == "estate" and (value[-2:] in _NOT_AN_ESTATE or value[0] in _NOT_A_ROAD):
        return ""
    if kind == "facility":
        value = value.replace("宿舍楼", "宿舍").replace("政务服务中心", "政务中心").replace("污水处理站", "污水站")
    return value


def mask_phone(phone: str) -> str:
    """For logs: 13812345678 → 138****5678."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_phones(text: str) -> str:
    text = MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
    return LANDLINE.sub(lambda m: mask_phone(m.group(0)), text)


def extract(text: str, original: str, today: date | None = None, companies=()) -> dict:
    """All slots found in normalised text (original keeps digits exactly as typed)."""
    slots: dict = {}
    tickets = [t.upper() for t in TICKET.findall(text)]
    if tickets:
        slots["ticket_ids"] = tickets
    found_phones = phones(text)
    if found_phones:
        slots["phones"] = found_phones
    dates = find_dates(text, today or date.today())
    if dates:
        slots["dates"] = dates
    count = head_count(text)
    if count:
        slots["head_count"] = count
    company = match_company(text, companies)
    if company:
        slots["company"] = company
    found_places = places(text)
    if found_places:
        slots["places"] = [value for _, value in found_places]
    return slots


def match_company(text: str, roster) -> str | None:
    """A roster name the text names, exactly or nearly; else a name-shaped phrase, or None."""
    exact, cores = _roster_index(tuple(roster))
    if exact is not None:
        found = exact.search(text)
        if found:
            return cores.get(found.group(0), found.group(0))
    names = (SELF_INTRO.sub("", m.group(1)) for m in COMPANY.finditer(text))
    name = next((n for n in names if not NOT_A_NAME.search(n)), None)
    if name is None:
        return None
    if cores:   # fuzzy only when the text names a company-shaped phrase (cheap for most messages)
        from rapidfuzz import fuzz, process
        best = process.extractOne(core_name(name), list(cores), scorer=fuzz.ratio)
        if best and best[1] >= 80:
            return cores[best[0]]
    return name


@lru_cache(maxsize=4)
def _roster_index(roster: tuple) -> tuple[re.Pattern | None, dict[str, str]]:
    """One regex over every full and core name (longest first), and core name → full name."""
    cores = {}
    for name in roster:
        cores[name] = name
        core = core_name(name)
        if len(core) >= 3:
            cores.setdefault(core, name)
    if not cores:
        return None, {}
    alternatives = sorted(cores, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives))), cores


def core_name(name: str) -> str:
    """'湘西苗岭农业科技有限公司' → '苗岭农业科技' (drops region and legal form)."""
    core = re.sub(r"(有限责任公司|股份有限公司|有限公司|公司|集团)$", "", name)
    return re.sub(r"^(湖南省?|湘西(州|土家族苗族自治州)?|吉首市?)", "", core) or core

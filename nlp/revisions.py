"""What a message finally says when the owner revises it while typing, or holds an action back.

Owners correct themselves inside one message ("稳岗补贴怎么申请 哦不对 我想问的是招大学生那个补贴",
"给2分……算了算了，还是给4分吧", "报早茶会 两个人 哦不对 就我自己"): what follows the correction counts.
And a negated action is no request for it ("先不要取消喔", "先不用催", "等下先别退"): the owner holds it back.
Plain regular expressions over normalised (Simplified) text; nlp.classify and the handlers use them.
"""
from __future__ import annotations

import re

# A word that takes back what came before it. Only words that say so unambiguously: "不对" alone also
# means "wrong" ("电压不对"), so it counts only before "是…" ("不对，是东区") or doubled, and "算了" only
# when something follows ("那算了" alone drops the matter: handlers/general.py).
CORRECTION = re.compile(
    r"(?:[哦噢喔啊呃额欸诶]\s*不对|不对不对|不对[，,。.！!…~\s]*(?=是|应该|应当|我想|我要|我说|我是说)|"
    r"[哦噢喔啊呃额欸诶]\s*不是|不是不是|说错了|讲错了|打错了|讲错咗|说错咗|打错咗|搞错了|更正一下|更正|"
    r"算了算了|算了|(?:等下|等一下|等等|等会)(?=[，,。.！!…~\s])|我是说|我的意思是)[，,。.！!…~\s]*")
MIN_TAIL_CHARS = 2
# After "算了" the owner revises only when a new choice follows ("算了，还是给4分吧", "算了 就报我一个").
REVISED_CHOICE = re.compile(r"还是|就|改成|换成|改为|给[0-9一二三四五]分")

# "先不要取消喔", "等他确认再说，别取消", "先不用催", "等下先别退", "唔好取消住", "先莫取消" (莫: Hunan, Sichuan):
# the action, negated.
_HOLD = r"(?:先|暂时|暂且|还|还是|千万)?(?:不要|别|不用|唔好|唔使|不必|甭|先不|暂不|先别|莫)(?:着急|急着|急)?"
HOLD_OFF = {
    "meeting.cancel": re.compile(_HOLD + r"(?:帮我|给我)?(?:取消|退|撤)"),
    "policy.unsubscribe": re.compile(_HOLD + r"(?:帮我|给我)?(?:退订|退|取消)"),
    "complaint.file": re.compile(_HOLD + r"(?:帮我|给我)?催"),
}

# "【通知】明天上午9:00-12:00西区供水管网检修停水，请各企业提前做好储水准备": a notice passed on to the group,
# not a problem reported — whatever it says has stopped.
ANNOUNCEMENT = re.compile(r"^\s*[【\[](?:紧急)?(?:通知|公告|温馨提示|提示|提醒|转发|通告|预告)[】\]]|"
                          r"^\s*(?:通知|公告|温馨提示|紧急通知)[:：]|请各(?:企业|单位|位|家)|相互转告|互相转告|请(?:大家|各位)?提前做好")

# "+1 我们也看到了": agreeing with the message before, then saying something of one's own.
PLUS_ONE = re.compile(r"^\s*(?:\+|＋)1\s*[，,。.！!~\s]*")


def after_correction(text: str) -> str | None:
    """What follows the last correction in the text, when something does; else None."""
    tail = None
    for found in CORRECTION.finditer(text):
        rest = text[found.end():].strip()
        if found.group(0).startswith("算了") and not REVISED_CHOICE.search(rest):
            continue     # "算了，不说了，取消": dropping the matter, not a correction
        if len(rest) >= MIN_TAIL_CHARS:
            tail = rest
    return tail


def holds_off(text: str, intent: str) -> bool:
    """The text negates the action `intent` would take ("先不要取消" for meeting.cancel)."""
    pattern = HOLD_OFF.get(intent)
    return pattern is not None and pattern.search(text) is not None


def is_announcement(text: str) -> bool:
    return ANNOUNCEMENT.search(text) is not None


def after_plus_one(text: str) -> str | None:
    """"+1 我们也看到了" → "我们也看到了"; "+1" alone, or no "+1" first → None."""
    found = PLUS_ONE.match(text)
    if found is None:
        return None
    rest = text[found.end():].strip()
    return rest if len(rest) >= MIN_TAIL_CHARS else None

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
    "meeting.cancel": re.compile(_HOLD + r"\s*(?:帮我|给我)?(?:取消|退|撤|cancel)"),
    "policy.unsubscribe": re.compile(_HOLD + r"\s*(?:帮我|给我)?(?:退订|退|取消|cancel|unsubscribe)"),
    "complaint.file": re.compile(_HOLD + r"(?:帮我|给我)?催"),
    "complaint.status": re.compile(_HOLD + r"(?:帮我|给我)?催"),     # hurrying is heard as status talk too
}

# "【通知】明天上午9:00-12:00西区供水管网检修停水，请各企业提前做好储水准备": a notice passed on to the group,
# not a problem reported — whatever it says has stopped.
ANNOUNCEMENT = re.compile(r"^\s*[【\[](?:紧急)?(?:通知|公告|温馨提示|提示|提醒|转发|通告|预告)[】\]]|"
                          r"^\s*(?:通知|公告|温馨提示|紧急通知)[:：]|请各(?:企业|单位|位|家)|相互转告|互相转告|请(?:大家|各位)?提前做好")

# What the model may hear a complaint in, that reports nothing (fresh round 18, session 9): each a rule, as
# the announcements above are.
# Advertising: a service sold with a number to call ("专业厂房装修、防水补漏一条龙，免费上门，电话139…").
_SELLING = (r"一条龙|免费上门|上门服务|一个电话|欢迎(来电|咨询|致电|联系)|有需要的?(老板|朋友|企业|请)|私聊我|"
            r"低息|免抵押|无抵押|代开|代办|专业(承接|代办|办理|提供|从事)|承接|垫资|过桥|价格优惠|全网最低|加(微信|v信|vx|v)")
# …or headed as one ("【限時優惠】本公司專營…", "【广告】…").
ADVERT = re.compile(rf"(?:{_SELLING}).*\d{{7,}}|\d{{7,}}.*(?:{_SELLING})|有需要的?老板私聊|代开(各类)?发票|"
                    r"^\s*[【\[](?:限时|特价|促销|优惠|特惠|广告|开业)[^】\]]{0,6}[】\]]")
# "如果停电了找谁", "假如厂房漏水，应该搵边个部门处理？": what to do if it happens — a question, nothing happened.
HYPOTHETICAL = re.compile(r"^(那|那么|请问|问下|问一下|想问下?|btw|顺便问下?)?[，,\s]*(如果|假如|要是|万一|假设|假使|一旦)"
                          r"[^。!！]{0,24}"
                          r"(找谁|找哪|打哪个|打什么电话|电话是|怎么办|怎么处理|应该|该找|去哪|搵边个|揾边个|点算|哪个部门|边个部门)")
# "想反映问题的话是在这里直接说就行吗？", "投诉要怎么弄": how to complain, not a complaint.
HOW_TO_COMPLAIN = re.compile(r"(怎么|如何|怎样|在哪|哪里|去哪)(里)?(反映|投诉|提诉求|报问题|登记问题)|"
                             r"(反映|投诉|诉求)[^，,。]{0,8}(要怎么|怎么弄|怎么操作|流程是|直接说就行|在这里说|是在这里|找这个)")
# "有个问题想反映 怎么弄": a matter to report and how — the guided filing, not the manual.
HAS_A_MATTER = re.compile(r"有(个|一个|件|些|点)?(问题|事|情况)")
# "听说隔壁那家厂上礼拜停过一次电，我们这边倒是一直正常": somebody else's matter; ours is fine.
OURS_FINE = re.compile(r"(我们|我这|我司|我厂|咱们)(这边|这里|厂里|那边|公司)?(倒是|还是|都|倒)?(一直|还算|都)?"
                       r"(正常|没事|没问题|好好的|挺好)[的啊呀哈]*[。.!！~]*$")
# "垃圾机器人，一点用都没有", "你怎么这么笨": the owner is cross with the bot — no matter to file.
AT_THE_BOT = re.compile(r"(垃圾|破|烂|笨|蠢|傻|没用的?|废物)(的)?(机器人|助手|系统|玩意儿?)|"
                        r"(机器人|助手|你)(真|太|好|咁|这么|怎么这么)?(笨|蠢|傻|垃圾|没用|废物)|一点用(都|也)没有")

# "上个月反映的积水问题…都清通了…特别感谢": thanks for a problem solved, with nothing asked of anyone.
SOLVED = re.compile(r"解决了|修好了|清通了|疏通了|来电了|来水了|恢复了|处理好了|搞定了|弄好了|终于不用|不漏了|办好了|"
                    r"批下来了|到账了")
THANKS = re.compile(r"感谢|谢谢|多谢|辛苦了|点赞|给力")
STILL_WANTED = re.compile(r"又|还是|但是|可是|不过|麻烦|请|能不能|希望|建议|怎么|吗|[?？]")

# "+1 我们也看到了": agreeing with the message before, then saying something of one's own.
# "稳岗返还怎么还没到账", "奖补资金什么时候能拨下来": a question about a payout's timing is a policy question…
PAYOUT_TIMING = re.compile(r"(补贴|补助|奖补|奖励|返还|资金|扶持|退税|兑现)[^,，。!?]{0,8}"
                           r"(怎么还没|什么时候|几时|啥时候|何时)[^,，。!?]{0,4}(到账|到|发|拨|下来|兑现)")
# …unless the park is asked to step in ("补贴拖了半年还没发，我要投诉", "麻烦园区帮忙催一下财政")
STEP_IN = re.compile(r"投诉|申诉|举报|反映|催|帮忙|帮我们|协调|督促|处理|讨个?说法|要个?说法")
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


def not_a_report(text: str) -> tuple[str, str] | None:
    """(intent, rule) for a message that looks like a complaint and reports nothing: an advert (other), a
    hypothetical or a question how to complain (help), someone else's matter with ours fine, anger at the
    bot, or thanks for a problem solved (smalltalk); None otherwise."""
    if ADVERT.search(text):
        return "other", "advert"
    if HYPOTHETICAL.search(text):
        return "help", "hypothetical"
    if HOW_TO_COMPLAIN.search(text) and not HAS_A_MATTER.search(text):
        return "help", "how_to_complain"
    if OURS_FINE.search(text):
        return "smalltalk", "ours_fine"
    if AT_THE_BOT.search(text):
        return "smalltalk", "at_the_bot"
    if SOLVED.search(text) and THANKS.search(text) and not STILL_WANTED.search(text):
        return "smalltalk", "thanks_for_a_fix"
    return None


def asks_when_paid(text: str) -> bool:
    """"稳岗返还怎么还没到账 人家隔壁厂都收到了": when a payout comes, asked however impatiently (intents.md: a plain
    question about its timing is policy.query; asking the park to intervene is a complaint)."""
    return PAYOUT_TIMING.search(text) is not None and STEP_IN.search(text) is None


def after_plus_one(text: str) -> str | None:
    """"+1 我们也看到了" → "我们也看到了"; "+1" alone, or no "+1" first → None."""
    found = PLUS_ONE.match(text)
    if found is None:
        return None
    rest = text[found.end():].strip()
    return rest if len(rest) >= MIN_TAIL_CHARS else None

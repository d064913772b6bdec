"""Complaints in the chat: file at once or ask only for what is missing, status by number or by
description, the rating after a resolution.

Every question asked here is a Flow that declares what counts as its answer (`accepts`): a problem for
"what happened?", a place for "where?", a phone number for the phone, an enterprise name for "which
enterprise?", a number or a distinguishing word for "which one?", a rating for the rating. Anything else
is a digression the Dispatcher answers as what it is, keeping the question (bot/chat/pipeline.py).
"""
from __future__ import annotations

import re
from datetime import timedelta

import nlp
from bot import clock
from bot.chat.context import Answer, Context
from bot.chat.conversation import ConversationStore, Flow, State
from bot.chat.message import Message
from bot.chat.router import Matcher, Router, intent, msg_type, regex
from bot.complaints import matter, service, texts
from bot.identity import service as membership
from bot.push import jobs, outbound
from handlers.texts import JOKE_NOTED, MEDIA_RECEIVED, NO_HURRY
from nlp.normalize import alnum_count
from nlp.revisions import after_correction
from nlp.slots import category_by_cues, match_company, phones, places
from storage import complaints as store
from storage import enterprises, identity
from storage import meetings as meeting_store
from storage.models import utcnow
from storage.redis import lenient

router = Router("complaints")
# "我要投诉", "有个问题要反映", "我想反映点事情": a request to file with nothing yet to file.
REQUEST_WORDS = re.compile(r"我们|我|要|想|需要|有|一个|个|一下|一点|点|一些|些|事情|事儿|事|问题|情况|诉求|投诉|投述|"
                           r"反映|反应|举报|提|说说|说|讲讲|讲|下|可以吗|行吗|吗|麻烦|帮忙|请|一|件|的|了|啊|呀|吧|"
                           r"complain|在|这里|这|里|给你们|你们|跟|找|园区", re.I)
BARE_REQUEST = re.compile(r"^(我|我们)?(要|想|需要)?(投诉|反映|举报|提|complain)(一下|一个|个|些)?"
                          r"(问题|事情|情况|诉求|事)?(可以吗|行吗)?[!.?。！？~]*$")
# "已經講第三次了，都沒有人理我們", "到底有没有人管": frustration, with no matter in it yet.
FRUSTRATION = re.compile(r"(已经|都)?(讲|说|反映|提|打电话|找)(了|过|咗)?"
                         r"(第?[0-9一二三四五六七八九十几两好多]+(次|回|遍)|好多次|很多次|无数次|多少次)(了)?|(都|也|还|一直)?(没有|没|无)(人)(理|管|回|睬|回复|处理|来)(过)?(我们|我哋|我)?|"
                         r"(到底|究竟)?(有没有|有无)人(管|理)|(怎么|咋)(还|都)?没人(管|理)|太(过分|离谱)了?|气死(我)?了?")
WITHDRAW = re.compile(r"不投诉了|不反映了|不用了|不用登记|不登记了|算了|自己再看看|(自己|已经)解决了|没事了|不需要了|搞定了")
NOT_COMPLAINING = re.compile(r"不是要?(投诉|反映)|不(投诉|反映)了|不想(投诉|反映)|没(什么|啥)要(投诉|反映)")
# A question about a matter raised before, even when the model hears a new complaint in it.
STATUS_CUE = re.compile(r"怎么样|咋样|怎样了|如何了?|进展|进度|处理得|处理到|处理了(没|吗)|解决了(没|吗)|弄好没|弄好了没|"
                        r"修好了?没|修了(没|吗)|弄了(没|吗)|办了(没|吗)|办好了(没|吗)|"
                        r"好了没|有消息没|有没有消息|有结果|有下文|谁在管|什么状态|啥状态|咩状态|到哪一步|到哪了|哪一步了|"
                        r"单子呢|那张单|那个单子|"
                        r"登记(了|上了|好了)(吗|吧|没)|跟进|后来怎么|搞好了没|有人(来)?(看|管|处理)(过)?(了)?(没|吗)|"
                        r"现在(什么|啥)情况|(那个|的)呢[?？]?$|搞成点|点样|咩情况|有冇人跟|(而家|现在)点(呀|啊|嘅|呢)?[?？]?$|几时(可以|能|会|先)?(搞掂|搞定|搞好|修好|整好|弄好|处理好)|(搞掂|整好)(未|没|了没)|"
                        r"(办|处理|弄|修|搞)(完|好)了?(是吧|吧|吗|没有|没|未)[?？]?$|是不是没人管|没人管了?(吗|吧)?[?？]?$|"
                        r"有没有人管|"
                        # "电来了没", "我哋厂房嘅电嚟咗未呀": is the supply back yet
                        r"(电|水|气|网|暖气)[^,，。]{0,3}(来|嚟|通|恢复)(了|咗)?(没|未|吗|冇)")
ANAPHORA = re.compile(r"那个|这个|那件|这件|的事|这事|那事|上次|之前|刚才|刚刚|前几天|上周|反映的|报的|嗰|𠮶|"
                      r"还是(不|没)|仍然|依然|到现在还|至今还")   # "路灯还是不亮": the matter told before
JUST_NOW = re.compile(r"刚才|刚刚|刚")
SKIP = re.compile(r"^(跳过|没有|无|不用|不方便|略|skip|不知道|不清楚|不记得了|说不清)[!.。！]*$")
DECLINE_PHONE = re.compile(r"^(跳过|没有|无|不用|不方便|略|skip|不留|不想留|不给|保密|算了)|不留了|不方便|不用留|不想给")
DECLINE_ENTERPRISE = re.compile(r"^(跳过|不方便|不想说|个人|没有企业|不是企业|skip)|个人反映|不代表企业")
RATING_WORDS = (("非常不满意", 1), ("很不满意", 1), ("特别不满意", 1), ("十分不满意", 1), ("太差", 1), ("差评", 1),
                ("不太满意", 2), ("不怎么满意", 2), ("不满意", 2), ("基本满意", 3), ("还行", 3), ("一般般", 3),
                ("凑合", 3), ("马马虎虎", 3), ("非常满意", 5), ("很满意", 5), ("特别满意", 5), ("十分满意", 5),
                ("超级满意", 5), ("太满意", 5), ("好评", 5), ("比较满意", 4), ("挺满意", 4), ("满意", 4),
                ("还不错", 4), ("不错", 4), ("挺好", 4), ("很好", 5), ("非常好", 5), ("太棒", 5), ("很棒", 5),
                ("还可以", 3), ("很差", 1), ("太烂", 1), ("不好", 2), ("没解决", 2), ("没修好", 2),
                ("ok", 3), ("过得去", 3))
RATING_NUMBER = re.compile(r"^(?:打|给|评)?\s*([1-5])(?![\d个位人号楼栋点月日天年层%.])\s*(?:分|星|颗星)?"
                           r"\s*[,.，。、:：!！]?\s*(.*)$"
                           r"|^(?:打|给|评)?\s*([一二三四五])\s*(?:分|星|颗星)\s*[,.，。、:：!！]?\s*(.*)$")
# "刚才那个评价，给4分吧": a score named inside a sentence (only read while a rating is asked for).
RATING_SCORE_INSIDE = re.compile(r"(?:打|给|评)\s*(?:个|上|了|它|他们|你们)?\s*([1-5])\s*(?:分|星|颗星)(?!钟)(.*)$"
                                 r"|(?:打|给|评)\s*(?:个|上|了|它|他们|你们)?\s*([一二两三四五])\s*(?:分|星|颗星)(?!钟)(.*)$")
# "都ok嘅，三分啦": a score closing the message, after a clause of its own
RATING_SCORE_LAST = re.compile(r"[,，。、;；\s]\s*([1-5一二两三四五])\s*(?:分|星|颗星)\s*(?:啦|吧|啊|呀|喇|了)?[!！。.~]*$")
# Cantonese and colloquial negation before 满意: "唔滿意", "冇乜满意", "没有很满意" are not 满意.
NEGATED_SATISFIED = re.compile(r"(?:唔|冇|没有?|不是)(?:乜|好|很|太|怎么|係好|系好)?(?=满意)")
RATING_EMOJI = {"👍": 4, "👌": 4, "💯": 5, "🌹": 5, "👏": 5, "👎": 1, "😡": 1, "😠": 1, "🤬": 1, "😤": 2, "😞": 2,
                "😔": 2, "🙂": 4, "😊": 4}
CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CHOICE_NUMBER = re.compile(r"^(?:选|就|要|是)?第?([1-9]|[一二三四五六七八九])(?:个|号|条|件|项)?(?:吧|那个|那件|那条)?$")
MIN_DESCRIPTION_CHARS = 4
SHORT_PROBLEM_CHARS = 8       # "停电了", "路灯坏了好几盏": a problem this short, with no place, is asked where
OFFER_MIN_CHARS = 10          # a message this long that nothing understood may be a problem worth filing
SURE_COMPLAINT = 0.8          # the model this sure of a complaint: a problem even in words no table knows
YES_FILE = re.compile(r"^(登记|登记一下|登记吧|帮我登记|帮我登记一下|麻烦登记|是|是的|好|好的|可以|要|对|嗯|确认|行|yes|ok)"
                      r"[!。.~]*$", re.I)
NO_FILE = re.compile(r"^(不用|不用了|不要|不了|不是|算了|不需要|别|no|不登记)[!。.~]*$", re.I)
# Categories whose problems happen somewhere: "停电了" alone is asked where; "留抵退税没到账" is not.
PLACE_BOUND = ("供电", "供水", "燃气", "道路交通", "环境", "安全生产", "园区服务")
PLACE_WORDS = re.compile(r"厂里|厂区|公司|门口|车间|仓库|宿舍|办公室|楼|栋|号|路|区|园|门|口|旁边|对面|附近|楼下|楼上|"
                         r"这边|那边|隔壁|里面|外面|停车场|食堂|路边")
SELF_INTRODUCED = re.compile(r"(我是|我们是|我们公司(是|叫)?|我司|本公司|我在|我们单位(是)?)")
# "公司门口", "我们厂里", "车间里面": where the teller is, a place enough not to be asked again.
NEAR_US = re.compile(r"(公司|厂|厂区|单位|我们|园区|仓库|车间|宿舍|食堂|办公楼|办公室|大楼|楼)(的)?(大)?"
                     r"(门口|里面|里头|入面|里|内|外面|外|旁边|后面|前面|附近|楼下|楼上|对面|隔壁)")
COMPANY_WORDS = re.compile(r"贸易|科技|实业|物流|建材|食品|制造|工业|机械|电子|医药|生物|纺织|包装|五金|能源|农业|酒业|茶业|商贸|"
                           r"集团|股份|饮品|材料|装备|软件|汽车|零部件|储能|粮油|加工|厂$|公司$")
FOCUS_TTL_S = 6 * 3600        # "刚才那个…" refers to the ticket talked about last, for this long
PHONE_ASKED_TTL_S = 86400     # the phone is asked once a day at most, however many tickets are filed
BARE_STATUS_REST = 4          # characters left of a status question without its status words: it names nothing
BARE_STATUS_CHARS = 10        # "而家系咩状态": short enough to be about the ticket talked about last
PLACE_ADDED_WITHIN = timedelta(minutes=30)   # a bare place this soon after filing belongs to that ticket
CHOICE_FLOW = "complaint_choose"


def _kind(text: str) -> str:
    return "投诉" if re.search(r"投诉|举报|complain", text) else "诉求"


def _owner(ctx, filer: identity.Filer | None = None) -> tuple[int | None, int | None]:
    """(the user's VERIFIED enterprise, the user): unverified users own only what they filed."""
    filer = filer or identity.filer(ctx.session, ctx.user_ref)    # one statement, no record loaded
    return (filer.enterprise_id if filer else None), ctx.user_ref


# What a place is told with besides the place itself: "在北区纬二路，我们厂大门口那一段", "北区12号厂房西边嗰幅墙".
LOCATIVE = re.compile(r"就在|位置|地址|地点|大门口|门口|旁边|附近|对面|外面|里面|后面|前面|楼下|楼上|隔壁|一带|周边|路口|"
                      r"拐角|那一段|这一段|一段|那段|这段|那边|这边|那里|这里|那儿|这儿|厂里|厂区|我们厂|本厂|厂|号|"
                      r"(嗰|𠮶|这|那)?[幅面堵块栋间个]?|[段路口到处边侧头]")
# Something happening, not a place: "西区4号厂房的墙裂了", "东区8号厂房屋顶掉瓦", "3号路有人打架".
HAPPENING = re.compile(r"[裂坏漏堵停断塌掉冒臭吵烧炸倒占打吵偷丢淹脏乱]|积水|不(亮|通|行|能|了)|没(有)?(电|水|气|人)")
ONLY_PLACE_REST = 3          # characters left, at most, once places, fillers and locative words are gone


def only_a_place(text: str) -> bool:
    """"西区4号厂房", "在北区纬二路，我们厂大门口那一段": the text says where, and nothing that happened there."""
    told = matter.read(text)
    if told.has_problem or not told.places or HAPPENING.search(told.content):
        return False
    return len(LOCATIVE.sub("", told.content)) <= ONLY_PLACE_REST



# --- what a complaint.file message is ---

def is_bare(text: str) -> bool:
    """A request to file with nothing to file yet ("我要投诉", "有个问题要反映")."""
    return bool(BARE_REQUEST.match(text)) or alnum_count(REQUEST_WORDS.sub("", FRUSTRATION.sub("", text))) < 2


def asks_status(text: str) -> bool:
    """"车间停水的事弄好没有啊", "刚才那个燃气的事登记了吧？": a question about a matter raised before."""
    return bool(STATUS_CUE.search(text)) and (bool(ANAPHORA.search(text)) or alnum_count(text) <= 14)


# "你们园区到底管不管事！！！", "已经说了三次了 都没人理": anger, with nothing said of what is wrong or where
VENTING = re.compile(r"管不管|有没有人管|没人(管|理)|不理|怎么搞的|搞什么|太过分|受够|气死|什么破|还要不要|像不像话|"
                     r"到底(管|有没有|怎么|想)")
VENTING_MAX_CONTENT = 6      # characters left once fillers and punctuation are gone: "管不管", "说三次人理"


def only_venting(text: str) -> bool:
    told = matter.read(text)
    return bool(VENTING.search(text)) and not told.has_problem and not told.places \
        and len(told.content) <= VENTING_MAX_CONTENT


def is_problem(text: str, nlu=None) -> bool:
    """Does the text tell a problem (not only a request, a greeting, another request or a question to the bot)?"""
    if nlu is not None and nlu.intent not in ("complaint.file", "other", "smalltalk") and nlu.confidence >= 0.7:
        return False     # 订阅政策, 报名早茶会, 转人工…: a request of its own
    if matter.read(text).has_problem:
        return True
    told_as_complaint = nlu is not None and nlu.intent == "complaint.file"
    if told_as_complaint and category_by_cues(text) != "其他":
        return True
    return told_as_complaint and nlu.confidence >= SURE_COMPLAINT and alnum_count(text) >= 6 and not is_bare(text)


# Services that run across the park, not at one spot: "园区班车下午五点半就没了" is filed without asking where.
PARK_WIDE = re.compile(r"班车|通勤车|快递|驿站|外卖")


def _needs_place(text: str, category: str) -> bool:
    return category in PLACE_BOUND and not places(text) and not NEAR_US.search(text) and not PARK_WIDE.search(text)


# --- filing: at once when the problem is told, else only what is missing ---

@router.route(regex(r"^(稍等|等一下|等等|等会儿?|我看看|我想想|让我想想|我查一下|我问问|我先看看)"
                    r"(?!.*(政策|补贴|早茶会|说错|讲错|打错|搞错|不对))"))   # "等等，说错了，…": a correction
def wait_a_moment(msg: Message, ctx: Context) -> Answer:
    """"稍等，我问问同事具体位置": nothing to do yet (whatever the model guesses; before any signup)."""
    return NO_HURRY


def _follows_up_on_a_matter(msg: Message, ctx: Context) -> bool:
    """"好的，那食堂那个呢" after a status answer, "咁而家系咩状态" after a ticket was talked about: a status
    question the model took for chat."""
    nlu = ctx.nlu
    if nlu is None or nlu.intent not in ("smalltalk", "other", "help") or not asks_status(nlu.text):
        return False
    if ANAPHORA.search(nlu.text) and matter.is_specific(matter.read(nlu.text)):
        return True
    return alnum_count(nlu.text) <= BARE_STATUS_CHARS and _focus(ctx) is not None


# --- the owner takes the ticket just talked about back ---

# "撤回刚才的投诉", "这个诉求撤销吧", "不用处理了", "搞错了，路灯是好的": withdrawing it.
TAKE_BACK = re.compile(
    r"(撤回|撤销|撤掉|撤了|撤单|作废|取消)掉?(?:(?!报名|早茶|订阅|推送)[^,，。]){0,6}(投诉|诉求|工单|反映|单子|登记)|"
    r"(投诉|诉求|工单|单子|登记)(就|先|帮我|麻烦)?(撤回|撤销|撤掉|撤了|作废|取消|不要了)|"
    r"不用(再)?(处理|管|弄|修|派人|来人|麻烦|跟进)了?|不需要(再)?(处理|跟进|派人|来人)|不要(处理|管)了")
# "撤回", "咁帮我撤回啦": the word alone names what it takes back — the ticket just talked about
BARE_WITHDRAW = re.compile(r"^(咁|那|那就|就)?(帮我|麻烦|请)?(撤回|撤销|撤单)(掉|咗)?(吧|了|啦|嘛|喇|啰|呗|哦)?"
                           r"[,，\s]*(thx|thanks|tks|ty|谢谢|谢了|多谢)?$")
# "搞错了，是隔壁食堂在熬猪油，不是漏气，撤回吧": the word closing a message that explains why
WITHDRAW_LAST = re.compile(r"[,，。.!！\s](那就|就|帮我|麻烦|请|还是)?(撤回|撤销|撤单)(掉|咗)?(吧|了|啦|嘛|喇|啰|呗)?[!！。.~]*$")
# "算了，取消吧", "不反映了" right after filing (nothing else pending): the ticket just filed.
BARE_TAKE_BACK = re.compile(r"^(算了|那算了|不用了|还是算了)?[,，]?(取消|撤回|撤销)(吧|了|掉)?(?![^,，。]*(报名|早茶|订阅|推送))|"
                            r"不(反映|投诉|告|报|登记)了")
# "搞错了，路灯是好的", "误报": told by mistake (a place corrected is another thing: handled below) —
# "搞错了，红绿灯是好的，是我看错路口了" says so even with a place in it.
MISTAKEN = re.compile(r"(搞|弄|报|说|看)错了|误报")
FINE_AFTER_ALL = re.compile(r"(是|都|其实|本来)(好的|好好的|正常的?)|没(有)?(坏|塞|堵|问题|事)|看错|听错")
# "已经来电了", "水来了，不用处理了": the problem went away on its own.
FIXED = re.compile(r"(已经|已|刚刚?|现在|终于|都)(来电|嚟电|来水|嚟水|来气|通水|通电|通气|有电|有水|有气|通了|恢复|修好|好了|"
                   r"搞好|弄好|搞掂|解决|没事|正常)|(电|水|气|网)(已经|又)?(来|嚟)(了|咗)")
# "电来了又停了", "好了一会儿又不行了": back again, not gone.
RELAPSE = re.compile(r"又(停|断|坏|没|不|跳|漏|堵|臭)|但是?|可是|还是(不|没)|时好时坏|一会儿?")
TAKE_BACK_MINUTES = 30      # a bare "取消" withdraws only a ticket filed this recently


def _takes_the_ticket_back(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    if nlu is None or msg.is_group and not msg.mentioned:
        return False
    text = nlu.text
    # before a correction cut it ("搞错了，红绿灯是好的" keeps 搞错了); normalised again only then
    whole = nlp.normalize(msg.text).text if nlu.decided_by.startswith("revised") else text
    explicit = TAKE_BACK.search(text) or BARE_WITHDRAW.match(text) or WITHDRAW_LAST.search(whole) or (
        MISTAKEN.search(whole) and (FINE_AFTER_ALL.search(whole) or not places(whole) and not NOT_THIS_PLACE.search(whole)
                                    and not SELF_INTRODUCED.search(whole)))
    fixed = FIXED.search(text) and not RELAPSE.search(text) and not STATUS_CUE.search(text) \
        and not matter.read(FIXED.sub("", text)).has_problem     # "电来了没" asks; "电来了" tells
    bare = BARE_TAKE_BACK.search(text)
    if not (explicit or fixed or bare):
        return False
    numbers = nlu.slots.get("ticket_ids") or []
    if numbers:      # "撤销 TS2026…": that ticket, if it is the owner's, and no other
        ctx.found["taken_back"] = (_visible_ticket(ctx, numbers[0]), numbers[0], bool(explicit or bare))
        return bool(explicit or bare or fixed)
    recent = _focus(ctx)
    if recent is None and (explicit or fixed):   # "昨天报的那个下水道的事不用处理了": the ticket it describes
        fitting = [c for c in _matching_tickets(ctx, text) if c.status in store.OPEN_STATUSES]
        recent = fitting[0] if len(fitting) == 1 else None
    if recent is None or recent.status not in store.OPEN_STATUSES or recent.merged_into:
        return False
    if bare and not (explicit or fixed):
        just_filed = recent.user_ref == ctx.user_ref and recent.status == "received" \
            and utcnow() - recent.created_at.replace(tzinfo=None) <= timedelta(minutes=TAKE_BACK_MINUTES)
        if not just_filed or _has_meeting_signup(ctx):    # "取消" may mean a breakfast-meeting seat
            return False
    ctx.found["taken_back"] = (recent, recent.ticket_no, bool(explicit or bare))
    return True


def _visible_ticket(ctx: Context, ticket_no: str, owner: tuple | None = None):
    """The ticket of that number when its owner (or a verified member of its enterprise) asks; else None.
    `owner`: (enterprise id, user ref) when the caller has read them already."""
    complaint = store.by_ticket(ctx.session, ticket_no)
    enterprise_id, user_ref = owner or _owner(ctx)
    return complaint if complaint is not None and store.visible_to(complaint, enterprise_id, user_ref) else None


def _has_meeting_signup(ctx: Context) -> bool:
    return ctx.user_ref is not None and bool(meeting_store.active_signups_of_user(ctx.session, ctx.user_ref,
                                                                                  clock.now()))


# "不满意，昨晚下雨还是漏" once the rating question was left ("转人工"), or after other talk: a rating said in so many
# words (not a bare digit, which may be anything) goes to the owner's one resolved ticket awaiting it.
RATING_SAID = re.compile(r"满意|好评|差评|(?<![\d.])[1-5一二两三四五]\s*(分|星|颗星)")


def _rates_a_resolved_ticket(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    if nlu is None or (msg.is_group and not msg.mentioned) or not RATING_SAID.search(nlu.text):
        return False
    parsed = parse_rating(nlu.text, msg.text)
    if parsed is None:
        return False
    filer = identity.filer(ctx.session, ctx.user_ref)
    enterprise_id, user_ref = _owner(ctx, filer)
    waiting = [c for c in _owned_tickets(ctx, filer, enterprise_id, user_ref) if c.status == "resolved" and c.rating is None]
    focus = _focus(ctx, waiting)
    if focus is None and len(waiting) != 1:
        return False
    ctx.found["late_rating"] = (focus or waiting[0], parsed)
    return True


@router.route(Matcher(_rates_a_resolved_ticket, "rates_a_resolved_ticket"))
def late_rating(msg: Message, ctx: Context) -> Answer:
    complaint, (score, comment) = ctx.found["late_rating"]
    set_focus(ctx, complaint)
    return service.rate(ctx.services, ctx.session, complaint, score, comment)


# "不好意思打错了，是4分", "等等，說錯了…還是在漏，不滿意": the rating just given, corrected.
RATING_CORRECTED_WITHIN = timedelta(minutes=30)


def _corrects_a_rating(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    if nlu is None or (msg.is_group and not msg.mentioned):
        return False
    whole = nlp.normalize(msg.text).text
    corrected = after_correction(whole)
    if corrected is None:
        return False
    recent = _focus(ctx)
    rated = [e for e in recent.events if e.kind == "rated"] if recent is not None and recent.user_ref == ctx.user_ref else []
    if not rated or utcnow() - rated[-1].at.replace(tzinfo=None) > RATING_CORRECTED_WITHIN:
        return False
    parsed = parse_rating(corrected, msg.text)
    if parsed is None or parsed[0] == (rated[-1].data or {}).get("rating"):
        return False
    ctx.found["rating_corrected"] = (recent, parsed)
    return True


@router.route(Matcher(_corrects_a_rating, "corrects_a_rating"))
def correct_rating(msg: Message, ctx: Context) -> Answer:
    """The score said last counts: 基本满意 or better closes the ticket again, worse reopens it."""
    complaint, (score, comment) = ctx.found["rating_corrected"]
    return service.rate(ctx.services, ctx.session, complaint, score, comment)


# "哎呀按错了，不是要撤回，红绿灯现在还是坏的": the withdrawal just made, taken back.
UNDO_WITHDRAW = re.compile(r"不是要撤|不(要|用)?撤(回|销)?了|别撤|撤错了|撤回错了|(点|按|撤)错了.{0,8}(撤|处理)|"
                           r"还是(要|帮忙|麻烦)?处理")


def _undoes_a_withdrawal(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    if nlu is None or (msg.is_group and not msg.mentioned) or not UNDO_WITHDRAW.search(nlu.text):
        return False
    recent = _focus(ctx)
    if recent is None or recent.user_ref != ctx.user_ref or _status_name(recent) != texts.STATUS_WITHDRAWN:
        return False
    withdrawn_at = max(e.at for e in recent.events if e.kind == "withdrawn").replace(tzinfo=None)
    ctx.found["withdrawn"] = recent
    return utcnow() - withdrawn_at <= timedelta(minutes=TAKE_BACK_MINUTES)


@router.route(Matcher(_undoes_a_withdrawal, "undoes_a_withdrawal"))
def undo_withdrawal(msg: Message, ctx: Context) -> Answer:
    recent = ctx.found["withdrawn"]
    service.reinstate(ctx.services, ctx.session, recent, msg.text.strip())
    return texts.REINSTATED.format(ticket=recent.ticket_no)


# "刚才说错了，不是停电，是停水，电是好的": what happened, corrected — the "不是…" clause is what it was not.
NOT_WHAT_HAPPENED = re.compile(r"不是[^,，。!！]{1,10}[,，。!！]\s*")


def _corrects_the_matter(msg: Message, ctx: Context) -> bool:
    """Right after filing (and before anyone started on it), a correction that tells another kind of problem."""
    if ctx.nlu is None or (msg.is_group and not msg.mentioned):
        return False
    whole = nlp.normalize(msg.text).text
    corrected = after_correction(whole)
    if corrected is None and not MISTAKEN.search(whole):
        return False
    corrected = NOT_WHAT_HAPPENED.sub("", corrected or MISTAKEN.split(whole)[-1]).strip()
    if not matter.read(corrected).has_problem:
        return False
    recent = _focus(ctx)
    if recent is None or recent.user_ref != ctx.user_ref or recent.status != "received" or recent.merged_into \
            or utcnow() - recent.created_at.replace(tzinfo=None) > PLACE_ADDED_WITHIN:
        return False
    category = matter.category(corrected)
    if category == recent.category:
        return False        # the same kind of problem: a place or a detail corrected (change_last_ticket)
    ctx.found["matter_corrected"] = (recent, category)
    return True


@router.route(Matcher(_corrects_the_matter, "corrects_the_matter"))
def correct_matter(msg: Message, ctx: Context) -> Answer:
    recent, category = ctx.found["matter_corrected"]
    told = msg.text.strip()
    service.correct_matter(ctx.services, ctx.session, recent, told, category)
    return texts.MATTER_CORRECTED.format(ticket=recent.ticket_no, text=told[:40], category=category,
                                         department=recent.department)


@router.route(Matcher(_takes_the_ticket_back, "takes_the_ticket_back"))
def take_back(msg: Message, ctx: Context) -> Answer:
    """Withdrawn at once when nobody has started on it and it is the owner's own; else the department is
    asked to close it. "已经来电了" alone is noted: the department decides whether anything is left to do."""
    recent, number, withdrawing = ctx.found["taken_back"]
    told = msg.text.strip()
    if recent is None:          # another's number, or none such: nothing is revealed, nothing changes
        return texts.NOT_FOUND.format(ticket=number)
    if recent.status not in store.OPEN_STATUSES or recent.merged_into:
        return texts.TAKE_BACK_NOT_OPEN.format(ticket=recent.ticket_no, status=_status_name(recent))
    if not withdrawing:
        service.add_note(ctx.session, recent, texts.NOTE_FIXED.format(text=told[:200]), "user")
        set_focus(ctx, recent)      # the answer offers "回复“撤回”": that word then takes this ticket back
        return texts.FIXED_NOTED.format(text=told[:30], ticket=recent.ticket_no)
    return _withdraw(ctx, recent, told)


def _withdraw(ctx: Context, complaint, told: str) -> str:
    # a colleague's ticket is theirs to take back: the department is asked to close it
    if service.withdraw(ctx.services, ctx.session, complaint, "user", told, may_close=complaint.user_ref == ctx.user_ref):
        return texts.WITHDRAWN.format(ticket=complaint.ticket_no)
    return texts.WITHDRAW_ASKED.format(ticket=complaint.ticket_no, status=texts.STATUS_NAMES[complaint.status])


# "能不能快点吧，损失很大", "麻烦尽快", "这次能不能快点，一停就是大半天": hurrying the ticket just talked about.
URGE = re.compile(r"快点|快些|快一点|尽快|抓紧|赶紧|加快|催一下|催催|催下|帮忙催|早点(处理|解决|弄|修)|能不能快|抓点紧|"
                  r"快啲|快手啲|急急急|等不了")


ASKS_FOR_A_PERSON = re.compile(r"人工|工作人员|找人|客服|领导|打电话给我|联系我|真人")
URGE_FIRST = re.compile(r"^(麻烦|请|能不能|能否|拜托|求求)?(你们)?(尽快|快点|快些|快一点|赶紧|抓紧|加快|快啲)")
NEW_MATTER = re.compile(r"又|还有|另外|另一|新的|也")


def _urges_the_ticket(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    if nlu is None or nlu.intent not in ("complaint.file", "complaint.status", "other", "smalltalk", "help", "human") \
            or not URGE.search(nlu.text) or ADDENDUM.match(nlu.text):
        return False
    if nlu.intent == "human" and ASKS_FOR_A_PERSON.search(nlu.text):
        return False       # "快点帮我转人工": a person, not a note
    recent = _focus(ctx)
    if recent is None or recent.status not in store.OPEN_STATUSES:
        return False
    told = matter.read(nlu.text)
    ctx.found["urged"] = recent
    # "麻烦尽快，几十车货堵在门口": hurrying first, then what the delay costs — not another matter
    hurries_first = URGE_FIRST.match(nlu.text) and not NEW_MATTER.search(nlu.text) and not told.places
    return not told.has_problem or told.category == recent.category or bool(hurries_first)


@router.route(Matcher(_urges_the_ticket, "urges_the_ticket"))
def urge(msg: Message, ctx: Context) -> Answer:
    """The owner hurries the open ticket just talked about: noted for the department, no second ticket."""
    recent = ctx.found["urged"]
    service.add_note(ctx.session, recent, texts.NOTE_URGED.format(text=msg.text.strip()[:200]), "user")
    return texts.URGED.format(ticket=recent.ticket_no, due=recent.due.isoformat())


@router.route(Matcher(_follows_up_on_a_matter, "follows_up_on_a_matter"))
def follow_up_status(msg: Message, ctx: Context) -> Answer:
    return status(msg, ctx)


# "不对，是东区不是西区", "啱啱講錯咗，係B棟唔係A棟": a place taken back ("不是西区") and another given.
NOT_THIS_PLACE = re.compile(r"(?:不是|唔系|唔是|并非)([^,，。.;；!！?？]+?)(?=[,，。.;；!！?？]|是|系|$)")
# "哦对了，是在政务服务中心三楼那个窗口报的": more about the matter just told.
# A question of its own ("对了 下个礼拜那个早茶会 是礼拜几"): never a detail of the ticket just filed.
ASKS = re.compile(r"[?？]|[吗嘛呢][!！。.~]*$|[礼拜星期周]几|几(点|号|时)|什么时候|是否|是不是|有没有|能不能|可不可以|"
                  r"哪(天|里|儿|个)|怎么(办|弄|申请|报)")
ADDENDUM = re.compile(r"^[哦噢啊喔]?[,，\s]*(对了|补充一下|补充|忘了说|还有就是|再说一下|另外)")
# …of which these say outright that they add to what was told (not "另外", which may start another matter)
SUPPLEMENT = re.compile(r"^[哦噢啊喔]?[,，\s]*(补充一下|补充说明|再补充|补充|忘了说|再说一下)")


def _change_to_last_ticket(msg: Message, ctx: Context) -> tuple | None:
    """(ticket, places to put instead, or None for a detail to add) when the message corrects or completes the
    ticket this user filed minutes ago rather than telling a new matter; else None."""
    text = ctx.nlu.text if ctx.nlu else ""
    taken_back = [place for found in NOT_THIS_PLACE.finditer(text) for _, place in places(found.group(1))]
    adds = ADDENDUM.match(text) is not None
    said = [place for _, place in places(text)]
    if not (taken_back or adds or said or (ctx.nlu is not None and ctx.nlu.intent == "complaint.file")):
        return None
    recent = _focus(ctx)
    if recent is not None and recent.status in store.OPEN_STATUSES and SUPPLEMENT.match(text) \
            and not ASKS.search(text) and not matter.DISTINCT.search(text):
        return recent, None        # "补充一下，裂缝已经有两米长" about the ticket just talked about, however old
    if recent is None or recent.user_ref != ctx.user_ref or recent.status not in store.OPEN_STATUSES \
            or utcnow() - recent.created_at.replace(tzinfo=None) > PLACE_ADDED_WITHIN:
        return None
    if nlp.normalize(msg.text).text == nlp.normalize(recent.description).text:
        return None                # the very same words again: a repeat (第2次反映), filed as one
    told_before = {place for _, place in places(nlp.normalize(f"{recent.location} {recent.description}").text)}
    if taken_back and set(taken_back) <= told_before:
        instead = [place for place in said if place not in taken_back]
        return (recent, instead) if instead else None
    if said and after_correction(nlp.normalize(msg.text).text) is not None and not set(said) <= told_before:
        return recent, said        # "不对，是东区3号路，我刚才说错了"
    told = matter.read(text)
    if ctx.nlu is not None and ctx.nlu.intent == "complaint.file" and matter.category(text) == recent.category \
            and not told.has_problem and not said and not ASKS.search(text):
        return recent, None        # "是隔壁那家物流公司堆的，说了好几次都不搬": more about the same matter
    if ctx.nlu is not None and ctx.nlu.intent == "complaint.file" and not told.has_problem and not said \
            and not ASKS.search(text) and (only_venting(text) or not matter.names_its_own_category(text)):
        return recent, None        # "我们安排了两个人在旁边守着", "講咗好多次佢哋都唔理": no matter of its own
    if adds and not ASKS.search(text) and (matter.category(text) in (recent.category, "其他")
                                             or not told.has_problem) or (
            said and set(said) <= told_before and not told.has_problem):
        return recent, None        # "就东区3号厂房边上那条路 你们自己去看": the same place again
    return None


def _our_name_in(text: str) -> str | None:
    """"我们是…有限公司" alone, after a correction ("不好意思说错了，"), or after a short lead that tells no
    problem ("算了还是说一下，"): the clause naming us; else None."""
    for told in (text, NAME_CORRECTED.sub("", text)):
        if ONLY_OUR_NAME.match(told):
            return told
    lead = NAME_LEAD.match(text)
    if lead and ONLY_OUR_NAME.match(text[lead.end():]) and not matter.read(lead.group(0)).has_problem:
        return text[lead.end():]
    return None


def _tells_our_name(msg: Message, ctx: Context) -> bool:
    if ctx.nlu is None or (msg.is_group and not msg.mentioned):
        return False
    ctx.found["our_name"] = _our_name_in(ctx.nlu.text)
    return ctx.found["our_name"] is not None


@router.route(~msg_type("event") & Matcher(_tells_our_name, "tells_our_name"))
def our_name(msg: Message, ctx: Context) -> Answer:
    """"我们是台运通物流（园区）有限公司", "不好意思说错了，我们是…": who they are, after filing or before."""
    return _our_name_told(msg, ctx, ctx.found["our_name"])


def _changes_last_ticket(msg: Message, ctx: Context) -> bool:
    ctx.found["last_ticket_change"] = change = _change_to_last_ticket(msg, ctx)
    return change is not None


@router.route(intent("complaint.file", "other", "smalltalk") & ~msg_type("event")
              & Matcher(_changes_last_ticket, "changes_last_ticket"))
def change_last_ticket(msg: Message, ctx: Context) -> Answer:
    """A correction or a detail right after filing goes to that ticket, not into a second one."""
    recent, instead = ctx.found["last_ticket_change"]
    told = msg.text.strip()[:60]
    if instead:
        recent.location = " ".join(re.sub("[a-z]", lambda m: m.group().upper(), place) for place in instead)[:200]
        service.add_note(ctx.session, recent, texts.NOTE_PLACE_CORRECTED.format(text=told), "user")
        return texts.PLACE_CORRECTED.format(place=recent.location, ticket=recent.ticket_no)
    service.add_note(ctx.session, recent, texts.NOTE_DETAIL.format(text=msg.text.strip()[:300]), "user")
    return texts.DETAIL_ADDED.format(ticket=recent.ticket_no)


@router.route(intent("complaint.file") & ~msg_type("event"))
def file_complaint(msg: Message, ctx: Context) -> Answer:
    """A stated problem is filed at once (with every slot it gives); a bare "我要投诉" asks what happened;
    a short "停电了" asks only where; a question about an earlier matter is answered as one."""
    nlu = ctx.nlu
    text = nlu.text
    if msg.is_group and not msg.mentioned and not _worth_filing_unasked(text, nlu, msg.text):
        return None
    if LAUGHING.search(msg.text) and not _tells_a_fault(text):
        return JOKE_NOTED     # "园区的流浪猫都比我们上班积极😂": a joke — nothing broken, nothing asked for
    if asks_status(text):
        if not is_problem(text, nlu) or _matching_tickets(ctx, text):
            return status(msg, ctx)
        # "路灯坏了三天了，有人管吗？" with no such ticket yet: a complaint, not a status question
    if only_venting(text):     # nothing to file yet: what is wrong, and where (filed once told, as if unasked)
        ctx.conversation.start("complaint_guided", "what", {"media": [], "file_after_place": True})
        return texts.VENTING_WHAT
    if is_bare(text):
        ctx.conversation.start("complaint_guided", "what", {"media": []})
        return texts.GUIDED_WHAT
    if only_a_place(text):   # owners tell a problem in pieces: the place after the problem, or before it
        added = _place_for_the_last_ticket(msg, ctx, text)
        if added:
            return added
        ctx.conversation.start("complaint_guided", "what", {"media": [], "location": msg.text.strip()[:200]})
        return texts.GUIDED_WHAT_AFTER_PLACE
    if not is_problem(text, nlu):
        if WITHDRAW.search(text):
            return texts.NOTHING_FILED
        added = _place_for_the_last_ticket(msg, ctx, text)
        if added:
            return added
        offer = offer_filing(msg, ctx)
        if offer:
            return offer
        ctx.conversation.start("complaint_guided", "what", {"media": []})   # a wish to complain, nothing told yet
        return texts.GUIDED_WHAT
    category = matter.category(text)
    # one of several problems listed ("1. 停电了 2. …"): each is filed, none waits on a question
    if alnum_count(text) <= SHORT_PROBLEM_CHARS and _needs_place(text, category) and not ctx.part_of_several:
        # told unasked, the problem is filed once the place is known; the phone is asked after filing
        ctx.conversation.start("complaint_guided", "where",
                               {"description": msg.text.strip(), "media": [], "file_after_place": True})
        return texts.GUIDED_WHERE
    return _file(msg, ctx, msg.text)


def _place_for_the_last_ticket(msg, ctx, text: str) -> str | None:
    """Only a place ("南区粮油园2号冷库"), just after filing a ticket: it says where that ticket's problem is."""
    recent = _focus(ctx)
    if recent is None or recent.user_ref != ctx.user_ref or not places(text) or alnum_count(text) > 24:
        return None
    if utcnow() - recent.created_at.replace(tzinfo=None) > PLACE_ADDED_WITHIN:
        return None
    recent.location = (f"{recent.location} {msg.text.strip()}" if recent.location else msg.text.strip())[:200]
    service.add_note(ctx.session, recent, texts.NOTE_PLACE_ADDED.format(text=msg.text.strip()[:60]), "user")
    return texts.PLACE_ADDED.format(place=msg.text.strip()[:40], ticket=recent.ticket_no)


# Members talking among themselves, unmentioned: "停了一小会儿，半小时就来了，没啥影响" (over already), "隔壁厂好像
#上午也停了一下，你们那边呢？" (asking the others, or hearsay).
AMONG_MEMBERS = re.compile(r"(就|又|已经|已)(来了|恢复了|好了|通了)|没(啥|什么|多大)影响|没事了|"
                           r"你们(那边|这边|厂|公司)?(呢|有没有|是不是|也)|好像|听说|据说")
LAUGHING = re.compile("[😂🤣😆😅]|哈哈|笑死|hhh")
ASKING_FOR_ACTION = re.compile(r"投诉|反映|管管|管一下|处理|解决|能不能|麻烦|赶紧|快点|尽快|帮忙")


def _tells_a_fault(text: str) -> bool:
    """A problem named, and something broken or something asked for ("哈哈哈园区的下水道又堵了，能不能管管")."""
    return matter.read(text).has_problem and bool(HAPPENING.search(text) or ASKING_FOR_ACTION.search(text))


def _worth_filing_unasked(text: str, nlu, msg_raw: str = "") -> bool:
    """Unmentioned in a group, only a complaint told in full is taken up ("是的是的，那边确实黑" is not)."""
    if re.match(r"^(是的|是啊|系呀|系啊|系啦|系咯|对|对的|确实|没错|嗯|\+1|同意|同感|我们也是|附议|就是啊|可不是|"
                r"哈哈|呵呵|嘿嘿|笑死)", text) or re.search("[😂🤣😆😅]", msg_raw) or AMONG_MEMBERS.search(text):
        return False      # agreeing, joking ("哈哈哈园区的下水道年年堵😂") or chatting is no request to the park
    # the model's word alone is not enough here ("学到了，我们去年就是漏报了"): a problem named, or a cue word
    named = matter.read(text).has_problem or category_by_cues(text) != "其他"
    return named and is_problem(text, nlu) and alnum_count(text) >= 10 and not asks_status(text)


# "电来了又停了，现在又是黑的", "还是没水": the matter just talked about, back again.
AGAIN = re.compile(r"又|还是|仍然|依然|照样|再次")


def _back_again(ctx, text: str, category: str, location: str):
    """The open ticket just talked about when this telling is its matter again (same category, no other place)."""
    if not AGAIN.search(text):
        return None
    recent = _focus(ctx)
    if recent is None or recent.category != category or recent.status not in store.OPEN_STATUSES:
        return None
    if location and recent.location and not set(location.split()) & set(recent.location.split()):
        return None
    return recent


def _file(msg, ctx, description: str, location: str = "", phone: str = "", media=()) -> str:
    filer = identity.filer(ctx.session, ctx.user_ref)    # the user's facts in one statement, no record loaded
    enterprise_id, user_ref = _owner(ctx, filer)
    text = ctx.nlu.text if ctx.nlu else description
    phone = phone or (phones(description.replace(" ", "")) or [""])[0]
    user_phone = filer.phone if filer else ""
    known_phone = phone or user_phone
    category = matter.category(f"{location} {description}".strip())
    location = location or " ".join(value for _, value in places(matter.read(description).text))[:200]
    complaint, merged = service.file(
        ctx.services, ctx.session, description=description, category=category,
        source=msg.channel, kind=_kind(text), enterprise_id=enterprise_id, user_ref=user_ref,
        location=location, phone=known_phone, media=media, filer=filer,
        repeat_of=_back_again(ctx, text, category, location))
    if phone and filer is not None and not user_phone:
        ctx.user.phone = user_phone = phone
    set_focus(ctx, complaint)
    if merged:
        return texts.MERGED.format(ticket=complaint.ticket_no, status=texts.STATUS_NAMES[complaint.status],
                                   times=complaint.repeat_count + 1)
    reply = texts.FILED.format(kind=complaint.kind, ticket=complaint.ticket_no, category=complaint.category,
                               department=complaint.department, accept_due=complaint.accept_due.isoformat(),
                               due=complaint.due.isoformat())
    if complaint.enterprise_id is None and not complaint.claimed_enterprise:
        named = _self_named(ctx, text)
        if named is not None:
            return reply + _claim_enterprise(ctx, complaint, named, quiet=True) + _ask_phone(msg, ctx, complaint,
                                                                                             user_phone)
        pending = ctx.conversation.get()
        earlier = pending.data.get("complaint_ids", []) if pending and pending.flow == "complaint_enterprise" else []
        ctx.conversation.start("complaint_enterprise", "name",
                               {"complaint_id": complaint.id, "complaint_ids": [*earlier, complaint.id]})
        return reply + (texts.ASK_ENTERPRISE_GROUP if msg.is_group else texts.ASK_ENTERPRISE)
    return reply + _ask_phone(msg, ctx, complaint, user_phone)


def _ask_phone(msg, ctx, complaint, user_phone: str | None = None) -> str:
    """After filing, the phone is asked once when none is known (never in a group: it is personal).
    `user_phone`: the user's phone when the caller knows it (else their record is read)."""
    if msg.is_group or complaint.contact_phone:
        return ""
    if user_phone is None:
        user_phone = ctx.user.phone if ctx.user is not None else ""
    if user_phone:
        return ""
    asked = _phone_asked_key(msg)
    if lenient(ctx.services.redis).set(asked, "1", ex=PHONE_ASKED_TTL_S, nx=True) is None:
        return ""       # asked after an earlier ticket today and left unanswered: not asked again
    ctx.conversation.start("complaint_phone", "phone", {"complaint_id": complaint.id})
    return texts.ASK_PHONE


def _phone_asked_key(msg) -> str:
    return f"complaint-phone-asked:{msg.channel}:{msg.user_id}"


# --- guided filing: what → where → phone → file, each asked only when missing ---

def guided_accepts(msg: Message, ctx: Context, state: State) -> bool:
    if msg.msg_type in ("image", "voice", "video", "file", "link"):
        return True
    if msg.msg_type == "location":
        return state.step in ("where", "what")
    text = ctx.nlu.text if ctx.nlu else msg.text
    if state.step == "phone":   # the number, or the place told late ("就在园区2号宿舍楼，对了你们周末上班吗")
        return phone_accepts(msg, ctx, state) or (not state.data.get("location")
                                                   and _is_place_answer(text, state.data.get("description", "")))
    if WITHDRAW.search(text) or asks_status(text):
        return False
    if state.step == "where":
        return bool(SKIP.match(text.strip())) or _is_place_answer(text, state.data.get("description", ""))
    return only_venting(text) or not is_bare(text) and (is_problem(text, ctx.nlu) or bool(places(text)))


def _is_place_answer(text: str, description: str) -> bool:
    """A place for "where?": one the place slot knows, or a short phrase of place words; not another problem."""
    told = matter.read(text)
    if told.strong and not told.strong & matter.read(description).strong:
        return False    # a different problem, told while asked where: a new matter
    if places(text):
        return True
    return alnum_count(text) <= 20 and bool(PLACE_WORDS.search(text)) and not re.search(r"[?？吗呢]", text)


def guided_what(msg: Message, ctx: Context, state: State) -> Answer:
    if _attach(msg, state):
        ctx.conversation.move(state)
        return texts.GUIDED_MEDIA.format(kind=MEDIA_RECEIVED.get(msg.msg_type, "附件"))
    if msg.msg_type == "location":
        state.data["location"] = _location_label(msg)
        ctx.conversation.move(state)
        return texts.GUIDED_WHAT_AFTER_PLACE
    text = msg.text.strip()
    if not is_problem(ctx.nlu.text, ctx.nlu) and places(ctx.nlu.text):
        state.data["location"] = text[:200]
        ctx.conversation.move(state)
        return texts.GUIDED_WHAT_AFTER_PLACE
    if only_venting(ctx.nlu.text) and not state.data.get("location"):
        ctx.conversation.move(state)
        return texts.VENTING_WHAT      # still angry, still nothing told: asked again, nothing filed
    state.data["description"] = text
    return _guided_next(msg, ctx, state)


def guided_where(msg: Message, ctx: Context, state: State) -> Answer:
    if msg.msg_type == "location":
        state.data["location"] = _location_label(msg)
    elif _attach(msg, state):
        ctx.conversation.move(state)
        return texts.GUIDED_MEDIA.format(kind=MEDIA_RECEIVED.get(msg.msg_type, "附件"))
    elif not SKIP.match(msg.text.strip()):
        state.data["location"] = msg.text.strip()[:200]
    state.data["where_asked"] = True
    return _guided_next(msg, ctx, state)


def guided_phone(msg: Message, ctx: Context, state: State) -> Answer:
    if _attach(msg, state):
        ctx.conversation.move(state)
        return texts.GUIDED_MEDIA.format(kind=MEDIA_RECEIVED.get(msg.msg_type, "附件"))
    found = phones(msg.text.replace(" ", ""))
    text = ctx.nlu.text if ctx.nlu else msg.text
    if not found and not DECLINE_PHONE.search(text) and not state.data.get("location"):
        state.data["location"] = msg.text.strip()[:200]     # the place, told while the phone was asked
        ctx.conversation.move(state)
        return texts.GUIDED_PLACE_NOTED + texts.GUIDED_PHONE
    if found and ctx.user is not None:
        ctx.user.phone = found[0]
    state.data["phone"] = found[0] if found else ""
    state.data["phone_asked"] = True
    return _guided_next(msg, ctx, state)


def _guided_next(msg, ctx, state) -> Answer:
    """Ask the next thing still missing (each once), else file."""
    data = state.data
    description, location = data.get("description", ""), data.get("location", "")
    told = f"{location} {description}"
    if not location and not data.get("where_asked") and _needs_place(matter.read(told).text, matter.category(told)):
        state.step = "where"
        ctx.conversation.move(state)
        return texts.GUIDED_WHERE
    phone = data.get("phone") or (phones(told.replace(" ", "")) or [""])[0] or (ctx.user.phone if ctx.user else "")
    if not phone and not data.get("phone_asked") and not msg.is_group and not data.get("file_after_place"):
        state.step = "phone"
        ctx.conversation.move(state)
        return texts.GUIDED_PHONE
    ctx.conversation.clear()
    return _file(msg, ctx, description, location, phone, data.get("media", []))


def guided_reask(ctx: Context, state: State) -> str | None:
    if ctx.nlu is not None and NOT_COMPLAINING.search(ctx.nlu.text):
        ctx.conversation.clear()     # "我不是要投诉，就想问问补贴": answered, and the filing is dropped
        return None
    return {"what": texts.REASK_WHAT, "where": texts.REASK_WHERE, "phone": texts.REASK_PHONE}[state.step]


def _location_label(msg) -> str:
    return msg.payload.get("Label") or f"{msg.payload.get('Location_X')},{msg.payload.get('Location_Y')}"


def _attach(msg, state) -> bool:
    """Photos, voice and files sent during the flow go with the ticket."""
    if msg.msg_type not in ("image", "voice", "video", "file", "link"):
        return False
    item = {k: msg.payload.get(k) for k in ("MediaId", "PicUrl", "Url", "Title") if msg.payload.get(k)}
    state.data.setdefault("media", []).append(dict(item, type=msg.msg_type))
    if msg.msg_type == "voice" and msg.text:
        state.data["description"] = (state.data.get("description", "") + " " + msg.text).strip()
    return True


# --- the phone, asked once after filing (an optional follow-up) ---

def phone_accepts(msg: Message, ctx: Context, state: State) -> bool:
    """A number (not inside a new problem told with its phone) or 不留."""
    text = ctx.nlu.text if ctx.nlu else msg.text
    if DECLINE_PHONE.search(text) or TAKE_BACK.search(text):
        return True
    return bool(phones(text.replace(" ", ""))) and not is_problem(text, ctx.nlu)


def phone_step(msg: Message, ctx: Context, state: State) -> Answer:
    ctx.conversation.clear()
    complaint = store.get(ctx.session, state.data["complaint_id"])
    if TAKE_BACK.search(ctx.nlu.text if ctx.nlu else msg.text):   # "不用处理了" asked for a phone: the ticket is taken back
        if complaint is not None and complaint.status in store.OPEN_STATUSES and not complaint.merged_into:
            return _withdraw(ctx, complaint, msg.text.strip())
    found = phones(msg.text.replace(" ", ""))
    if not found:
        return texts.PHONE_DECLINED
    if complaint is not None and not complaint.contact_phone:
        complaint.contact_phone = found[0]
    if ctx.user is not None:
        ctx.user.phone = found[0]
    return texts.PHONE_SAVED


def phone_cancelled(msg: Message, ctx: Context, state: State) -> Answer:
    ctx.conversation.clear()
    return texts.PHONE_DECLINED


# --- the enterprise behind a ticket filed by an unverified user: a claim, never a link ---

def enterprise_accepts(msg: Message, ctx: Context, state: State) -> bool:
    text = ctx.nlu.text if ctx.nlu else msg.text
    if identity.find_code(msg.text) or DECLINE_ENTERPRISE.search(text):
        return True
    if re.match(r"^(还有|另外|对了|顺便)", text) or (matter.read(text).has_problem and alnum_count(text) > 20):
        return False     # "还有个事，3号楼的消防通道被…堵死了": another matter, not the name asked for
    if _enterprise_named(ctx, text) is not None or match_company(text, ()) is not None:
        return True
    nlu = ctx.nlu
    if nlu is not None and nlu.intent not in ("other", "complaint.file") and nlu.confidence >= 0.7:
        return False     # a request of its own (政策, 早茶会, 转人工, 谢谢…)
    if re.search(r"[?？吗呢谢]|你|什么|怎么|哪|还有|另外|对了", text) or not 2 <= alnum_count(text) <= 20 \
            or matter.read(text).has_problem:
        return False
    return bool(COMPANY_WORDS.search(text)) or (nlu is not None and nlu.confidence < 0.95)


def enterprise_name(msg: Message, ctx: Context, state: State) -> Answer:
    complaint = store.get(ctx.session, state.data["complaint_id"])
    ctx.conversation.clear()
    if complaint is None:
        return ctx.reroute(msg)
    code = identity.find_code(msg.text)
    if code:
        reply = membership.redeem_code(ctx.services, ctx.session, msg, ctx.user, code)
        if ctx.user.enterprise_id is not None and complaint.enterprise_id is None:
            complaint.enterprise_id = ctx.user.enterprise_id
        return reply
    text = ctx.nlu.text if ctx.nlu else msg.text
    found = phones(msg.text.replace(" ", ""))
    if found and not complaint.contact_phone:
        complaint.contact_phone = found[0]
        if ctx.user is not None and not ctx.user.phone:
            ctx.user.phone = found[0]
    if DECLINE_ENTERPRISE.search(text):
        return texts.ENTERPRISE_SKIPPED.format(ticket=complaint.ticket_no)
    enterprise = _enterprise_named(ctx, text)
    also = [c for c in (store.get(ctx.session, i) for i in state.data.get("complaint_ids", []))
            if c is not None and c.id != complaint.id and c.enterprise_id is None and not c.claimed_enterprise]
    if enterprise is None:
        told = _mask(msg.text)[:40]
        for each in [complaint, *also]:
            service.add_note(ctx.session, each, texts.NOTE_ENTERPRISE_TOLD.format(text=told), "user")
        return texts.ENTERPRISE_NOTED.format(text=told, ticket=complaint.ticket_no) + _ask_phone(msg, ctx, complaint)
    for each in also:
        each.claimed_enterprise = enterprise.name
    claimed = _claim_enterprise(ctx, complaint, enterprise).lstrip("\n")
    if also:
        claimed = claimed.replace(complaint.ticket_no, "、".join(c.ticket_no for c in [*also, complaint]), 1)
    return claimed + _ask_phone(msg, ctx, complaint)


def _enterprise_named(ctx, text: str):
    """The roster enterprise the text names (exactly or nearly), or None."""
    name = match_company(text, enterprises.names(ctx.session))
    return enterprises.by_name(ctx.session, name) if name else None


# A message that only says which company the writer is from.
# "不好意思说错了，" before the name: the name told a moment ago is corrected
NAME_CORRECTED = re.compile(r"^(?:(?:不好意思|抱歉|对不起|sorry)[,，]?)?(?:刚才|刚刚)?"
                            r"(?:(?:说|写|打|搞|讲)错了|不对|更正一下|纠正一下)[,，。!！\s]*")
NAME_LEAD = re.compile(r"^[^，,。!！?？]{1,12}[，,。!！]+\s*")   # "算了还是说一下，" before "我们是…公司"
ONLY_OUR_NAME = re.compile(r"^(我们是|我是|我们公司是|我们公司叫|我司是|本公司是|我们厂是|我们单位是)[^，,。!！?？]{2,40}"
                           r"(有限责任公司|有限公司|公司|厂|集团|工作室|商行|合作社)(的)?[。.!！~]*$")


def _our_name_told(msg, ctx, text: str) -> str:
    """The enterprise goes on the ticket just filed (a claim, as the answer to "贵公司全称?" does); with no such
    ticket, how to bind one."""
    named = _self_named(ctx, text)
    recent = _focus(ctx)
    if named is not None and recent is not None and recent.user_ref == ctx.user_ref and recent.enterprise_id is None:
        return _claim_enterprise(ctx, recent, named)
    return texts.NAME_NOTED.format(name=(named.name if named is not None else msg.text.strip()[:40]))


def _self_named(ctx, text: str):
    """The roster enterprise the filer says they are from ("我是鼎盛物流的，…"), or None; an enterprise
    the complaint is about ("隔壁宏图建材的货车…") is not the filer's."""
    if not SELF_INTRODUCED.search(text):
        return None
    return _enterprise_named(ctx, text[:SELF_INTRODUCED.search(text).end() + 30])


def _claim_enterprise(ctx, complaint, enterprise, quiet: bool = False) -> str:
    complaint.claimed_enterprise = enterprise.name
    if ctx.user is not None and ctx.user.enterprise_id is None:
        pending = identity.pending_claim(ctx.session, ctx.user.id)
        # a name told for this very ticket before ("说错了，我们是…") is corrected; a claim made elsewhere stays
        if pending is None or pending.ticket_no == complaint.ticket_no:
            identity.file_claim(ctx.session, ctx.user, enterprise, "complaint", complaint.ticket_no)
    if quiet:
        return texts.ENTERPRISE_FROM_MESSAGE.format(name=enterprise.name)
    return texts.ENTERPRISE_CLAIMED.format(ticket=complaint.ticket_no, name=enterprise.name)


def _mask(text: str) -> str:
    for phone in phones(text.replace(" ", "")):
        text = text.replace(phone, phone[:3] + "****" + phone[-4:])
    return text


def enterprise_reask(ctx: Context, state: State) -> str:
    return texts.REASK_ENTERPRISE


# --- status queries: by number, by description, or the list ---

@router.route(intent("complaint.status") | regex(r"^(查询|查)\s*ts\d{13}$"))
def status(msg: Message, ctx: Context) -> Answer:
    if _a_new_problem(ctx):
        return file_complaint(msg, ctx)
    answer, choice = _status_answer(msg, ctx)
    if msg.is_group:
        return _privately(msg, ctx, answer, choice)
    if choice:
        ctx.conversation.start(CHOICE_FLOW, "pick", {"ids": choice})
    return answer


def _a_new_problem(ctx) -> bool:
    """"另外仓库屋顶漏雨，货都湿了，有事打我139…" taken for a status question: no question about an earlier
    matter in it, a specific problem, and no ticket it names."""
    nlu = ctx.nlu
    text = nlu.text
    if re.match(r"^(还有个事|还有件事|还有一个事|还有一件事|另外|还有)", text):   # "还有个事，东门那个路灯也坏了"
        return matter.read(text).has_problem and not nlu.slots.get("ticket_ids")
    if nlu.intent != "complaint.status" or nlu.slots.get("ticket_ids") or STATUS_CUE.search(text) \
            or ANAPHORA.search(text) or re.search(r"^我的|诉求|工单", text):
        return False
    return matter.read(text).has_problem and alnum_count(text) >= 8 and not _matching_tickets(ctx, text)


def _privately(msg, ctx, answer: str, choice=None) -> str:
    """A ticket's details are the enterprise's business, not the whole group's: they go to the asker
    alone (a WeCom member through the WeCom app), or, when nobody can be reached privately, nowhere."""
    if outbound.can_push_privately(ctx.services, msg.channel, msg.user_id):
        jobs.queue_push(ctx.services, ctx.session, msg.channel, msg.user_id, answer, title=texts.STATUS_PUSH_TITLE)
        if choice:     # the answer ("2") comes in the private chat: the choice waits there
            ConversationStore(ctx.services.redis, channel=msg.channel, user_id=msg.user_id,
                              flows=ctx.conversation.flows).start(CHOICE_FLOW, "pick", {"ids": choice})
            return texts.CHOICE_SENT_PRIVATELY
        return texts.STATUS_SENT_PRIVATELY
    return texts.STATUS_ASK_PRIVATELY


def _status_answer(msg, ctx) -> tuple[str, list | None]:
    """(the answer, the ids to choose among when the description fits several tickets)."""
    filer = identity.filer(ctx.session, ctx.user_ref)
    enterprise_id, user_ref = _owner(ctx, filer)
    text = ctx.nlu.text
    ticket_ids = ctx.nlu.slots.get("ticket_ids") or []
    if ticket_ids:
        complaint = _visible_ticket(ctx, ticket_ids[0], (enterprise_id, user_ref))
        if complaint is None:
            return texts.NOT_FOUND.format(ticket=ticket_ids[0]), None
        return _describe(ctx, complaint), None
    mine = _owned_tickets(ctx, filer, enterprise_id, user_ref)
    if not mine:
        return (texts.NONE_OPEN if enterprise_id is not None else texts.NONE_OPEN_OWN), None
    question = matter.read(text)
    rest = matter.read(STATUS_CUE.sub("", text))       # "咁而家系咩状态": nothing named, the ticket talked about
    bare = bool(STATUS_CUE.search(text)) and alnum_count(rest.text) <= BARE_STATUS_REST \
        and not (rest.strong or rest.weak or rest.places)
    focus = _focus(ctx, mine) if ANAPHORA.search(text) or bare else None
    if bare or not matter.is_specific(question):
        if focus is not None:
            return _describe(ctx, focus), None
        return _listing(ctx, mine, enterprise_id), None
    found = matter.best_matches(question, mine, {c.id: _matter_of(c) for c in mine})
    if len(found) > 1 and focus is not None and focus in found and JUST_NOW.search(text):
        found = [focus]
    if not found:
        return texts.NO_MATCH, None
    if len(found) == 1:
        return _describe(ctx, found[0]), None
    found = sorted(found, key=lambda c: c.id)      # in the order they were filed: "第一个" is the older
    return _choice_text(found), [c.id for c in found]


def _matching_tickets(ctx, text: str) -> list:
    """The owner's tickets a description fits (none when it names none)."""
    filer = identity.filer(ctx.session, ctx.user_ref)
    enterprise_id, user_ref = _owner(ctx, filer)
    mine = _owned_tickets(ctx, filer, enterprise_id, user_ref)
    question = matter.read(text)
    if not mine or not matter.is_specific(question):
        return mine if ANAPHORA.search(text) else []
    return matter.best_matches(question, mine, {c.id: _matter_of(c) for c in mine})


def _owned_tickets(ctx, filer, enterprise_id, user_ref) -> list:
    """The owner's latest 50 tickets not merged away (none to read for a user who owns no ticket)."""
    if filer is None or not filer.has_tickets:
        return []
    return [c for c in store.of_owner(ctx.session, enterprise_id, user_ref, limit=50) if not c.merged_into]


def _matter_of(complaint) -> matter.Matter:
    return matter.read(" ".join(service.tellings(complaint)), complaint.category)


def _listing(ctx, mine, enterprise_id) -> str:
    active = [c for c in mine if c.status in store.ACTIVE_STATUSES]
    if not active:
        return _describe(ctx, mine[0])
    if len(active) == 1 and len(mine) == 1:
        return _describe(ctx, active[0])
    head = texts.MY_LIST_HEAD if enterprise_id is not None else texts.MY_LIST_HEAD_OWN
    lines = [head] + [texts.MY_LIST_ITEM.format(
        ticket=c.ticket_no, status=texts.STATUS_NAMES[c.status], category=c.category,
        summary=_summary(c, 24)) for c in active[:8]]
    return "\n".join(lines) + texts.MY_LIST_TAIL


def _choice_text(found) -> str:
    lines = [texts.CHOOSE_HEAD.format(n=len(found))]
    lines += [texts.CHOOSE_ITEM.format(n=n, summary=_summary(c, 30), status=texts.STATUS_NAMES[c.status],
                                       day=clock.to_local(c.created_at).strftime("%m-%d"))
              for n, c in enumerate(found, 1)]
    return "\n".join(lines)


def _summary(complaint, limit: int) -> str:
    text = " ".join(f"{service.place_not_told(complaint)} {complaint.description}".split())
    return text if len(text) <= limit else text[:limit] + "…"


def _describe(ctx, complaint) -> str:
    set_focus(ctx, complaint)
    return describe(complaint)


def _status_name(complaint) -> str:
    """已撤回 for a ticket its owner took back (closed by a "withdrawn" event, not reopened since)."""
    moves = [e.kind for e in complaint.events if e.kind in ("withdrawn", "status", "reopened", "merged")]
    if complaint.status == "closed" and moves and moves[-1] == "withdrawn":
        return texts.STATUS_WITHDRAWN
    return texts.STATUS_NAMES[complaint.status]


def describe(complaint) -> str:
    text = texts.STATUS_LINE.format(ticket=complaint.ticket_no, status=_status_name(complaint),
                                    summary=_summary(complaint, 40), category=complaint.category,
                                    department=complaint.department, due=complaint.due.isoformat())
    if complaint.extended:
        text += texts.STATUS_EXTENDED
    public = [e for e in complaint.events if e.public and e.kind != "filed"]
    if public:
        last = public[-1]
        text += texts.STATUS_LAST_REPLY.format(at=clock.to_local(last.at).strftime("%m-%d"), text=last.text[:200])
    return text


@router.route(regex(r"^我的(诉求|工单|投诉)"))
def my_tickets(msg: Message, ctx: Context) -> Answer:
    return status(msg, ctx)


# --- "which one?" after a description that fits several tickets ---

BOTH = re.compile(r"^(都要|都看看|都看|全部|两个都|两件都|都是|都查|都说说|全都)")


def choice_accepts(msg: Message, ctx: Context, state: State) -> bool:
    return bool(BOTH.match(ctx.nlu.text if ctx.nlu else "")) or _picked(ctx, state) is not None


def _picked(ctx, state):
    text = (ctx.nlu.text if ctx.nlu else "").strip().rstrip("。.!！~")
    ids = state.data.get("ids") or []
    number = CHOICE_NUMBER.match(text)
    if number:
        n = number.group(1)
        n = int(n) if n.isdigit() else CHINESE_DIGITS[n]
        return ids[n - 1] if 1 <= n <= len(ids) else None
    if re.match(r"^(最后|后面|下面)(那|一)?(个|件)", text):
        return ids[-1] if ids else None
    if re.match(r"^(前面|上面|第一)(那|一)?(个|件)", text):
        return ids[0] if ids else None
    tickets = [c for c in (store.get(ctx.session, i) for i in ids) if c is not None]
    if not tickets:
        return None
    found = matter.best_matches(matter.read(text), tickets, {c.id: _matter_of(c) for c in tickets})
    return found[0].id if len(found) == 1 else None


def choice_step(msg: Message, ctx: Context, state: State) -> Answer:
    ctx.conversation.clear()
    if BOTH.match(ctx.nlu.text if ctx.nlu else ""):
        found = [c for c in (store.get(ctx.session, i) for i in state.data.get("ids") or []) if c is not None]
        return "\n\n".join(_describe(ctx, c) for c in found) or ctx.reroute(msg)
    complaint = store.get(ctx.session, _picked(ctx, state))
    return _describe(ctx, complaint) if complaint is not None else ctx.reroute(msg)


def choice_reask(ctx: Context, state: State) -> str:
    return texts.REASK_CHOOSE.format(n=len(state.data.get("ids") or []))


# --- the ticket talked about last ("刚才那个…") ---

def _focus_key(msg) -> str:
    return f"complaint-focus:{msg.channel}:{msg.chat_id or '-'}:{msg.user_id}"


def set_focus(ctx, complaint) -> None:
    """The ticket "刚才那个", "咁而家系咩状态" and "不用处理了" refer to next (any feature that files one sets it)."""
    lenient(ctx.services.redis).set(_focus_key(ctx.msg), str(complaint.id), ex=FOCUS_TTL_S)


def _focus(ctx, mine=None):
    raw = lenient(ctx.services.redis).get(_focus_key(ctx.msg))
    if not raw:
        return None
    try:
        complaint = store.get(ctx.session, int(raw))
    except (TypeError, ValueError):
        return None
    if complaint is None or (mine is not None and complaint not in mine):
        return None
    return complaint


@router.route(regex(r"^(是|是的|对|对的|确认|确定|好的确认)$"))
def confirm_nothing_pending(msg: Message, ctx: Context) -> Answer:
    """是 / 确认 with no question pending: there is nothing to confirm (no signup, no link, no ticket)."""
    return texts.NOTHING_TO_CONFIRM


@router.route(regex(r"^(帮我|麻烦)?登记(一下)?(吧)?$"))
def register_nothing_pending(msg: Message, ctx: Context) -> Answer:
    """登记 with no question pending: nothing to file (and never a meeting signup)."""
    recent = _focus(ctx)
    if recent is not None and recent.user_ref == ctx.user_ref:
        return texts.ALREADY_REGISTERED.format(ticket=recent.ticket_no, status=texts.STATUS_NAMES[recent.status])
    return texts.NOTHING_TO_REGISTER


# --- the return visit (回访): the rating after "resolved" ---

def parse_rating(text: str, raw: str = "") -> tuple[int, str] | None:
    """"5", "4分吧", "五星", "刚才那个评价，给4分吧", "非常满意，师傅很给力", "不太满意，灯又灭了", "唔滿意" (the
    normalised text), or emoji alone in `raw` ("👍👍", "👎") → (score, comment)."""
    text = text.strip()
    if not text:
        return _emoji_rating(raw)
    corrected = after_correction(text)    # "给2分……算了算了，还是给4分吧": the score said last counts
    if corrected is not None and corrected != text:
        revised = parse_rating(corrected)
        if revised is not None:
            return revised
    match = RATING_NUMBER.match(text) or RATING_SCORE_INSIDE.search(text)
    if match:
        digit, rest = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        score = int(digit) if digit.isdigit() else CHINESE_DIGITS[digit]
        return score, _comment(rest or "")
    last = RATING_SCORE_LAST.search(text)
    if last:      # "都ok嘅，三分啦": what was said, then the score
        digit = last.group(1)
        return (int(digit) if digit.isdigit() else CHINESE_DIGITS[digit]), _comment(text[:last.start()])
    text = NEGATED_SATISFIED.sub("不", re.sub(r"不好意思|你好|您好", " ", text))
    found = [(text.find(word), -len(word), word, score) for word, score in RATING_WORDS if word in text]
    if not found:
        return None
    # "刚才态度不好不好意思，…，非常满意": a 满意 word answers the question; 不好/不错 may be about anything
    start, _, word, score = min([f for f in found if "满意" in f[2]] or found)
    return score, _comment(text[:start] + text[start + len(word):])


def _emoji_rating(raw: str) -> tuple[int, str] | None:
    symbols = {c for c in raw if not c.isspace() and c not in "\ufe0f\u200d" and not 0x1F3FB <= ord(c) <= 0x1F3FF}
    if symbols and symbols <= set(RATING_EMOJI):
        return min(RATING_EMOJI[c] for c in symbols), ""     # 👍 with 👎 is not praise
    return None


def _comment(text: str) -> str:
    """What the owner added to the rating, without the particles around it."""
    text = re.sub(r"^(吧|啊|呀|啦|哈|了)+", "", text.strip(" ,，。.!！~")).strip(" ,，。.!！~")
    return "" if re.fullmatch(r"(吧|啊|呀|了|哈|哦|好评|差评|分|星)*", text) else text


def rating_accepts(msg: Message, ctx: Context, state: State) -> bool:
    complaint = store.get(ctx.session, state.data["complaint_id"])
    if complaint is None or complaint.status != "resolved":
        return True           # nothing to rate any more: the step lets the message through
    return parse_rating(ctx.nlu.text if ctx.nlu else msg.text, msg.text) is not None


def rating_step(msg: Message, ctx: Context, state: State) -> Answer:
    complaint = store.get(ctx.session, state.data["complaint_id"])
    if complaint is None or complaint.status != "resolved":
        ctx.conversation.clear()          # nothing to rate any more: treat it as a new message
        return ctx.reroute(msg)
    parsed = parse_rating(ctx.nlu.text if ctx.nlu else msg.text, msg.text)
    if parsed is None:
        return texts.RATING_ASK_AGAIN.format(ticket=complaint.ticket_no)
    ctx.conversation.clear()
    set_focus(ctx, complaint)
    return service.rate(ctx.services, ctx.session, complaint, parsed[0], parsed[1])


def rating_reask(ctx: Context, state: State) -> str | None:
    complaint = store.get(ctx.session, state.data["complaint_id"])
    if complaint is None or complaint.status != "resolved":
        return None
    return texts.REASK_RATING.format(ticket=complaint.ticket_no)


# --- a long message nobody understood: offer to file it as told ---

def file_if_told(msg, ctx) -> str | None:
    """A message the model was unsure of that tells a problem and where it is ("南区食品产业园B栋前面那条路 最近破一个
    大洞"): filed at once, as a sure one would be. Not unmentioned in groups."""
    told = matter.read(ctx.nlu.text if ctx.nlu else msg.text)
    if (msg.is_group and not msg.mentioned) or msg.msg_type != "text" or not told.has_problem or not told.places:
        return None
    return _file(msg, ctx, msg.text)


def offer_filing(msg, ctx) -> str | None:
    """Problems come in words no rule knows; rather than lose one, offer to file the message as it is
    (one reply: "登记"). Not in groups, not for short messages."""
    if msg.is_group or msg.msg_type != "text" or alnum_count(msg.text) < OFFER_MIN_CHARS:
        return None
    ctx.conversation.start("complaint_offer", "confirm", {"text": msg.text[:4000]})
    return texts.OFFER_FILING


def offer_confirm(msg: Message, ctx: Context, state: State) -> Answer:
    """The offer is answered by the next message only: 登记 files, 不用 declines, anything else lets it lapse."""
    ctx.conversation.clear()
    answer = (ctx.nlu.text if ctx.nlu else msg.text).strip()
    if YES_FILE.match(answer):
        return _file(msg, ctx, state.data["text"])
    if NO_FILE.match(answer):
        return texts.OFFER_DECLINED
    return ctx.reroute(msg)


FLOWS = [
    Flow("complaint_offer", "登记诉求", {"confirm": offer_confirm}, accepts=lambda msg, ctx, state: True,
         optional=True),
    Flow("complaint_guided", "反映问题", {"what": guided_what, "where": guided_where, "phone": guided_phone},
         accepts=guided_accepts, reask=guided_reask),
    Flow("complaint_phone", "留联系电话", {"phone": phone_step}, accepts=phone_accepts, optional=True,
         on_cancel=phone_cancelled),
    Flow("complaint_enterprise", "登记企业名称", {"name": enterprise_name}, accepts=enterprise_accepts,
         reask=enterprise_reask),
    Flow(CHOICE_FLOW, "选择诉求", {"pick": choice_step}, accepts=choice_accepts, reask=choice_reask, optional=True),
    # Started by the complaints service when a ticket is resolved (from chat, console or CLI alike).
    Flow(service.RATING_FLOW, "评价", {service.RATING_STEP: rating_step}, accepts=rating_accepts,
         reask=rating_reask, timeout_s=service.RATING_FLOW_TIMEOUT_S),
]

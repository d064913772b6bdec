"""Policies in the chat: answer questions honestly (what fits, or that nothing does), ask which policy an
unnamed payout question means, expand one, what suits us, payouts and 催办, subscriptions, staff broadcasts."""
from __future__ import annotations

import re

from bot.broadcasts import service as broadcasts
from bot.chat.context import Answer, Context
from bot.chat.conversation import Flow, State
from bot.chat.message import Message
from bot.chat.router import Matcher, Router, intent, regex, staff_only
from bot.complaints import matter as complaints_matter
from bot.complaints import service as complaints
from bot.policies import service as policies
from bot.policies import texts
from handlers.complaints import HAPPENING, set_focus
from nlp.intents import INTENTS
from nlp.normalize import alnum_count
from nlp.slots import policy_topics
from storage import policies as store

router = Router("policies")
# Routes that go before the complaints' (handlers/__init__.py): "催办吧 拖太久了" right after a payout answer,
# "贷款那个找哪个单位办" right after a policy answer — the model hears a ticket's status in both.
before_complaints = Router("policies.before_complaints")
# A question about what was just shown, not a new one: "那要准备什么材料", "这个找谁办", "截止到什么时候".
FOLLOW_UP = re.compile(r"^(那|这个|那个|它|这项|那项|要|需要|得|还要|请问这)|材料|资料|流程|条件|截止|多少钱|金额|找谁|电话|"
                       r"怎么(申请|办|领|报)|在哪(里|儿)?(办|申请|报|填|交)|哪里(办|申请|报|填|交)|哪个部门|几多|最多|最高")
ORDINALS = {"1": 0, "一": 0, "2": 1, "二": 1, "3": 2, "三": 2, "4": 3, "四": 3, "5": 4, "五": 4}
ORDINAL = re.compile(r"^(就是|是)?第?([1-5一二三四五])(个|条|项|种|号)?(吧|啊|呀)?[!.。]*$")
# "我订阅了哪些", "看看我的订阅", "我都订了些什么": what the user receives (never a new subscription).
SUBSCRIPTIONS_ASKED = (r"(订阅|订|定阅)(了|过|咗)(哪些|什么|啥|几个|些|哪几|没有?|吗|么|啲咩|咩|边啲)|都订了|"
                       r"(订阅|订|定阅)的(是|都是|有)?(哪些|什么|啥|哪几|咩|边啲)|"
                       r"(我的|查看|查询|看看|看下|看一下)(政策)?(订阅|推送)(了|的)?(哪些|什么|啥|情况|列表|内容)?$|"
                       r"订阅(情况|状态|列表|内容)|(收|接收)(哪些|什么)(政策)?推送|"
                       r"(有没有|有|是否|是不是)(已经)?(订阅|订|定阅)(了|过)?[^，,。]{0,8}(吗|么|没有?)$")


def _remember(ctx: Context, ids: list[int], question: str, kind: str = "answer", ticket: str = "") -> None:
    """What this user was shown, through the message's own Redis keys (folded into its reply's round trip
    when the dispatcher fetched the key with the claim)."""
    policies.remember_answer(ctx.services, ctx.msg, ids, question, kind, ticket, keys=ctx.user_keys)


def _last(ctx: Context) -> dict:
    return policies.last_answer(ctx.services, ctx.msg, keys=ctx.user_keys)


@router.route(regex(r"^(查看)?(第?[123一二三]条|详细|详情)[!.。]*$"))
def expand(msg: Message, ctx: Context) -> Answer:
    ids = _last(ctx).get("ids") or []
    found = re.search(r"[123一二三]", ctx.nlu.text)
    position = ORDINALS[found.group(0)] if found else 0
    if not ids:
        return texts.NO_DETAIL
    if position >= len(ids):      # "第2条" when one was found: that one, said so
        if len(ids) > 1:
            return texts.ONLY_SO_MANY.format(count=len(ids))
        only = policies.get(ctx.services, ctx.session, ids[0])
        return texts.ONLY_ONE + policies.detail(only) if only else texts.NO_DETAIL
    policy = policies.get(ctx.services, ctx.session, ids[position])
    if policy is None:
        return texts.NO_DETAIL
    _remember(ctx, [policy.id], msg.text)      # "那要什么材料", "钱什么时候到" now mean this one
    return policies.detail(policy)


# "那要找哪个单位问比较快？" right after a policy answer: whom to ask about it, whatever the model made of it.
ASKS_WHOM = re.compile(r"(找|搵|揾|问|向|跟|同)(哪个|哪|什么|边个|边)?\s*(单位|部门|人|谁|边个|department|dept)|"
                       r"哪个(单位|部门|科室)|边个(单位|部门)|联系(谁|方式|电话)|电话(是)?多少|问谁|打(哪个)?电话|(去|喺)?(哪里|边度|哪儿)(申请|办|报)")
WHOM_REST_CHARS = 6   # "咁要搵边个申请", "贷款那个找哪个单位办": once the asking is gone, little is left


def _asks_whom_about_last_policy(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    if nlu is None or not ASKS_WHOM.search(nlu.text):
        return False
    rest = ASKS_WHOM.sub("", nlu.text)
    asks_who = nlu.intent == "human" and re.search(r"谁|哪个|边个|多少", nlu.text) and not re.search(r"人工|工作人员", nlu.text)
    if nlu.intent not in ("other", "help", "smalltalk") and not asks_who and not (
            nlu.intent in ("policy.query", "complaint.status") and alnum_count(rest) <= WHOM_REST_CHARS):
        return False       # "贷款那个找哪个单位办" reads like a ticket's status; after a policy answer it is not
    last = _last(ctx)
    return bool(last.get("ids")) and last.get("kind") in ("answer", "payout", "chased")


@before_complaints.route(Matcher(_asks_whom_about_last_policy, "asks_whom_about_last_policy"))
def whom_to_ask(msg: Message, ctx: Context) -> Answer:
    """The policy just shown, in full: its department and contact are in it."""
    seen = _last(ctx)["ids"]
    shown = [p for p in (policies.get(ctx.services, ctx.session, i) for i in seen[:3]) if p]
    if len(shown) == 1:
        return policies.detail(shown[0])
    if not shown:
        return texts.NO_DETAIL
    # "咁要搵边个申请？" after a list: whom to ask about each, rather than asking back which one was meant
    return "\n".join([texts.WHOM_HEAD] + [
        texts.WHOM_ITEM.format(n=n, title=policies.shown(p.title), issuer=p.issuer or "园区", contact=p.contact or "—")
        for n, p in enumerate(shown, 1)])


# "我们是做软件开发的 研发投入挺多 能享受吗", "钱啥时候能到 急用" right after one policy was shown: about that one.
ASKS_ELIGIBLE = re.compile(r"(能|可以|可不可以|能不能|可唔可以|得唔得)(享受|申请|申报|报|拿|领|用)|符合(条件|吗|不|么)|"
                           r"够(条件|格)|有(资格|份)|算不算|适用(吗|不|么)|(行|得)不行|合资格")
FOLLOW_UP_CHARS = 12   # "在哪里填报？": a short question about what was just shown, whatever the model made of it


def _the_one_policy_shown(ctx: Context) -> int | None:
    """The policy a follow-up is about: the one just shown, or the one of a short list the follow-up or the
    question before it singles out ("补贴最多有几多" after a subsidy and a tax refund); else None."""
    last = _last(ctx)
    ids = last.get("ids") or []
    if not ids or last.get("kind") not in ("answer", "payout", "chased"):
        return None
    if len(ids) == 1:
        return ids[0]
    meant = policies.meant_among(ctx.services, ctx.session, ids[:3], ctx.nlu.text if ctx.nlu else ctx.msg.text,
                                 last.get("question") or "")
    return meant.id if meant is not None else None


def _about_the_policy_shown(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    if nlu is None or nlu.intent not in ("policy.query", "other", "help", "smalltalk"):
        return False
    asks_more = nlu.intent != "policy.query" and FOLLOW_UP.search(nlu.text) and alnum_count(nlu.text) <= FOLLOW_UP_CHARS
    if not (ASKS_ELIGIBLE.search(nlu.text) or policies.PAYOUT.search(nlu.text) or asks_more):
        return False
    shown = _the_one_policy_shown(ctx)
    if shown is None:
        return False
    hits = policies.read(ctx.services, ctx.session, nlu.text).hits
    # another policy named, and not this one: that one is answered ("…签了两年的contract，上云补贴能享受吗" also
    # finds the rent policy through 合同, but names the one shown)
    return not hits or any(policy.id == shown for policy, _ in hits)


# "截止到什么时候" right after a policy was shown: the model hears a meeting's date or a ticket's status in it;
# short, naming neither, it asks about the policy.
OTHER_FEATURES = re.compile(r"早茶|会|报名|工单|诉求|投诉|反映|ts\d|订阅|推送")


def _follow_up_heard_elsewhere(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    return (nlu is not None and nlu.intent in ("meeting.info", "complaint.status")
            and FOLLOW_UP.search(nlu.text) is not None and alnum_count(nlu.text) <= FOLLOW_UP_CHARS
            and not OTHER_FEATURES.search(nlu.text) and _last(ctx).get("kind") == "answer"
            and _the_one_policy_shown(ctx) is not None)


# "我们是去年底新搬进标准厂房的，签了五年" right after one policy was shown: the enterprise's situation, told to
# know whether it qualifies — not a problem, though the model may hear one in it.
OUR_SITUATION = re.compile(r"^(我们|我司|我们公司|我们厂|本公司|咱们)(是|刚|去年|今年|前年|在|有|已经|一直|属于)")


def _tells_our_situation(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    return (nlu is not None and nlu.intent == "complaint.file" and OUR_SITUATION.match(nlu.text) is not None
            and not complaints_matter.read(nlu.text).has_problem and _the_one_policy_shown(ctx) is not None)


# "我们下个月搬进园区标准厂房，签了五年，rent能减免吗": the situation, then whether a benefit applies — a policy
# question the model took for a complaint, its second guess a policy question (no problem is named in it).
BENEFIT_ASKED = re.compile(r"(能|可以|可不可以|能不能|可唔可以)(减免|享受|申请|申报|报|拿|领|补|退)[^，,。]{0,6}"
                           r"(吗|么|不|嘛|㗎|呀|啊|呢)?[?？]?$|有(没有|冇|无)[^，,。]{0,10}(补贴|政策|优惠|减免|奖励|扶持|补助)[^，,。]{0,3}[?？]?$")


def _asks_about_a_benefit(msg: Message, ctx: Context) -> bool:
    nlu = ctx.nlu
    return (nlu is not None and nlu.intent == "complaint.file"
            and nlu.runner_up == "policy.query" and BENEFIT_ASKED.search(nlu.text) is not None
            and not (complaints_matter.read(nlu.text).has_problem and HAPPENING.search(nlu.text)))   # 租金 is no fault


@before_complaints.route(Matcher(_asks_about_a_benefit, "asks_about_a_benefit"))
def benefit_question(msg: Message, ctx: Context) -> Answer:
    return query(msg, ctx)


@before_complaints.route(Matcher(_tells_our_situation, "tells_our_situation"))
@before_complaints.route(Matcher(_follow_up_heard_elsewhere, "follow_up_heard_elsewhere"))
@router.route(Matcher(_about_the_policy_shown, "about_the_policy_shown"))
def about_the_policy_shown(msg: Message, ctx: Context) -> Answer:
    """Whether we qualify (its eligibility, in its detail) or when its money comes (its payout)."""
    policy = policies.get(ctx.services, ctx.session, _the_one_policy_shown(ctx))
    if policy is None:
        return texts.NO_DETAIL
    if policies.PAYOUT.search(ctx.nlu.text):
        _remember(ctx, [policy.id], msg.text, kind="payout")
        return policies.payout(policy)
    _remember(ctx, [policy.id], msg.text)      # the next follow-up means this one, not the list before
    return policies.detail(policy)


@router.route(regex(r"(哪些|什么|有啥)政策.{0,8}(适合|符合|能享受|可以享受|能申请|可以申请)|适合我们的政策|我们能享受(哪些|什么)|"
                    r"(能|可以)享受(哪些|什么)政策"))
def suitable(msg: Message, ctx: Context) -> Answer:
    told = policies.read(ctx.services, ctx.session, ctx.nlu.text)
    if told.hits:   # "我们是高新技术企业，去年研发投入300万，能享受什么政策": what they told of themselves decides
        _remember(ctx, [p.id for p, _ in told.hits], msg.text)
        return policies.answer_hits([p for p, _ in told.hits])
    enterprise = ctx.user.enterprise if ctx.user else None
    if enterprise is None:
        return texts.FIT_NEED_ENTERPRISE
    found = policies.suitable(ctx.session, enterprise, services=ctx.services)
    if not found:
        return texts.FIT_NONE
    _remember(ctx, [p.id for p, _ in found[:5]], msg.text)
    profile = "、".join(policies.profile_words(enterprise))
    lines = [texts.FIT_HEAD.format(name=enterprise.name, profile=profile)]
    lines += [texts.FIT_ITEM.format(n=n, title=policies.shown(p.title), amount=p.amount or "见政策原文", why=why)
              for n, (p, why) in enumerate(found[:5], 1)]
    return "\n".join(lines + [texts.HITS_TAIL])


@router.route(regex(r"^(那|那就|好的?|行|嗯)?[,，]?(帮我|请)?(转咨询|转为咨询|转成咨询|提交咨询)"))
def consult(msg: Message, ctx: Context) -> Answer:
    """An unanswered policy question becomes a 咨询 ticket, answered by staff within 1 working day."""
    question = _last(ctx).get("question") or msg.text
    user = ctx.user
    complaint, _ = complaints.file(ctx.services, ctx.session, description=question, category="其他",
                                   source=msg.channel, kind="咨询", enterprise_id=user.enterprise_id if user else None,
                                   user_ref=ctx.user_ref)
    complaint.due = complaint.accept_due
    ctx.conversation.clear()
    set_focus(ctx, complaint)
    return texts.CONSULT_FILED.format(ticket=complaint.ticket_no, due=complaint.due.isoformat())


# --- staff broadcasts from the chat ---

BROADCAST = re.compile(r"^广播\s*(?P<target>(all|全部|所有人|(topic|tag|group|主题|订阅|标签|群)[:：]\S+)\s+)?"
                       r"(?P<title>[^\n:：]+)[\n:：]+(?P<body>[\s\S]+)$")
TARGET_KINDS = {"all": "all", "全部": "all", "所有人": "all", "topic": "topic", "主题": "topic", "订阅": "topic",
                "tag": "tag", "标签": "tag", "group": "group", "群": "group"}


def _target(raw: str) -> tuple[str, str]:
    """("topic:科技", "订阅“科技”政策的用户"): the target as the service reads it, and as staff read it."""
    kind, _, name = raw.replace("：", ":").partition(":")
    kind = TARGET_KINDS.get(kind.strip().lower(), "all")
    target = "all" if kind == "all" else f"{kind}:{name.strip()}"
    return target, texts.BROADCAST_TARGETS[kind].format(name=name.strip())


@router.route(regex(r"^广播") & staff_only())
def broadcast_preview(msg: Message, ctx: Context) -> Answer:
    """Staff: "广播 [主题:科技] 标题：正文" → preview with the recipient count → "确认"."""
    match = BROADCAST.match(msg.text.strip())
    if not match:
        return texts.BROADCAST_USAGE
    target, described = _target(match.group("target") or "all")
    try:
        count = len(broadcasts.recipients(ctx.session, target))
    except broadcasts.TargetError:
        return texts.BROADCAST_USAGE
    ctx.conversation.start("broadcast_confirm", "confirm", {"target": target, "title": match.group("title").strip(),
                                                             "body": match.group("body").strip()})
    return texts.BROADCAST_PREVIEW.format(title=match.group("title").strip(), target=described, count=count)


def broadcast_confirm(msg: Message, ctx: Context, state: State) -> Answer:
    if msg.text.strip() not in ("确认", "确定", "发送"):
        return texts.BROADCAST_CONFIRM_AGAIN
    ctx.conversation.clear()
    data = state.data
    created = broadcasts.create(ctx.services, ctx.session, data["title"], data["body"], data["target"],
                                created_by=f"{msg.channel}:{msg.user_id}")
    return texts.BROADCAST_STARTED.format(id=created.id)


# --- payouts and 催办 ---

CHASE = r"^(帮我|麻烦)?催(办|一下|一催)"
# "催办吧 拖太久了" right after a payout answer: the payout is chased, though the model hears a ticket's status
# question (the complaints' routes come first, so this router goes before them: handlers/__init__.py).


def _right_after_a_payout(msg: Message, ctx: Context) -> bool:
    return _last(ctx).get("kind") in ("payout", "unknown_payout", "chased")


def _not_held_back(msg: Message, ctx: Context) -> bool:
    """"催办……哦不对，先不用催": the hurrying taken back in the same message (nlp.revisions.holds_off)."""
    return ctx.nlu is None or not ctx.nlu.slots.get("hold_off")


@before_complaints.route(regex(r"催(办|一下|一催)") & Matcher(_right_after_a_payout, "right_after_a_payout")
                         & Matcher(_not_held_back, "not_held_back"))
@router.route(regex(CHASE) & Matcher(_not_held_back, "not_held_back"))
def chase_payout(msg: Message, ctx: Context) -> Answer:
    """A late payout the user wants the park to chase becomes a request (诉求) — only right after a
    payout was explained; anything else is asked about, never turned into a payout ticket."""
    last = _last(ctx)
    if last.get("kind") == "chased" and last.get("ticket"):
        return texts.CHASED_ALREADY.format(ticket=last["ticket"])
    if last.get("kind") == "unknown_payout":   # a payout of a policy the base does not hold: chased as told
        subject = last["question"]
    elif last.get("kind") == "payout" and last.get("ids"):
        policy = policies.get(ctx.services, ctx.session, last["ids"][0])
        subject = f"{policies.shown(policy.title) if policy else ''}（{last['question']}）"
    else:
        return texts.CHASE_WHAT
    user = ctx.user
    complaint, _ = complaints.file(ctx.services, ctx.session, description=f"政策兑现催办：{subject}",
                                   category="其他", source=msg.channel,
                                   enterprise_id=user.enterprise_id if user else None, user_ref=ctx.user_ref)
    _remember(ctx, last.get("ids") or [], last["question"], kind="chased",
                             ticket=complaint.ticket_no)
    set_focus(ctx, complaint)     # "咁而家系咩状态" next asks about this ticket
    return texts.CHASED.format(ticket=complaint.ticket_no, due=complaint.due.isoformat())


def _payout(msg: Message, ctx: Context, reading: policies.Reading) -> Answer:
    best = reading.clear_best()
    if best is not None:
        _remember(ctx, [best.id], msg.text, kind="payout")
        return policies.payout(best)
    if reading.hits:   # two policies fit about as well: which one?
        return _ask_which(msg, ctx, [p for p, _ in reading.hits], payout=True)
    if reading.named:   # a policy the base does not have: say so, never answer about another one
        _remember(ctx, [], msg.text, kind="unknown_payout")   # "催办" next: the park chases it all the same
        return texts.NO_FIT_PAYOUT.format(what=reading.what)
    last = _last(ctx)
    seen = last.get("ids") or []
    meant = _the_one_policy_shown(ctx)
    if meant is not None and (len(seen) > 1 or FOLLOW_UP.search(ctx.nlu.text)):
        # "那这个钱什么时候到账": about the policy just shown (or the one of a list the question singles out)
        policy = policies.get(ctx.services, ctx.session, meant)
        if policy is not None:
            _remember(ctx, [policy.id], msg.text, kind="payout")
            return policies.payout(policy)
    if not seen and last.get("kind") in ("none", "unknown_payout") and last.get("question") \
            and FOLLOW_UP.search(ctx.nlu.text):
        # "稳岗补贴是怎么回事" (not in the base), then "那个钱什么时候到账": the same policy's money
        _remember(ctx, [], f"{last['question']}（{msg.text}）", kind="unknown_payout")
        return texts.NO_FIT_PAYOUT.format(what=last["question"][:30])
    enterprise = ctx.user.enterprise if ctx.user else None
    candidates = policies.likely(ctx.services, ctx.session, msg.text, enterprise, seen)
    if not candidates:
        _remember(ctx, [], msg.text, kind="none")
        return texts.ASK_WHICH_NONE
    return _ask_which(msg, ctx, candidates, payout=True)


def _ask_which(msg: Message, ctx: Context, candidates: list, payout: bool) -> Answer:
    _remember(ctx, [], msg.text, kind="ask")
    ctx.conversation.start("policy_which", "which", {"ids": [p.id for p in candidates], "question": msg.text,
                                                     "payout": payout})
    options = "\n".join(texts.WHICH_ITEM.format(n=n, title=policies.shown(p.title), payout_mode=p.payout_mode)
                        for n, p in enumerate(candidates, 1))
    return (texts.ASK_WHICH if payout else texts.ASK_WHICH_TOPIC).format(options=options)


def which_accepts(msg: Message, ctx: Context, state: State) -> bool:
    """A number, or words that name a policy (or name one the base does not have)."""
    text = (ctx.nlu.text if ctx.nlu else msg.text).strip()
    if ORDINAL.match(text):
        return True
    nlu = ctx.nlu
    if nlu is not None and nlu.confidence >= 0.8 and nlu.intent not in ("policy.query", "other", "smalltalk", "help"):
        return False     # "以后有融资方面的政策也推给我": a request of its own, though it names a policy's field
    reading = policies.read(ctx.services, ctx.session, text)
    return bool(reading.hits) or (reading.named and ctx.nlu is not None
                                  and ctx.nlu.intent in ("policy.query", "other") and not reading.payout)


def which(msg: Message, ctx: Context, state: State) -> Answer:
    """The answer to "which policy?": a number, or the policy's name (any policy of the base)."""
    data, text = state.data, (ctx.nlu.text if ctx.nlu else msg.text).strip()
    ids, policy = data["ids"], None
    number = ORDINAL.match(text)
    if number:
        position = ORDINALS[number.group(2)]
        if position >= len(ids):
            return texts.WHICH_AGAIN.format(n=len(ids))
        policy = policies.get(ctx.services, ctx.session, ids[position])
    else:
        reading = policies.read(ctx.services, ctx.session, text)
        if reading.hits:
            policy = reading.clear_best() or reading.hits[0][0]
        elif reading.named and ctx.nlu is not None and ctx.nlu.intent in ("policy.query", "other"):
            ctx.conversation.clear()
            _remember(ctx, [], f"{data['question']}（{msg.text}）", kind="none")
            return (texts.NO_FIT_PAYOUT if data["payout"] else texts.NO_FIT).format(what=reading.what)
    ctx.conversation.clear()
    if policy is None:   # not an answer ("转人工", "谢谢", a new request): handled as what it is
        return ctx.reroute(msg)
    if data["payout"]:
        _remember(ctx, [policy.id], data["question"], kind="payout")
        return policies.payout(policy)
    _remember(ctx, [policy.id], data["question"])
    return policies.detail(policy)


# --- questions ---

@router.route(regex(SUBSCRIPTIONS_ASKED) & intent("policy.subscribe", "policy.unsubscribe", "policy.query", "other",
                                                  "help", "smalltalk"))
def subscriptions(msg: Message, ctx: Context) -> Answer:
    """What the user receives: answered, nothing subscribed or unsubscribed."""
    active = {topic for topic, on in store.subscriptions_of(ctx.session, ctx.user_ref).items() if on}
    if "" in active:
        return texts.SUBSCRIPTIONS_ALL
    if not active:
        return texts.SUBSCRIPTIONS_NONE
    return texts.SUBSCRIPTIONS_TOPICS.format(what="、".join(sorted(active)))


def answer_if_found(msg: Message, ctx: Context) -> str | None:
    """A question the model was unsure of whose words name one policy clearly ("就是失业保险那块 听说能返一部分？"):
    answered as a sure one would be; else None."""
    if ctx.nlu is None or (msg.is_group and not msg.mentioned):
        return None
    reading = policies.read(ctx.services, ctx.session, ctx.nlu.text)
    best = reading.clear_best()
    if best is None:
        return None
    _remember(ctx, [best.id], msg.text)
    return policies.answer_hits([best])


DETAIL_ASKED = re.compile(r"条件|材料|资料|流程|手续|资格|要求|需要准备|要准备|适用对象|哪些企业")


@router.route(intent("policy.query"))
def query(msg: Message, ctx: Context) -> Answer:
    reading = policies.read(ctx.services, ctx.session, ctx.nlu.text)
    if reading.payout:
        return _payout(msg, ctx, reading)
    best = reading.clear_best()
    if best is not None and (DETAIL_ASKED.search(ctx.nlu.text) or ASKS_ELIGIBLE.search(ctx.nlu.text)):
        # "留抵退税嗰个嘅申请条件系点", "餐馆能享受研发费用加计扣除吗": one policy named, and what its detail tells
        # (conditions, materials, who it is for…)
        _remember(ctx, [best.id], msg.text)
        return policies.detail(best)
    if reading.hits:
        _remember(ctx, [p.id for p, _ in reading.hits], msg.text)
        return policies.answer_hits([p for p, _ in reading.hits])
    if reading.named:   # nothing in the base is about it: say so, never list unrelated policies
        _remember(ctx, [], msg.text, kind="none")
        return texts.NO_FIT.format(what=reading.what)
    last = _last(ctx)
    seen = last.get("ids") or []
    if seen and last.get("kind") in ("answer", "payout", "chased") and FOLLOW_UP.search(ctx.nlu.text):
        # "那要准备什么材料": about what was just shown ("补贴最多有几多": the subsidy of the two listed)
        meant = _the_one_policy_shown(ctx)
        policy = policies.get(ctx.services, ctx.session, meant) if meant is not None else None
        if policy is not None:
            _remember(ctx, [policy.id], msg.text)      # the next follow-up means this one
            return policies.detail(policy)
        shown = [p for p in (policies.get(ctx.services, ctx.session, i) for i in seen[:3]) if p]
        return _ask_which(msg, ctx, shown, payout=False)
    enterprise = ctx.user.enterprise if ctx.user else None
    candidates = policies.likely(ctx.services, ctx.session, msg.text, enterprise)
    if candidates:
        return _ask_which(msg, ctx, candidates, payout=False)
    _remember(ctx, [], msg.text, kind="none")
    return texts.NO_HIT


# "只要…", "只订阅…", "仅…", "改成…", "换成…": the named topics replace the subscriptions held before.
ONLY_THESE = re.compile(r"只(要|订|收|看|推|想要|需要|关注|留|保留)|仅|改成|换成|改为|就要")


@router.route(intent("policy.subscribe"))
def subscribe(msg: Message, ctx: Context) -> Answer:
    """订阅 a topic (or everything); "只要人才方面的", "改成只订阅人才": those topics instead of what was before."""
    topics = policy_topics(ctx.nlu.text) or [""]
    only = ONLY_THESE.search(ctx.nlu.text)
    if topics != [""] and only:
        # "改成只订人才的吧 用工的太多了": the topics named after 只/改成, in that clause, not the ones dropped
        clause = re.split(r"[,，。.;；!！\s]", ctx.nlu.text[only.end():], maxsplit=1)[0]
        topics = policy_topics(clause) or topics
        store.deactivate_all(ctx.session, ctx.user_ref)
    for topic in topics:
        store.set_subscription(ctx.session, ctx.user_ref, topic, True)
    return texts.SUBSCRIBED.format(what="、".join(t for t in topics if t) or texts.ALL_TOPICS)


@router.route(intent("policy.unsubscribe"))
def unsubscribe(msg: Message, ctx: Context) -> Answer:
    topics = policy_topics(ctx.nlu.text)
    if topics and ONLY_THESE.search(ctx.nlu.text):   # "其他的都退了，只留科技": a narrowing, not a goodbye
        return subscribe(msg, ctx)
    if not topics or re.search(r"所有|全部|都", ctx.nlu.text):
        store.deactivate_all(ctx.session, ctx.user_ref)   # 退订: nothing is sent any more, at once
        return texts.UNSUBSCRIBED.format(what=texts.ALL_TOPICS)
    for topic in topics:
        store.set_subscription(ctx.session, ctx.user_ref, topic, False)
    return texts.UNSUBSCRIBED.format(what="、".join(topics))


FLOWS = [
    Flow("broadcast_confirm", "广播", {"confirm": broadcast_confirm}, answers=INTENTS),
    Flow("policy_which", "确认政策", {"which": which}, accepts=which_accepts,
         optional=True),   # a clarification: any new question replaces it
]

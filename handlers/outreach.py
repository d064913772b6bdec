"""Outreach in the chat: "我的联络员是谁" / "有事找谁" for verified members, and answering a 三问三促
survey one question at a time (resumable for 7 days, 跳过 and 取消, a digression answered without
ending it, one answer per enterprise)."""
from __future__ import annotations

import re

from bot import clock
from bot.chat.context import Answer, Context
from bot.chat.conversation import Flow, State
from bot.chat.message import Message, Reply
from bot.chat.router import Router, regex
from bot.outreach import service as outreach
from bot.outreach import surveys, texts
from nlp.intents import INTENTS
from storage import outreach as store

router = Router("outreach")
SURVEY_FLOW, SURVEY_STEP = "survey", "answer"
SURVEY_TIMEOUT_S = 7 * 86400
# "我的联络员是谁", "我们的包联领导是哪位", "有事找谁", "联络员电话多少" (normalised, Simplified text).
LIAISON_QUESTION = (r"^(请问)?(我们?(公司|企业)?的?|我司的?|贵方的?)?(专属)?(联络员|包联(干部|领导|人员)?|对接人|服务专员)"
                    r"(是谁|是哪位|叫什么|电话|手机|怎么联系|联系方式|在哪)|^(请问)?有事(情)?(应该|该)?找谁")
SURVEY_COMMAND = r"^(我要|我想)?(填写?|参加|开始|回答|继续|接着填?)?(问卷|调查问卷|答题|答卷)(调查)?(吧|了)?$"
SKIP = re.compile(r"^(跳过|略过|不答|不回答|下一题|skip)[!。.！]*$", re.I)
# While a survey question waits, these are clearly something else, asked in passing: answered, then the
# question again. Anything else is taken as the answer of a short-text question.
DIGRESSIONS = ("complaint.status", "policy.subscribe", "policy.unsubscribe", "meeting.signup", "meeting.cancel",
               "meeting.info", "help", "human")
DIGRESSION_CONFIDENCE = 0.8


@router.route(regex(LIAISON_QUESTION))
def my_liaison(msg: Message, ctx: Context) -> Answer:
    return outreach.liaison_answer(ctx.session, ctx.user)


@router.route(regex(SURVEY_COMMAND))
def take_survey(msg: Message, ctx: Context) -> Answer:
    """Start (or go on with) the newest survey this member's enterprise was sent and has not finished."""
    user = ctx.user
    if msg.is_group:
        return texts.SURVEY_PRIVATE
    if user is None or user.enterprise_id is None:
        return texts.SURVEY_NOT_MEMBER
    sent = store.open_surveys_for(ctx.session, user.enterprise_id)
    if not sent:
        return texts.SURVEY_NONE
    for survey in sent:
        response = store.response_of(ctx.session, survey.id, user.enterprise_id)
        if response is None or response.status != "complete":
            return _begin(ctx, survey, user)
    survey = sent[0]
    done = store.response_of(ctx.session, survey.id, user.enterprise_id)
    return texts.SURVEY_ALREADY.format(day=clock.to_local(done.completed_at).strftime("%m月%d日"),
                                       who=surveys.answered_by(done), title=survey.title)


def _begin(ctx: Context, survey, user) -> str:
    response = store.start_response(ctx.session, survey.id, user.enterprise_id, user.id)
    index = surveys.next_question(survey, response)
    done = surveys.answered_count(response)
    if not done:
        head = texts.SURVEY_START.format(title=survey.title, total=len(survey.questions))
    elif response.user_ref != user.id:
        head = texts.SURVEY_COLLEAGUE_STARTED.format(done=done)
    else:
        head = texts.SURVEY_RESUME.format(title=survey.title, done=done, total=len(survey.questions))
    ctx.conversation.start(SURVEY_FLOW, SURVEY_STEP, {"survey": survey.id, "response": response.id, "q": index})
    return head + surveys.question_text(survey, index)


def answer(msg: Message, ctx: Context, state: State) -> Answer:
    """The pending question's answer, 跳过, or a digression (answered, the question kept)."""
    survey = store.get_survey(ctx.session, state.data["survey"])
    response = store.get_response(ctx.session, state.data["response"])
    if survey is not None and survey.status == "closed":
        ctx.conversation.clear()
        return texts.SURVEY_CLOSED.format(title=survey.title)
    if survey is None or response is None or response.status == "complete" or survey.status != "sent":
        ctx.conversation.clear()
        return ctx.reroute(msg)
    index = state.data["q"]
    if str(index) in (response.answers or {}):        # a colleague answered it meanwhile: go on from theirs
        index = surveys.next_question(survey, response)
        if index is None:
            ctx.conversation.clear()
            return ctx.reroute(msg)
    question, text = survey.questions[index], (ctx.nlu.text if ctx.nlu else msg.text).strip()
    if not msg.text.strip():                            # a photo, a location…: not an answer
        return _digress(msg, ctx, state, survey, index)
    if re.match(SURVEY_COMMAND, text):                  # "问卷" again: where we are
        return surveys.question_text(survey, index)
    if SKIP.match(text):
        value = None
    elif question["type"] == "text" and _clearly_else(ctx):
        return _digress(msg, ctx, state, survey, index)
    else:
        try:
            value = surveys.parse_answer(question, text, msg.text)
        except surveys.NotAnAnswer:
            if _clearly_else(ctx) or ctx.nlu is not None and ctx.nlu.intent == "complaint.file" \
                    and ctx.nlu.confidence >= DIGRESSION_CONFIDENCE:
                return _digress(msg, ctx, state, survey, index)
            return texts.SURVEY_NOT_ANSWER + "\n" + surveys.question_text(survey, index)
    following = surveys.record(response, survey, index, value, ctx.user_ref)
    if following is None:
        ctx.conversation.clear()
        return texts.SURVEY_DONE.format(title=survey.title)
    state.data["q"] = following
    ctx.conversation.move(state)
    return surveys.question_text(survey, following)


def _clearly_else(ctx: Context) -> bool:
    nlu = ctx.nlu
    if nlu is not None and re.search(LIAISON_QUESTION, nlu.text):
        return True
    return nlu is not None and nlu.intent in DIGRESSIONS and nlu.confidence >= DIGRESSION_CONFIDENCE


def _digress(msg: Message, ctx: Context, state: State, survey, index: int) -> Answer:
    """Answer the message as what it is, then keep the survey waiting (unless another flow took over)."""
    reply = Reply.of(ctx.reroute(msg))
    now = ctx.conversation.get()
    if now is None or now.flow == SURVEY_FLOW:
        ctx.conversation.move(state)
        note = texts.SURVEY_STILL_WAITING.format(title=survey.title, n=index + 1)
    else:
        note = texts.SURVEY_PAUSED_FOR_OTHER.format(title=survey.title)
    reply.text = f"{reply.text}\n\n{note}" if reply.text else note
    return reply


def pause(msg: Message, ctx: Context, state: State) -> Answer:
    """"取消" keeps what was answered: "问卷" within 7 days goes on from there."""
    ctx.conversation.clear()
    response = store.get_response(ctx.session, state.data["response"])
    return texts.SURVEY_PAUSED_BY_CANCEL.format(done=surveys.answered_count(response) if response else 0)


FLOWS = [
    Flow(SURVEY_FLOW, "问卷", {SURVEY_STEP: answer}, answers=INTENTS,   # the step tells answers from digressions
         timeout_s=SURVEY_TIMEOUT_S, on_cancel=pause),
]

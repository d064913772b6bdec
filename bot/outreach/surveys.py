"""三问三促 surveys: compose (3–10 questions: single, multiple, 1–5 scale, short text), choose recipients
like a broadcast, send and remind through the broadcast delivery machinery (its recipients(), delivery
rows, rate limits, retries and crash safety), take answers one question at a time, count the results,
export them, and turn a free-text answer into a ticket (source 问需)."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import yaml

from bot import clock
from bot.broadcasts import service as broadcasts
from bot.complaints import reports
from bot.complaints import service as complaints
from bot.errors import DomainError
from bot.outreach import texts
from bot.push import outbound
from bot.push.scheduler import Periodic
from nlp.slots import complaint_category
from storage import broadcasts as delivery_store
from storage import outreach as store
from storage import staff
from storage.db import after_commit
from storage.models import Survey, SurveyResponse, utcnow

PURPOSES = ("问政", "问需", "问效")
TYPES = ("single", "multiple", "scale", "text")
MIN_QUESTIONS, MAX_QUESTIONS, MAX_OPTIONS = 3, 10, 10
MAX_TEXT_ANSWER = 1000
SCALE = (1, 2, 3, 4, 5)
MAX_FILE_CHARS = 64_000
SENDERS_PER_WORKER = 500     # as broadcasts: one more delivery worker per 500 recipients, at most 4
CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
SCALE_WORDS = (("非常不满意", 1), ("不满意", 2), ("基本满意", 3), ("一般", 3), ("非常满意", 5), ("满意", 4))
SEPARATORS = re.compile(r"[\s,，、;；/和及与]+")


class SurveyError(DomainError):
    """A survey that cannot be composed, sent or converted as asked; its Chinese text says why."""


class NotAnAnswer(Exception):
    """The message does not answer the pending question."""


# --- composing ---

def clean_questions(questions) -> list[dict]:
    """3–10 questions, each {text, type, options}: choices need 2–10 options, a scale is 1–5."""
    if not isinstance(questions, list) or not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
        raise SurveyError(f"问卷要有 {MIN_QUESTIONS}–{MAX_QUESTIONS} 道题")
    cleaned = []
    for n, item in enumerate(questions, 1):
        if not isinstance(item, dict):
            raise SurveyError(f"第 {n} 题格式不对：应有 text、type、options")
        text, kind = str(item.get("text") or "").strip(), str(item.get("type") or "single").strip()
        if not text or len(text) > 300:
            raise SurveyError(f"第 {n} 题的题目要填写（最多 300 字）")
        if kind not in TYPES:
            raise SurveyError(f"第 {n} 题的题型应为 single、multiple、scale 或 text，不是“{kind}”")
        options = [str(o).strip()[:100] for o in (item.get("options") or []) if str(o).strip()]
        if kind in ("single", "multiple") and not 2 <= len(options) <= MAX_OPTIONS:
            raise SurveyError(f"第 {n} 题（{texts.TYPE_NAMES[kind]}）要有 2–{MAX_OPTIONS} 个选项")
        if len(set(options)) != len(options):
            raise SurveyError(f"第 {n} 题有重复的选项")
        cleaned.append({"text": text, "type": kind, "options": options if kind in ("single", "multiple") else []})
    return cleaned


def create(session, title: str, purpose: str, questions, intro: str = "", actor: str = "staff") -> Survey:
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise SurveyError("问卷标题要填写（最多 200 字）")
    if purpose not in PURPOSES:
        raise SurveyError(f"问卷目的应为 {'、'.join(PURPOSES)} 之一")
    return store.create_survey(session, title=title, purpose=purpose, intro=(intro or "").strip()[:1000],
                               questions=clean_questions(questions), status="draft", target="", created_by=actor)


def read_yaml(text: str) -> dict:
    """A survey file: title, purpose, questions (and optionally intro)."""
    if len(text) > MAX_FILE_CHARS:
        raise SurveyError("问卷文件太大")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SurveyError(f"问卷文件不是有效的 YAML：{str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise SurveyError("问卷文件应包含 title、purpose、questions")
    return data


# --- recipients and sending ---

def recipients(session, target: str) -> list[tuple[str, str, str]]:
    """Like a broadcast's (all, topic:, tag:), plus liaison:USERNAME for a liaison's enterprises; only the
    enterprises' verified members, who answer for them. Groups cannot answer a survey."""
    target = (target or "all").strip()
    kind, _, name = target.partition(":")
    if kind == "group":
        raise SurveyError("问卷只能发给企业成员（all、topic:主题、tag:标签、liaison:账号），不能发到群")
    if kind == "liaison":
        account = staff.by_username(session, name.strip())
        if account is None:
            raise SurveyError(f"没有名为 {name.strip()} 的工作人员账号")
        ids = {row.enterprise_id for row in store.assignments(session, account.id) if row.liaison_id == account.id}
        return [(u.channel, u.user_id, outbound.choose_kind(u.channel, u))
                for u in store.verified_members(session, ids) if u.followed]
    try:
        found = broadcasts.recipients(session, target)
    except broadcasts.TargetError:
        raise SurveyError(f"发送对象应为 all、topic:主题、tag:标签 或 liaison:账号，不是“{target}”") from None
    members = {(u.channel, u.user_id) for u in store.verified_members(session)}
    return [r for r in found if (r[0], r[1]) in members]


def reach(session, target: str) -> dict:
    """How many people and enterprises a target reaches (the preview's figures)."""
    found = recipients(session, target)
    keys = {(c, r) for c, r, _ in found}
    firms = {u.enterprise_id for u in store.verified_members(session) if (u.channel, u.user_id) in keys}
    return {"people": len(found), "enterprises": len(firms)}


def minutes(survey: Survey) -> int:
    return max(1, round(len(survey.questions) * 0.5))


def invitation(survey: Survey) -> str:
    intro = f"{survey.intro}\n" if survey.intro else ""
    return texts.INVITATION.format(intro=intro, total=len(survey.questions), minutes=minutes(survey))


def _deliver(services, session, title: str, body: str, target: str, actor: str, found) -> int:
    """One broadcast of these recipients, delivered by the broadcast worker once this commits."""
    broadcast = delivery_store.create(session, title, body, "", target, actor, found)
    broadcast_id, workers = broadcast.id, max(1, min(4, len(found) // SENDERS_PER_WORKER + 1))
    after_commit(session, lambda: [services.queue.enqueue(broadcasts.deliver, broadcast_id) for _ in range(workers)])
    return broadcast_id


def send(services, session, survey: Survey, target: str, actor: str = "staff") -> Survey:
    if survey.status != "draft":
        raise SurveyError(f"问卷「{survey.title}」已发送过，不能再次发送")
    found = recipients(session, target)
    if not found:
        raise SurveyError("这个发送对象下没有已认证的企业成员，问卷无人可收")
    survey.broadcast_id = _deliver(services, session, survey.title, invitation(survey), target, actor, found)
    survey.target, survey.status, survey.sent_at = target, "sent", utcnow()
    return survey


def close(survey: Survey) -> Survey:
    survey.status = "closed"
    return survey


def remind(services, now=None) -> int:
    """One reminder, through the broadcast machinery, to the recipients whose enterprise has not answered,
    once a survey has been out for its remind_after_days."""
    now = now or utcnow()
    sent = 0
    with services.db.session() as session:
        for survey in store.due_for_reminder(session):
            if survey.sent_at + timedelta(days=survey.remind_after_days) > now:
                continue
            if not store.claim_reminder(session, survey.id, now):
                continue
            found = store.unanswered_recipients(session, survey)
            if found:
                survey.reminder_broadcast_id = _deliver(
                    services, session, texts.REMINDER_TITLE.format(title=survey.title),
                    texts.REMINDER.format(title=survey.title, purpose=survey.purpose, minutes=minutes(survey)),
                    survey.target, "system", found)
                sent += len(found)
            session.commit()
    return sent


# --- answering in the chat ---

def question_text(survey: Survey, index: int) -> str:
    question = survey.questions[index]
    options = "".join(f"\n{n}. {o}" for n, o in enumerate(question["options"], 1))
    return texts.QUESTION.format(n=index + 1, total=len(survey.questions), text=question["text"], options=options,
                                 hint=texts.TYPE_HINTS[question["type"]])


def _number(token: str) -> int | None:
    token = token.strip().rstrip("分星项个.。、)）").lstrip("第(（")
    if token.isdigit():
        return int(token)
    return CHINESE_DIGITS.get(token)


def parse_answer(question: dict, text: str, original: str = ""):
    """The answer's value (an option, a list of options, 1–5, or the text); NotAnAnswer otherwise.
    `text` is the normalised (Simplified) message, so Traditional answers match the options too."""
    text = text.strip()
    kind, options = question["type"], question["options"]
    if kind == "text":
        if not text:
            raise NotAnAnswer
        return (original or text).strip()[:MAX_TEXT_ANSWER]
    if kind == "scale":
        value = _number(text) if len(text) <= 3 else None
        value = value or next((score for word, score in SCALE_WORDS if text.startswith(word)), None)
        if value in SCALE:
            return value
        raise NotAnAnswer
    picked = _picked(options, text)
    if not picked or (kind == "single" and len(picked) != 1):
        raise NotAnAnswer
    return picked[0] if kind == "single" else picked


def _picked(options: list[str], text: str) -> list[str]:
    """Options named by number ("2", "1,3", "13" when there are fewer than 10) or by their words."""
    tokens = [t for t in SEPARATORS.split(text) if t]
    numbers = [_number(t) for t in tokens]
    if tokens and all(n is not None for n in numbers):
        if len(tokens) == 1 and len(tokens[0]) > 1 and tokens[0].isdigit() and len(options) < 10:
            numbers = [int(d) for d in tokens[0]]
        if all(1 <= n <= len(options) for n in numbers):
            return [options[n - 1] for n in dict.fromkeys(numbers)]
        return []
    exact = [o for o in options if o == text]
    return exact or [o for o in options if o in text]


def next_question(survey: Survey, response: SurveyResponse) -> int | None:
    """The first question not yet answered or skipped, or None when all are."""
    done = response.answers or {}
    return next((i for i in range(len(survey.questions)) if str(i) not in done), None)


def record(response: SurveyResponse, survey: Survey, index: int, value, user_ref: int | None) -> int | None:
    """Keep one answer (None: skipped); returns the next question, or None once the survey is complete."""
    response.answers = dict(response.answers or {}, **{str(index): value})
    response.updated_at, response.user_ref = utcnow(), user_ref or response.user_ref
    following = next_question(survey, response)
    if following is None:
        response.status, response.completed_at = "complete", utcnow()
    return following


def answered_count(response: SurveyResponse) -> int:
    return len(response.answers or {})


def answered_by(response: SurveyResponse) -> str:
    user = response.user
    return (user.display_name if user else "") or texts.COLLEAGUE


# --- results ---

def results(session, survey: Survey) -> dict:
    """Recipients sent to, enterprises asked and answered, and each question's answers."""
    delivery = broadcasts.status(session, survey.broadcast_id) if survey.broadcast_id else \
        {"total": 0, "sent": 0, "failed": 0, "pending": 0}
    done = store.responses(session, survey.id)
    asked = store.targeted_enterprises(session, survey) if survey.broadcast_id else set()
    questions = [_question_result(q, i, done) for i, q in enumerate(survey.questions)]
    return {"id": survey.id, "title": survey.title, "purpose": survey.purpose, "status": survey.status,
            "target": survey.target, "recipients": delivery["total"], "sent": delivery["sent"],
            "failed": delivery["failed"], "pending": delivery["pending"], "enterprises": len(asked),
            "answered": len(done), "response_rate": round(len(done) / len(asked), 3) if asked else None,
            "questions": questions}


def _question_result(question: dict, index: int, done: list[SurveyResponse]) -> dict:
    values = [(r, (r.answers or {}).get(str(index))) for r in done]
    given = [(r, v) for r, v in values if v not in (None, "", [])]
    base = {"text": question["text"], "type": question["type"], "responses": len(given),
            "skipped": len(values) - len(given)}
    if question["type"] == "text":
        return dict(base, answers=[v for _, v in given],
                    items=[{"response": r.id, "enterprise": r.enterprise.name, "answer": v,
                            "ticket": (r.tickets or {}).get(str(index), "")} for r, v in given])
    if question["type"] == "scale":
        counts = {str(s): sum(1 for _, v in given if v == s) for s in SCALE}
        average = round(sum(v for _, v in given) / len(given), 2) if given else None
        return dict(base, answers=counts, average=average)
    counts = {o: 0 for o in question["options"]}
    for _, value in given:
        for option in value if isinstance(value, list) else [value]:
            if option in counts:
                counts[option] += 1
    return dict(base, answers=counts)


def export_rows(session, survey: Survey) -> tuple[list[str], list[list]]:
    """Chinese headers (企业名称, 填写人, 提交时间, then each question) and one row per enterprise."""
    header = list(texts.EXPORT_HEAD) + [f"{n}. {q['text']}" for n, q in enumerate(survey.questions, 1)] + ["转为诉求"]
    rows = []
    for response in store.responses(session, survey.id):
        answers = response.answers or {}
        cells = [_cell(answers.get(str(i), None), str(i) in answers) for i in range(len(survey.questions))]
        rows.append([response.enterprise.name, answered_by(response),
                     clock.to_local(response.completed_at).strftime("%Y-%m-%d %H:%M"), *cells,
                     "、".join((response.tickets or {}).values())])
    return header, rows


def _cell(value, present: bool):
    if value is None:
        return texts.SKIPPED if present else ""
    return "、".join(value) if isinstance(value, list) else value


def export_xlsx(header: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "问卷结果"
    sheet.append(header)
    for row in reports.safe_rows(rows):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"      # a text starting with = stays text
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_ticket(services, session, survey: Survey, response: SurveyResponse, index: int, actor: str):
    """A free-text answer that states a problem becomes the enterprise's ticket (source 问需), once; the same
    matter as one of its open tickets joins that one (并单). Returns (ticket, merged)."""
    if response.survey_id != survey.id or not 0 <= index < len(survey.questions):
        raise SurveyError("没有这道题的回答")
    question, answer = survey.questions[index], (response.answers or {}).get(str(index))
    if question["type"] != "text" or not answer:
        raise SurveyError("只有简答题的文字回答可以转为诉求")
    existing = (response.tickets or {}).get(str(index))
    if existing:
        raise SurveyError(f"这条回答已转为诉求 {existing}")
    description = texts.ANSWER_TICKET.format(title=survey.title, enterprise=response.enterprise.name,
                                             question=question["text"], answer=answer)
    complaint, merged = complaints.file(services, session, description=description,
                                        category=complaint_category(answer), source="问需",
                                        enterprise_id=response.enterprise_id, user_ref=response.user_ref, actor=actor)
    response.tickets = dict(response.tickets or {}, **{str(index): complaint.ticket_no})
    return complaint, merged


# The worker runs these (bot/worker.py lists every feature's).
PERIODIC = [
    Periodic("survey_reminders", 3600, remind),
]

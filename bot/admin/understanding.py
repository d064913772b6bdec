"""消息理解: the labelling loop. Messages the model understood least well, and tickets whose category
or department staff changed, for staff to say with one click what they meant. The labels are
stored (storage/labels.py) and `python -m nlp train --from-db` trains on them (docs/nlp.md)."""
from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

import nlp
from bot.admin import auth
from bot.admin.common import audit, bp, services
from bot.complaints.rules import CATEGORIES
from nlp import engine
from nlp import model as nlp_model
from storage import complaints as complaint_store
from storage import labels, messages
from storage.models import utcnow

# The twelve intents of ../shared/spec/intents.md, as the buttons name them.
INTENTS = {"complaint.file": "反映问题", "complaint.status": "查诉求进度", "policy.query": "咨询政策",
           "policy.subscribe": "订阅推送", "policy.unsubscribe": "退订推送", "meeting.signup": "报名早茶会",
           "meeting.cancel": "取消报名", "meeting.info": "问早茶会安排", "help": "功能菜单", "human": "转人工",
           "smalltalk": "问候致谢", "other": "其他"}
REASONS = {"unsure": "模型拿不准", "disagree": "规则与模型不一致", "other": "未能理解", "corrected": "用户纠正或换了说法",
           "category": "工作人员改了类别或部门"}
WINDOW = timedelta(days=30)          # how far back the page looks
SCAN = 1000                          # messages looked at (each classified twice: ~0.6 ms)
SHOW = 100                           # rows drawn (not yet labelled first): ~180 KB of buttons
UNSURE_MARGIN = 0.15                 # confidence below threshold + this: the model was unsure
FOLLOW_UP = timedelta(minutes=3)     # a next message this soon may correct the one before
REPHRASED = 0.3                      # share of character pairs a rewording keeps
CORRECTION = re.compile(r"^\W*(不是|不对|错了|我不是|我是说|我的意思是|我说的是|我问的是|你理解错|答非所问|没问这个|不是这个)")


@dataclass
class Candidate:
    """One message on the page: why it is there and what each reader made of it."""
    message: object
    reasons: list
    now: object                      # the configured engine's answer today
    second: object                   # the other engine's answer (the rules, or the model under NLP_ENGINE=rules)
    later: str = ""                  # what the user wrote next, when it looks like a correction
    label: object = None
    category: str = ""               # the category model's guess, preselected for 反映问题
    suggested: set = field(default_factory=set)


# Messages carry any user's full text: department-scoped accounts must not read them.
unscoped_only = auth.unscoped_only("消息理解")


def _threshold() -> float:
    configured = services().settings.intent_threshold
    return configured if configured is not None else nlp.model_threshold()


def _pairs(text: str) -> set:
    text = "".join(ch for ch in text if ch.isalnum())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def rephrased(earlier: str, later: str) -> bool:
    """The later message says much of the earlier one again in other words."""
    a, b = _pairs(earlier), _pairs(later)
    return bool(a and b) and earlier.strip() != later.strip() and len(a & b) / min(len(a), len(b)) >= REPHRASED


def corrections(found) -> dict[int, str]:
    """message id → the same user's next message, when that came soon and says "不是…" or asks the
    same again in other words and was understood differently: the bot likely got the first one wrong."""
    chats = defaultdict(list)
    for m, _ in found:
        chats[m.channel, m.chat_id, m.user_ref].append(m)
    corrected = {}
    for thread in chats.values():
        thread.sort(key=lambda m: m.id)
        for earlier, later in zip(thread, thread[1:], strict=False):
            if later.received_at - earlier.received_at > FOLLOW_UP:
                continue
            if CORRECTION.match(later.text) or (later.intent != earlier.intent and rephrased(earlier.text, later.text)):
                corrected[earlier.id] = later.text
    return corrected


def candidates(session, reason: str | None = None) -> list[Candidate]:
    found = labels.recent_text_messages(session, utcnow() - WINDOW, SCAN)
    corrected = corrections(found)
    threshold = _threshold()
    second_engine = "rules" if engine.current() == "model" else "model"
    categories = nlp_model.load("categories")
    rows = []
    for m, _ in found:
        now = nlp.classify(m.text, threshold=threshold)
        if now.decided_by in ("command", "empty"):   # a table or no words: nothing a label would teach
            continue
        second = nlp.classify(m.text, using=second_engine)
        reasons = []
        if m.confidence is not None and m.confidence < threshold + UNSURE_MARGIN:
            reasons.append("unsure")
        if second.intent != now.intent:
            reasons.append("disagree")
        if m.intent == "other":
            reasons.append("other")
        if m.id in corrected:
            reasons.append("corrected")
        if not reasons or (reason and reason not in reasons):
            continue
        guess = categories.predict(now.text).best[0]
        rows.append(Candidate(m, reasons, now, second, corrected.get(m.id, ""), category=guess,
                              suggested={m.intent, now.intent, second.intent, now.runner_up}))
    stored = labels.of_messages(session, [c.message.id for c in rows])
    for c in rows:
        c.label = stored.get(c.message.id)
    rows.sort(key=lambda c: (c.label is not None, -c.message.id))   # not yet labelled first, newest first
    return rows


def category_changes(session) -> list[dict]:
    """Tickets whose category staff changed (a "category" event), or that staff sent to another
    department than their category's: either way the category the bot chose may be wrong."""
    rules, rows, seen = services().complaint_rules, [], set()
    categories = nlp_model.load("categories")
    for c, event in labels.category_events(session, utcnow() - WINDOW):
        if c.id in seen:
            continue
        data = event.data or {}
        changed = event.kind == "category" or "category" in data
        rerouted = event.kind == "assigned" and c.department != rules.assignment(c.category).department
        if not (changed or rerouted):
            continue
        seen.add(c.id)
        rows.append({"c": c, "event": event, "previous": data.get("previous") or data.get("previous_category") or "",
                     "home": rules.assignment(c.category).department,
                     "guess": categories.predict(nlp.normalize(c.description).text).best[0],
                     "fits": {k for k in CATEGORIES if rules.assignment(k).department == c.department}})
    stored = labels.of_complaints(session, [r["c"].id for r in rows])
    for r in rows:
        r["label"] = stored.get(r["c"].id)
    return rows


def model_in_use() -> dict:
    """Which intent model this process classifies with: the park's retrained one or the default."""
    intents = nlp_model.load("intents")
    installed = intents.path == nlp_model.installed_path("intents")
    since = datetime.fromtimestamp(os.stat(intents.path).st_mtime, UTC).replace(tzinfo=None) if installed else None
    return {"installed": installed, "since": since,   # stored times are UTC; the page shows park time
            "rows": intents.header.get("train_rows"), "validation": (intents.header.get("validation") or {}),
            "threshold": _threshold()}


@bp.get("/understanding")
@login_required
@unscoped_only
def understanding_page():
    session = auth.db()
    reason = request.args.get("reason") if request.args.get("reason") in REASONS else None
    rows = [] if reason == "category" else candidates(session, reason)
    changes = category_changes(session) if reason in (None, "category") else []
    return render_template("admin/understanding.html", rows=rows[:SHOW], total=len(rows), changes=changes,
                           reason=reason, reasons=REASONS, intents=INTENTS, categories=CATEGORIES,
                           labelled=labels.count(session), latest=labels.latest(session, 10), model=model_in_use())


def _back():
    return redirect(url_for("admin.understanding_page", reason=request.form.get("back") or None))


@bp.post("/understanding/messages/<int:message_id>")
@login_required
@unscoped_only
@auth.can_change
def label_message(message_id: int):
    """One click: this message meant that intent (and, for 反映问题, that category)."""
    session = auth.db()
    message = messages.get(session, message_id)
    if message is None or not message.text:
        abort(404)
    intent = request.form.get("intent", "")
    if intent not in INTENTS:
        abort(400, "请选择十二种意图之一")
    category = request.form.get("category") or None
    if intent == "complaint.file" and category not in CATEGORIES:
        category = None
    reason = request.form.get("reason", "")
    label, before = labels.label_message(session, message, intent, category, reason if reason in REASONS else "",
                                         message.intent or "", current_user.username)
    said = INTENTS[intent] + (f"（{category}）" if label.category else "")
    audit("understanding.label", f"消息#{message_id}",
          f"{intent}{'/' + label.category if label.category else ''}（机器人理解为 {message.intent}"
          f"{'，原标注 ' + before if before else ''}）", commit=False)
    session.commit()
    flash(f"已标注：「{message.text[:30]}」是{said}", "ok")
    return _back()


@bp.post("/understanding/complaints/<int:complaint_id>")
@login_required
@unscoped_only
@auth.can_change
def label_complaint(complaint_id: int):
    """One click: this ticket's description belongs to that category."""
    session = auth.db()
    complaint = complaint_store.get(session, complaint_id)
    if complaint is None:
        abort(404)
    category = request.form.get("category", "")
    if category not in CATEGORIES:
        abort(400, "请选择类别")
    label, before = labels.label_complaint(session, complaint, category, "category", complaint.category,
                                           current_user.username)
    audit("understanding.category", complaint.ticket_no,
          f"{category}（工单类别 {complaint.category}{'，原标注 ' + before if before else ''}）", commit=False)
    session.commit()
    flash(f"已标注：{complaint.ticket_no} 属于「{category}」", "ok")
    return _back()

"""The complaint life cycle: file (or merge), route, deadlines, transitions, notifications, ratings.

Used by the chat handlers, the CLI and the worker alike; everything takes (services, session).
"""
from __future__ import annotations

from datetime import date, timedelta

from bot import clock
from bot.chat.conversation import ConversationStore
from bot.complaints import matter, texts
from bot.complaints.rules import CATEGORIES
from bot.errors import DomainError
from bot.push import jobs
from bot.push.scheduler import Periodic
from nlp import normalize
from storage import complaints as store
from storage import identity, users
from storage import outreach as outreach_store
from storage.db import after_commit
from storage.models import Complaint, utcnow

STATUSES = ("received", "assigned", "in_progress", "resolved", "closed")
TRANSITIONS = {
    "received": {"assigned", "in_progress", "resolved", "closed"},
    "assigned": {"in_progress", "resolved", "closed"},
    "in_progress": {"assigned", "resolved", "closed"},
    "resolved": {"closed", "in_progress"},
    "closed": {"in_progress"},
}
SOURCES = ("wechat", "wecom", "group", "早茶会", "走访", "电话", "监测员", "12345")
MAX_EXTENSION_DAYS = 60    # the calendar walks day by day: a huge number would hang the caller
RATING_FLOW = "complaint_rating"     # the pending question after a resolution: the owner's rating
RATING_STEP = "rate"
RATING_FLOW_TIMEOUT_S = 30 * 86400


class ComplaintError(DomainError):
    """A change the ticket's state does not allow; its text is shown to the person who asked."""


def tellings(complaint: Complaint) -> list[str]:
    """Every way the matter was told: the description (with its place) and each merged repeat."""
    first = f"{place_not_told(complaint)} {complaint.description}".strip()
    return [first] + [e.text for e in complaint.events if e.kind == "merged" and e.text and not e.data.get("merged_into")]


def place_not_told(complaint: Complaint) -> str:
    """The ticket's location when the description does not already say it (a place asked for separately)."""
    location = (complaint.location or "").strip()
    told = normalize(complaint.description).text
    return "" if all(part in complaint.description or part in told for part in location.split()) else location


def find_repeat(session, enterprise_id, user_ref, description: str, category: str, since) -> Complaint | None:
    """The owner's open ticket on the same matter (bot/complaints/matter.py), filed since `since`: the
    enterprise's when the filer is a verified member, else only the filer's own. None when there is none.
    The candidates are read as values in one statement; only the ticket that is repeated is loaded."""
    told = matter.read(description, category)
    best, best_score = None, 0.0
    for candidate in store.repeat_candidates(session, enterprise_id, user_ref, since):
        score = max(matter.relation(matter.read(text, candidate.category), told) for text in _tellings_of(candidate))
        if score >= matter.SAME_MATTER and score > best_score:
            best, best_score = candidate, score
    return store.get_without_events(session, best.id) if best is not None else None


def _tellings_of(candidate: store.RepeatCandidate) -> list[str]:
    """tellings() of a repeat candidate read as values (its "merged" events come with it)."""
    first = f"{place_not_told(candidate)} {candidate.description}".strip()
    return [first] + [text for text, data in candidate.merged if text and not data.get("merged_into")]


def file(services, session, *, description: str, category: str, source: str, kind: str = "诉求",
         enterprise_id=None, user_ref=None, location: str = "", phone: str = "", actor: str = "user",
         meeting_id=None, media=(), today: date | None = None,
         filer: identity.Filer | None = None, repeat_of: Complaint | None = None) -> tuple[Complaint, bool]:
    """File a ticket, or merge it into the owner's open ticket on the same matter (并单).

    `filer`: what the chat has read already of the user `user_ref` (storage.identity.filer), so that it is
    not read again; without it the roles and the pending claim are looked up here. `repeat_of`: the open
    ticket the chat knows this telling repeats ("电来了又停了" right after asking about it)."""
    rules = services.complaint_rules
    since = utcnow() - timedelta(days=rules.merge_window_days)
    owns_any = filer is None or filer.has_tickets      # a first ticket has nothing to merge with
    if (enterprise_id is not None or user_ref is not None) and owns_any:   # nobody known: merges with nothing
        told = f"{location} {description}".strip()
        repeat = repeat_of if repeat_of is not None and repeat_of.status in store.OPEN_STATUSES \
            and not repeat_of.merged_into else find_repeat(session, enterprise_id, user_ref, told, category, since)
        if repeat is not None:
            repeat.repeat_count += 1
            store.record_event(session, repeat.id, actor, "merged", told, source=source, media=list(media))
            if phone and not repeat.contact_phone:
                repeat.contact_phone = phone[:32]
            return repeat, True
    today = today or clock.today()
    source = _filing_source(session, user_ref, source, filer)   # a monitor's filing: 监测员
    assignment = rules.assignment(category)
    # An unverified filer's claimed enterprise goes on the ticket as a name only (待核实), never as its id.
    claimed = None
    if enterprise_id is None:
        claimed = filer.claimed if filer is not None else identity.claimed_name(session, user_ref)
    complaint = store.create(
        session, ticket_no=store.next_ticket_no(session, today), kind=kind, category=category,
        department=assignment.department, tier=assignment.tier, description=description[:4000], location=location[:200],
        contact_phone=phone[:32], source=source, status="received", enterprise_id=enterprise_id,
        user_ref=user_ref, accept_due=rules.calendar.add(today, rules.acceptance_days),
        due=rules.calendar.add(today, rules.days_for(assignment.tier)), meeting_id=meeting_id,
        repeat_count=0, reopen_count=0, extended=False, warned=False, escalated=False,
        rating_reminded=False, rating_comment="", claimed_enterprise=claimed)
    store.record_event(session, complaint.id, actor, "filed", description, public=True, source=source,
                       media=list(media))
    _tell_staff(services, session, rules.department_staff.get(assignment.department, ()),
                texts.STAFF_NEW.format(ticket=complaint.ticket_no, category=category,
                                       enterprise=_enterprise_name(complaint), summary=description[:60]))
    _tell_outreach(services, session, complaint, "new", description[:60])
    return complaint, False


def _filing_source(session, user_ref, source: str, filer: identity.Filer | None) -> str:
    """outreach_store.filing_source, from the filer's roles when they were read already."""
    if filer is None or user_ref is None:
        return outreach_store.filing_source(session, user_ref, source)
    return "监测员" if source in outreach_store.CHAT_SOURCES and outreach_store.is_monitor(filer) else source


def merge(services, session, duplicate: Complaint, into: Complaint, actor: str) -> Complaint:
    """Staff 并单: the duplicate is closed as merged, its telling and repeats counted on the other
    ticket, and its owner told where to follow the matter. Merged tickets leave the office's figures."""
    if duplicate.id == into.id:
        raise ComplaintError("不能把工单并入它自己")
    if duplicate.merged_into or duplicate.status == "closed":
        raise ComplaintError(f"{duplicate.ticket_no} 已办结或已并单，不能再并入其他工单")
    if into.status not in store.ACTIVE_STATUSES:
        raise ComplaintError(f"{into.ticket_no} 已办结或已并单，请并入一件办理中的工单")
    into.repeat_count += 1 + duplicate.repeat_count
    store.add_event(session, into, actor, "merged", duplicate.description, source=duplicate.source,
                    merged_from=duplicate.ticket_no)
    duplicate.status, duplicate.closed_at, duplicate.merged_into = "closed", utcnow(), into.ticket_no
    store.add_event(session, duplicate, actor, "merged", texts.MERGED_BY_STAFF.format(ticket=into.ticket_no),
                    public=True, merged_into=into.ticket_no)
    _tell_owner(services, session, duplicate, texts.NOTIFY_MERGED.format(ticket=duplicate.ticket_no,
                                                                         into=into.ticket_no))
    return into


def change_status(services, session, complaint: Complaint, status: str, actor: str, note: str = "",
                  public_text: str = "") -> Complaint:
    """Move a ticket on; every change is an event, public ones are told to the owner."""
    if status not in STATUSES:
        raise ComplaintError(f"没有“{status}”这个状态，可用：{'、'.join(STATUSES)}")
    if complaint.merged_into:
        raise ComplaintError(f"{complaint.ticket_no} 已并入 {complaint.merged_into}，请在该工单上办理")
    if status not in TRANSITIONS[complaint.status]:
        raise ComplaintError(f"工单不能从“{texts.STATUS_NAMES[complaint.status]}”改为“{texts.STATUS_NAMES[status]}”"
                          f"（{complaint.status} → {status}）")
    if status == "resolved":
        return resolve(services, session, complaint, public_text or note or "问题已处理", actor)
    if status == "closed":
        return close(services, session, complaint, actor, note)
    previous = complaint.status
    complaint.status = status
    if previous in ("resolved", "closed") and status == "in_progress":
        _reopen_fields(complaint)
    store.add_event(session, complaint, actor, "status", public_text or note, public=bool(public_text),
                    status=status, previous=previous)
    if status == "assigned":
        _tell_owner(services, session, complaint, texts.NOTIFY_ASSIGNED.format(
            ticket=complaint.ticket_no, department=complaint.department, due=complaint.due.isoformat()))
    elif public_text:
        _tell_owner(services, session, complaint, texts.NOTIFY_STATUS.format(
            ticket=complaint.ticket_no, status=texts.STATUS_NAMES[status]) + "\n" + public_text)
    return complaint


def departments(services) -> list[str]:
    """The departments a ticket may be handed to: config.yaml's complaints.departments and every category's."""
    rules = services.complaint_rules
    return sorted(set(rules.department_staff) | {a.department for a in rules.assignments.values()})


def assign(services, session, complaint: Complaint, actor: str, department: str | None = None,
           assignee: str = "", category: str | None = None) -> Complaint:
    """Hand a ticket to a department, correcting its category on the way if asked: the correction is its own
    event ("category", data {"from", "to"}), which the labelling page (消息理解) can take as a label."""
    if department and department not in departments(services):
        raise ComplaintError(f"没有“{department}”这个承办部门，可选：{'、'.join(departments(services))}")
    if category and category not in CATEGORIES:
        raise ComplaintError(f"没有“{category}”这个类别，可选：{'、'.join(CATEGORIES)}")
    if category and category != complaint.category:
        _change_category(session, complaint, category, actor)
    if department:
        complaint.department = department
    if assignee:
        complaint.assignee = assignee
    store.add_event(session, complaint, actor, "assigned", f"{complaint.department} {assignee}".strip())
    if complaint.status == "received":
        return change_status(services, session, complaint, "assigned", actor)
    return complaint


def correct_matter(services, session, complaint: Complaint, told: str, category: str, actor: str = "user") -> Complaint:
    """The owner corrects what happened right after filing ("刚才说错了，不是停电，是停水"): a ticket nobody has
    started on takes the corrected category and its department (deadlines as filed); the words go in its
    timeline, and the new department's staff are told as of a new ticket."""
    rules = services.complaint_rules
    assignment = rules.assignment(category)
    _change_category(session, complaint, category, actor)
    complaint.department, complaint.tier = assignment.department, assignment.tier
    add_note(session, complaint, texts.NOTE_MATTER_CORRECTED.format(text=told[:200]), actor)
    _tell_staff(services, session, rules.department_staff.get(assignment.department, ()),
                texts.STAFF_NEW.format(ticket=complaint.ticket_no, category=category,
                                       enterprise=_enterprise_name(complaint), summary=told[:60]))
    return complaint


def _change_category(session, complaint: Complaint, category: str, actor: str) -> None:
    """The correction as its own event ("category", data {"from", "to"}), which 消息理解 can take as a label."""
    store.add_event(session, complaint, actor, "category",
                    texts.CATEGORY_CHANGED.format(before=complaint.category, after=category),
                    **{"from": complaint.category, "to": category})
    complaint.category = category


def reply(services, session, complaint: Complaint, text: str, actor: str) -> Complaint:
    """A public reply: recorded and pushed to the owner."""
    store.add_event(session, complaint, actor, "reply", text, public=True)
    if complaint.status in ("received", "assigned"):
        complaint.status = "in_progress"
    _tell_owner(services, session, complaint, texts.NOTIFY_REPLY.format(ticket=complaint.ticket_no, text=text))
    return complaint


def add_note(session, complaint: Complaint, text: str, actor: str) -> Complaint:
    """An internal note: staff only, never shown to the owner."""
    store.add_event(session, complaint, actor, "note", text)
    return complaint


def extend(services, session, complaint: Complaint, days: int, reason: str, actor: str,
           today: date | None = None) -> Complaint:
    """One extension (延期) with a reason, which the owner is told about."""
    if complaint.extended:
        raise ComplaintError(f"{complaint.ticket_no} 已延期过一次，不能再延期")
    if complaint.status not in store.OPEN_STATUSES:
        raise ComplaintError(f"{complaint.ticket_no} {texts.STATUS_NAMES[complaint.status]}，无需延期")
    if days <= 0 or not reason.strip():
        raise ComplaintError("延期要填写天数（正整数个工作日）和理由")
    if days > MAX_EXTENSION_DAYS:
        raise ComplaintError(f"延期最多 {MAX_EXTENSION_DAYS} 个工作日")
    calendar = services.complaint_rules.calendar
    complaint.due = calendar.add(max(complaint.due, today or clock.today()), days)
    complaint.extended, complaint.warned, complaint.escalated = True, False, False
    store.add_event(session, complaint, actor, "extend", reason, public=True, days=days, due=complaint.due.isoformat())
    _tell_owner(services, session, complaint, texts.NOTIFY_EXTENDED.format(
        ticket=complaint.ticket_no, due=complaint.due.isoformat(), reason=reason))
    return complaint


def resolve(services, session, complaint: Complaint, text: str, actor: str) -> Complaint:
    """Resolved: the owner is told and asked to rate (回访); the next reply is taken as the rating."""
    complaint.status, complaint.resolved_at = "resolved", utcnow()
    complaint.rating_reminded = False
    store.add_event(session, complaint, actor, "status", text, public=True, status="resolved")
    owner = users.get(session, complaint.user_ref) if complaint.user_ref else None
    if owner is not None and owner.channel != "group":
        # One question at a time: the rating waits behind a question the owner has not answered yet.
        ConversationStore(services.redis, channel=owner.channel, user_id=owner.user_id).start(
            RATING_FLOW, RATING_STEP, {"complaint_id": complaint.id}, timeout_s=RATING_FLOW_TIMEOUT_S, wait=True)
    _tell_owner(services, session, complaint, texts.NOTIFY_RESOLVED.format(ticket=complaint.ticket_no, text=text))
    return complaint


def rate(services, session, complaint: Complaint, score: int, comment: str = "", actor: str = "user") -> str:
    """基本满意 or better closes the ticket; worse reopens it and alerts the supervisor. Returns the reply."""
    complaint.rating, complaint.rating_comment = score, comment[:500]
    store.add_event(session, complaint, actor, "rated", comment, rating=score)
    name = texts.RATING_NAMES[score]
    if score >= 3:
        close(services, session, complaint, actor, f"评价：{name}")
        return texts.RATING_THANKS_CLOSED.format(rating=name, ticket=complaint.ticket_no)
    complaint.status = "in_progress"
    _reopen_fields(complaint)
    store.add_event(session, complaint, actor, "reopened", comment, rating=score)
    _tell_staff(services, session, services.complaint_rules.supervisor, texts.STAFF_BAD_RATING.format(
        ticket=complaint.ticket_no, department=complaint.department, rating=name, comment=comment or "无"))
    return texts.RATING_REOPENED.format(rating=name, ticket=complaint.ticket_no)


def close(services, session, complaint: Complaint, actor: str, note: str = "") -> Complaint:
    complaint.status, complaint.closed_at = "closed", utcnow()
    closed_day = clock.local_day(complaint.closed_at)
    resolved_day = (clock.local_day(complaint.resolved_at)
                    if complaint.resolved_at else closed_day)
    complaint.closed_on_time = resolved_day <= complaint.due
    store.add_event(session, complaint, actor, "status", note, status="closed")
    return complaint


def withdraw(services, session, complaint: Complaint, actor: str, told: str, may_close: bool = True) -> bool:
    """The owner takes a ticket back. One nobody has started (received) is closed at once as withdrawn —
    it stays in the figures as closed, like any 撤单; one already in hand (or, with `may_close` False, filed
    by a colleague) is the department's to close, so the wish is noted for them. Either way the
    department's staff are told. True when it was closed."""
    staff = services.complaint_rules.department_staff.get(complaint.department, ())
    fields = _staff_fields(complaint, told)
    if complaint.status != "received" or not may_close:
        add_note(session, complaint, texts.NOTE_WITHDRAW_ASKED.format(text=told[:200]), actor)
        _tell_staff(services, session, staff, texts.STAFF_WITHDRAW_ASKED.format(**fields))
        return False
    complaint.status, complaint.closed_at, complaint.closed_on_time = "closed", utcnow(), True
    store.add_event(session, complaint, actor, "withdrawn", told[:200], status="closed")
    _tell_staff(services, session, staff, texts.STAFF_WITHDRAWN.format(**fields))
    return True


def reinstate(services, session, complaint: Complaint, told: str, actor: str = "user") -> Complaint:
    """A ticket its owner withdrew by mistake ("哎呀按错了，不是要撤回") is received again, its deadlines as filed;
    the department's staff, told of the withdrawal, are told it stands."""
    complaint.status, complaint.closed_at, complaint.closed_on_time = "received", None, None
    store.add_event(session, complaint, actor, "status", texts.NOTE_REINSTATED.format(text=told[:200]),
                    status="received")
    _tell_staff(services, session, services.complaint_rules.department_staff.get(complaint.department, ()),
                texts.STAFF_REINSTATED.format(**_staff_fields(complaint, told)))
    return complaint


def _staff_fields(complaint: Complaint, told: str) -> dict:
    """What a department's staff are told of an owner's word on a ticket (撤回, 撤回有误)."""
    return {"ticket": complaint.ticket_no, "category": complaint.category,
            "enterprise": _enterprise_name(complaint), "text": told[:60]}


def _reopen_fields(complaint: Complaint) -> None:
    complaint.reopen_count += 1
    complaint.resolved_at = complaint.closed_at = complaint.closed_on_time = None
    complaint.rating = None


def _enterprise_name(complaint: Complaint) -> str:
    return complaint.enterprise_label or "未绑定企业"


def _tell_owner(services, session, complaint: Complaint, text: str) -> None:
    """Push to the owner's chat; group members cannot be pushed to (they ask the bot instead)."""
    owner = users.get(session, complaint.user_ref) if complaint.user_ref else None
    if owner is None or owner.channel == "group" or not owner.followed:
        return
    jobs.queue_push(services, session, owner.channel, owner.user_id, text, title="诉求办理进度")


def _tell_staff(services, session, user_ids, text: str) -> None:
    if user_ids:
        ids = list(user_ids)
        after_commit(session, lambda: services.queue.enqueue(jobs.notify_wecom, ids, text))


def deadline_checks(services, today: date | None = None) -> dict:
    """预警 one working day before the deadline, 督办 once overdue; each sent once per deadline."""
    today = today or clock.today()
    rules = services.complaint_rules
    warn_until = rules.calendar.add(today, 1)
    counts = {"warned": 0, "escalated": 0}
    with services.db.session() as session:
        for complaint in store.needing_warning(session, warn_until):
            complaint.warned = True
            store.add_event(session, complaint, "system", "warned", due=complaint.due.isoformat())
            _tell_staff(services, session, rules.department_staff.get(complaint.department, ()),
                        texts.STAFF_WARNING.format(ticket=complaint.ticket_no, category=complaint.category,
                                                   enterprise=_enterprise_name(complaint), due=complaint.due))
            counts["warned"] += 1
        for complaint in store.overdue_unescalated(session, today):
            complaint.escalated = True
            store.add_event(session, complaint, "system", "escalated", due=complaint.due.isoformat())
            _tell_staff(services, session, rules.supervisor, texts.STAFF_ESCALATION.format(
                ticket=complaint.ticket_no, category=complaint.category, department=complaint.department,
                enterprise=_enterprise_name(complaint), due=complaint.due))
            _tell_outreach(services, session, complaint, "overdue")
            counts["escalated"] += 1
    return counts


def rating_followups(services, today: date | None = None) -> dict:
    """No rating after N working days → one reminder; after 2N → closed as 未评价."""
    today = today or clock.today()
    rules = services.complaint_rules
    counts = {"reminded": 0, "closed_unrated": 0}
    with services.db.session() as session:
        for complaint in store.resolved_unrated(session):
            resolved_day = clock.local_day(complaint.resolved_at)
            waited = rules.calendar.between(resolved_day, today)
            if waited >= 2 * rules.rating_reminder_days:
                close(services, session, complaint, "system", texts.UNRATED_NOTE)
                counts["closed_unrated"] += 1
            elif waited >= rules.rating_reminder_days and not complaint.rating_reminded:
                complaint.rating_reminded = True
                _tell_owner(services, session, complaint, texts.RATING_REMINDER.format(ticket=complaint.ticket_no))
                counts["reminded"] += 1
    return counts


# --- outreach (issue 17): the enterprise's liaison hears of its new tickets, its leading cadre of overdue ones,
# and the supervisor of what a monitor (监测员) files; who they are is storage.outreach's to say ---

def _tell_outreach(services, session, complaint: Complaint, moment: str, summary: str = "") -> None:
    ids = outreach_store.ticket_watchers(session, complaint, moment, services.complaint_rules.supervisor)
    enterprise = _enterprise_name(complaint)
    _tell_staff(services, session, ids, texts.STAFF_NEW.format(
        ticket=complaint.ticket_no, category=complaint.category, enterprise=enterprise, summary=summary)
        if moment == "new" else texts.STAFF_ESCALATION.format(
        ticket=complaint.ticket_no, category=complaint.category, department=complaint.department,
        enterprise=enterprise, due=complaint.due))


# The worker runs these (bot/worker.py lists every feature's).
PERIODIC = [
    Periodic("complaint_deadlines", 600, deadline_checks),
    Periodic("complaint_ratings", 3600, rating_followups),
]

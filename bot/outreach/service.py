"""One-to-one liaison (包联): who serves which enterprise, what an owner is told when they ask for their
liaison, visits (走访) whose problems become tickets, monitors (监测员), and the 我的企业 overview."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot import clock
from bot.complaints import service as complaints
from bot.errors import DomainError
from bot.outreach import texts
from bot.policies import service as policies
from nlp.slots import complaint_category
from storage import enterprises, staff, users
from storage import outreach as store
from storage.models import Enterprise, EnterpriseLiaison

MAX_PROBLEMS = 20       # tickets one visit may raise


class OutreachError(DomainError):
    """A liaison, visit or monitor change that cannot be made as asked; its text is shown as it is."""


def enterprise_named(session, name: str) -> Enterprise:
    found = enterprises.by_name(session, (name or "").strip())
    if found is None:
        raise OutreachError(f"企业名录中没有「{name}」")
    return found


def account_named(session, username: str):
    found = staff.by_username(session, (username or "").strip())
    if found is None or not found.active:
        raise OutreachError(f"没有名为 {username} 的工作人员账号")
    return found


def assign(session, enterprise: Enterprise, liaison: str, leader: str | None = None, key: bool | None = None,
           actor: str = "staff") -> EnterpriseLiaison:
    """Set the enterprise's liaison (and leading cadre; None keeps the present one), and mark it 重点企业."""
    current = store.liaison_of(session, enterprise.id)
    liaison_account = account_named(session, liaison) if liaison else None
    if leader is None:
        leader_account = current.leader if current else None
    else:
        leader_account = account_named(session, leader) if leader else None
    if key is not None:
        enterprises.set_tags(enterprise, [t for t in enterprise.tags or [] if t != store.KEY_TAG]
                             + ([store.KEY_TAG] if key else []))
    return store.assign(session, enterprise, liaison_account, leader_account, actor)


def set_contact(session, username: str, name=None, wecom_id=None, phone=None):
    return store.set_contact(session, account_named(session, username), name, wecom_id, phone)


def _person(session, account) -> tuple[str, str, str]:
    """(name, department, phone) of a staff member as an owner reads them."""
    contact = store.contact_of(session, account.id)
    name = (contact.name if contact else "") or account.username
    return name, account.department or texts.UNKNOWN, (contact.phone if contact else "") or texts.UNKNOWN


def liaison_answer(session, user) -> str:
    """'我的联络员是谁': the verified member's liaison (and leading cadre), never anyone else's."""
    if user is None or user.enterprise_id is None:
        return texts.LIAISON_NOT_MEMBER
    row = store.liaison_of(session, user.enterprise_id)
    name = user.enterprise.name
    if row is None or row.liaison is None:
        return texts.NO_LIAISON.format(enterprise=name)
    person, department, phone = _person(session, row.liaison)
    reply = texts.LIAISON.format(enterprise=name, name=person, department=department, phone=phone)
    if row.leader is not None:
        leader, leader_department, _ = _person(session, row.leader)
        reply += texts.LIAISON_LEADER.format(name=leader, department=leader_department)
    return reply + texts.LIAISON_TAIL


def record_visit(services, session, enterprise: Enterprise, visited_on: date, staff_names: str, notes: str,
                 problems: list[str], actor: str, kind: str = "走访", met: str = ""):
    """A visit, 座谈 or 调研 and the problems raised there, each filed as the enterprise's ticket (source 走访)."""
    if kind not in texts.VISIT_KINDS:
        raise OutreachError(f"类型应为{'、'.join(texts.VISIT_KINDS)}之一")
    if visited_on > clock.today():
        raise OutreachError("走访日期不能晚于今天")
    problems = [p.strip() for p in problems if p.strip()]
    if len(problems) > MAX_PROBLEMS:
        raise OutreachError(f"一次走访最多登记 {MAX_PROBLEMS} 个问题")
    visit = store.add_visit(session, enterprise_id=enterprise.id, visited_on=visited_on, kind=kind,
                            staff=staff_names.strip()[:200], met=met.strip()[:200], notes=notes.strip()[:4000],
                            tickets=[], created_by=actor)
    tickets = []
    for problem in problems:
        complaint, _ = complaints.file(services, session, description=problem[:4000],
                                       category=complaint_category(problem), source="走访",
                                       enterprise_id=enterprise.id, actor=actor)
        tickets.append(complaint.ticket_no)
    visit.tickets = list(dict.fromkeys(tickets))
    return visit


def set_monitor(session, channel: str, user_id: str, on: bool):
    """An enterprise's verified member becomes (or stops being) a business-environment monitor."""
    user = users.find(session, channel, user_id)
    if user is None:
        raise OutreachError(f"没有用户 {channel}:{user_id}")
    if on and user.enterprise_id is None:
        raise OutreachError("监测员须是已认证的企业成员（先用 users link 或邀请码认证）")
    store.set_monitor(user, on)
    return user


@dataclass
class EnterpriseRow:
    """One line of 我的企业."""
    enterprise: Enterprise
    role: str                                      # 联络员 | 包联领导
    key: bool
    open_tickets: list = field(default_factory=list)
    last_contact: tuple[str, object] | None = None  # (kind, when)
    meetings: int = 0
    policies: list = field(default_factory=list)   # (policy, why) it fits and has not applied for
    answers: list = field(default_factory=list)     # survey responses


def my_enterprises(session, staff_id: int | None, today: date | None = None) -> list[EnterpriseRow]:
    """The enterprises of one liaison or leading cadre (None: every assigned one), with what matters now."""
    rows = store.assignments(session, staff_id)
    ids = [r.enterprise_id for r in rows]
    messages, visits = store.last_message_at(session, ids), _last_visits(session, ids)
    meetings, tickets = store.meetings_attended(session, ids), store.open_tickets(session, ids)
    applied, answers = store.applied_policy_ids(session, ids), store.responses_of_enterprises(session, ids)
    out = []
    for row in rows:
        e = row.enterprise
        attended = meetings.get(e.id, (0, None))
        contact_moments = [("消息", clock.to_local(messages[e.id]) if e.id in messages else None),
                           ("走访", _as_moment(visits.get(e.id))), ("早茶会", attended[1])]
        known = [(kind, at) for kind, at in contact_moments if at is not None]
        out.append(EnterpriseRow(
            e, _role(row, staff_id), store.KEY_TAG in (e.tags or []),
            tickets.get(e.id, []), max(known, key=lambda k: k[1]) if known else None, attended[0],
            [(p, why) for p, why in policies.suitable(session, e, today) if p.id not in applied.get(e.id, set())],
            answers.get(e.id, [])))
    return out


def _role(row: EnterpriseLiaison, staff_id: int | None) -> str:
    """What the account is to the enterprise; on the all-enterprises view, who serves it."""
    if staff_id is not None:
        return "联络员" if row.liaison_id == staff_id else "包联领导"
    leader = f"，包联领导 {row.leader.username}" if row.leader else ""
    return f"联络员 {row.liaison.username if row.liaison else '—'}{leader}"


def _last_visits(session, ids) -> dict[int, date]:
    found = {}
    for visit in store.visits(session, ids, limit=10_000):
        found.setdefault(visit.enterprise_id, visit.visited_on)
    return found


def _as_moment(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time()) if day else None

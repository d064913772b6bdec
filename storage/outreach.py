"""Outreach: liaisons (包联) and their contacts, monitors, visits (走访), policy applications, surveys and
their responses, and the period's outreach figures. Every SQL of the outreach feature."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import and_, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import (
    ChannelUser,
    Complaint,
    Delivery,
    Enterprise,
    EnterpriseLiaison,
    InboundMessage,
    Meeting,
    MeetingSignup,
    PolicyApplication,
    StaffAccount,
    StaffContact,
    Survey,
    SurveyResponse,
    Visit,
    utcnow,
)

KEY_TAG = "重点企业"                      # a key enterprise is one tagged so (so `tag:重点企业` reaches them)
MONITOR_ROLE = "monitor"                  # 营商环境监测员: an enterprise user who reports from inside
CHAT_SOURCES = ("wechat", "wecom", "group")
OUTREACH_SOURCES = ("走访", "监测员", "早茶会", "问需")
OPEN_STATUSES = ("received", "assigned", "in_progress")


# --- staff contacts and liaisons ---

def contact_of(session: Session, staff_id: int) -> StaffContact | None:
    return session.get(StaffContact, staff_id)


def set_contact(session: Session, account: StaffAccount, name: str | None = None, wecom_id: str | None = None,
                phone: str | None = None) -> StaffContact:
    """Change the fields given (None keeps a field as it is)."""
    contact = contact_of(session, account.id)
    if contact is None:
        contact = StaffContact(staff_id=account.id, name="", wecom_id="", phone="")
        session.add(contact)
    for field, value in (("name", name), ("wecom_id", wecom_id), ("phone", phone)):
        if value is not None:
            setattr(contact, field, value.strip())
    contact.updated_at = utcnow()
    session.flush()
    return contact


def contacts(session: Session, staff_ids) -> dict[int, StaffContact]:
    ids = [i for i in staff_ids if i]
    if not ids:
        return {}
    return {c.staff_id: c for c in session.scalars(select(StaffContact).where(StaffContact.staff_id.in_(ids)))}


def liaison_of(session: Session, enterprise_id: int | None) -> EnterpriseLiaison | None:
    return session.get(EnterpriseLiaison, enterprise_id) if enterprise_id else None


def assign(session: Session, enterprise: Enterprise, liaison: StaffAccount | None, leader: StaffAccount | None,
           actor: str) -> EnterpriseLiaison:
    """The enterprise's liaison and leading cadre, as given (None: nobody)."""
    row = liaison_of(session, enterprise.id)
    if row is None:
        row = EnterpriseLiaison(enterprise_id=enterprise.id)
        session.add(row)
    row.liaison_id = liaison.id if liaison else None
    row.leader_id = leader.id if leader else None
    row.assigned_by, row.assigned_at = actor, utcnow()
    session.flush()
    session.refresh(row)
    return row


def assign_from_roster(session: Session, enterprise: Enterprise, liaison: str | None, leader: str | None,
                       row: int) -> None:
    """The roster's liaison/leader columns (console usernames); an empty cell keeps what is set."""
    liaison, leader = (liaison or "").strip(), (leader or "").strip()
    if not liaison and not leader:
        return
    current = liaison_of(session, enterprise.id)
    people = []
    for username, kept in ((liaison, current.liaison if current else None), (leader, current.leader if current else None)):
        account = session.scalar(select(StaffAccount).where(StaffAccount.username == username)) if username else kept
        if username and account is None:
            raise ValueError(f"第 {row + 1} 行：没有名为 {username} 的工作人员账号（liaison、leader 列填账号的用户名）")
        people.append(account)
    assign(session, enterprise, people[0], people[1], "roster")


def assignments(session: Session, staff_id: int | None = None) -> list[EnterpriseLiaison]:
    """Every enterprise with a liaison or leader, or those of one staff member (as either), by name."""
    query = select(EnterpriseLiaison).join(Enterprise, EnterpriseLiaison.enterprise_id == Enterprise.id)
    if staff_id is not None:
        query = query.where((EnterpriseLiaison.liaison_id == staff_id) | (EnterpriseLiaison.leader_id == staff_id))
    return list(session.scalars(query.order_by(Enterprise.name)))


def wecom_ids(session: Session, staff_ids) -> list[str]:
    found = contacts(session, staff_ids)
    return [found[i].wecom_id for i in staff_ids if i in found and found[i].wecom_id]


def ticket_watchers(session: Session, complaint: Complaint, moment: str, supervisor=()) -> list[str]:
    """Who outside the department hears of a ticket (WeCom ids): when it is new, the enterprise's liaison,
    and the supervisor if a monitor filed it; when it is overdue, the enterprise's leading cadre."""
    row = liaison_of(session, complaint.enterprise_id)
    ids = []
    if moment == "new":
        ids = wecom_ids(session, [row.liaison_id]) if row else []
        if complaint.source == "监测员":
            ids += list(supervisor)
    elif moment == "overdue" and row is not None:
        ids = wecom_ids(session, [row.leader_id])
    return list(dict.fromkeys(i for i in ids if i))


# --- monitors (营商环境监测员) ---

def is_monitor(user: ChannelUser | None) -> bool:
    return user is not None and MONITOR_ROLE in (user.roles or [])


def set_monitor(user: ChannelUser, on: bool) -> None:
    roles = set(user.roles or [])
    user.roles = sorted(roles | {MONITOR_ROLE} if on else roles - {MONITOR_ROLE})


def monitors(session: Session) -> list[ChannelUser]:
    candidates = session.scalars(select(ChannelUser).where(ChannelUser.enterprise_id.is_not(None))
                                 .order_by(ChannelUser.id))
    return [u for u in candidates if is_monitor(u)]


def filing_source(session: Session, user_ref: int | None, source: str) -> str:
    """A ticket a monitor files in the chat carries the source 监测员."""
    if source not in CHAT_SOURCES or user_ref is None:
        return source
    return "监测员" if is_monitor(session.get(ChannelUser, user_ref)) else source


# --- visits (走访记录) and policy applications ---

def add_visit(session: Session, **fields) -> Visit:
    visit = Visit(**fields)
    session.add(visit)
    session.flush()
    return visit


def get_visit(session: Session, visit_id: int) -> Visit | None:
    return session.get(Visit, visit_id)


def visits(session: Session, enterprise_ids=None, since: date | None = None, until: date | None = None,
           limit: int = 500) -> list[Visit]:
    query = select(Visit)
    if enterprise_ids is not None:
        query = query.where(Visit.enterprise_id.in_(list(enterprise_ids)))
    if since is not None:
        query = query.where(Visit.visited_on >= since)
    if until is not None:
        query = query.where(Visit.visited_on < until)
    return list(session.scalars(query.order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(limit)))


def applied_policy_ids(session: Session, enterprise_ids) -> dict[int, set[int]]:
    found = defaultdict(set)
    rows = session.execute(select(PolicyApplication.enterprise_id, PolicyApplication.policy_id)
                           .where(PolicyApplication.enterprise_id.in_(list(enterprise_ids))))
    for enterprise_id, policy_id in rows:
        found[enterprise_id].add(policy_id)
    return found


def note_application(session: Session, enterprise_id: int, policy_id: int, actor: str) -> bool:
    """Record that the enterprise applied for the policy; False if it was recorded before."""
    try:
        with session.begin_nested():
            session.add(PolicyApplication(enterprise_id=enterprise_id, policy_id=policy_id, noted_by=actor))
    except IntegrityError:
        return False
    return True


# --- what 我的企业 shows per enterprise ---

def last_message_at(session: Session, enterprise_ids) -> dict[int, datetime]:
    rows = session.execute(select(ChannelUser.enterprise_id, func.max(InboundMessage.received_at))
                           .join(ChannelUser, InboundMessage.user_ref == ChannelUser.id)
                           .where(ChannelUser.enterprise_id.in_(list(enterprise_ids)))
                           .group_by(ChannelUser.enterprise_id))
    return dict(rows.all())


def meetings_attended(session: Session, enterprise_ids) -> dict[int, tuple[int, datetime]]:
    """{enterprise: (meetings attended, when the last one began)}."""
    rows = session.execute(select(MeetingSignup.enterprise_id, func.count(func.distinct(MeetingSignup.meeting_id)),
                                  func.max(Meeting.starts_at))
                           .join(Meeting, MeetingSignup.meeting_id == Meeting.id)
                           .where(MeetingSignup.enterprise_id.in_(list(enterprise_ids)),
                                  MeetingSignup.status == "attended")
                           .group_by(MeetingSignup.enterprise_id))
    return {e: (n, last) for e, n, last in rows}


def open_tickets(session: Session, enterprise_ids) -> dict[int, list[Complaint]]:
    found = defaultdict(list)
    for complaint in session.scalars(select(Complaint).where(Complaint.enterprise_id.in_(list(enterprise_ids)),
                                                             Complaint.status.in_(OPEN_STATUSES))
                                     .order_by(Complaint.id.desc())):
        found[complaint.enterprise_id].append(complaint)
    return found


def responses_of_enterprises(session: Session, enterprise_ids) -> dict[int, list[SurveyResponse]]:
    found = defaultdict(list)
    for response in session.scalars(select(SurveyResponse).where(
            SurveyResponse.enterprise_id.in_(list(enterprise_ids)), SurveyResponse.status == "complete")
            .order_by(SurveyResponse.id.desc())):
        found[response.enterprise_id].append(response)
    return found


def verified_members(session: Session, enterprise_ids=None) -> list[ChannelUser]:
    query = select(ChannelUser).where(ChannelUser.enterprise_id.is_not(None), ChannelUser.channel != "group")
    if enterprise_ids is not None:
        query = query.where(ChannelUser.enterprise_id.in_(list(enterprise_ids)))
    return list(session.scalars(query.order_by(ChannelUser.id)))


# --- surveys ---

def create_survey(session: Session, **fields) -> Survey:
    survey = Survey(**fields)
    session.add(survey)
    session.flush()
    return survey


def get_survey(session: Session, survey_id: int) -> Survey | None:
    return session.get(Survey, survey_id)


def surveys(session: Session, limit: int = 100) -> list[Survey]:
    return list(session.scalars(select(Survey).order_by(Survey.id.desc()).limit(limit)))


def get_response(session: Session, response_id: int) -> SurveyResponse | None:
    return session.get(SurveyResponse, response_id)


def response_of(session: Session, survey_id: int, enterprise_id: int) -> SurveyResponse | None:
    return session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id,
                                                       SurveyResponse.enterprise_id == enterprise_id))


def start_response(session: Session, survey_id: int, enterprise_id: int, user_ref: int) -> SurveyResponse:
    """The enterprise's one response, created by whoever starts first (two colleagues at once get the same)."""
    found = response_of(session, survey_id, enterprise_id)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            found = SurveyResponse(survey_id=survey_id, enterprise_id=enterprise_id, user_ref=user_ref,
                                   answers={}, tickets={}, status="in_progress")
            session.add(found)
    except IntegrityError:
        found = response_of(session, survey_id, enterprise_id)
    return found


def responses(session: Session, survey_id: int, complete_only: bool = True) -> list[SurveyResponse]:
    query = select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)
    if complete_only:
        query = query.where(SurveyResponse.status == "complete")
    return list(session.scalars(query.order_by(SurveyResponse.completed_at, SurveyResponse.id)))


def _recipients_of(broadcast_ids):
    """(delivery, its user) pairs of these broadcasts, for users that are enterprise members."""
    return (select(Delivery, ChannelUser).join(ChannelUser, and_(ChannelUser.channel == Delivery.channel,
                                                                 ChannelUser.user_id == Delivery.recipient))
            .where(Delivery.broadcast_id.in_([b for b in broadcast_ids if b]), ChannelUser.enterprise_id.is_not(None)))


def targeted_enterprises(session: Session, survey: Survey) -> set[int]:
    """The enterprises whose members the survey was sent to."""
    return {user.enterprise_id for _, user in session.execute(_recipients_of([survey.broadcast_id]))}


def open_surveys_for(session: Session, enterprise_id: int) -> list[Survey]:
    """Sent surveys that reached a member of this enterprise, newest first."""
    rows = session.scalars(select(Survey).where(Survey.status == "sent", Survey.broadcast_id.in_(
        select(Delivery.broadcast_id).join(ChannelUser, and_(ChannelUser.channel == Delivery.channel,
                                                             ChannelUser.user_id == Delivery.recipient))
        .where(ChannelUser.enterprise_id == enterprise_id))).order_by(Survey.id.desc()))
    return list(rows)


def unanswered_recipients(session: Session, survey: Survey) -> list[tuple[str, str, str]]:
    """(channel, recipient, kind) of the survey's first sending whose enterprise has not answered."""
    answered = {r.enterprise_id for r in responses(session, survey.id)}
    return [(d.channel, d.recipient, d.kind) for d, user in session.execute(_recipients_of([survey.broadcast_id]))
            if user.enterprise_id not in answered and user.followed]


def due_for_reminder(session: Session) -> list[Survey]:
    return list(session.scalars(select(Survey).where(Survey.status == "sent", Survey.reminded_at.is_(None),
                                                     Survey.sent_at.is_not(None))))


def claim_reminder(session: Session, survey_id: int, now: datetime) -> bool:
    """Once per survey, whichever worker gets here first."""
    done = session.execute(update(Survey).where(Survey.id == survey_id, Survey.reminded_at.is_(None))
                           .values(reminded_at=now).execution_options(synchronize_session=False))
    return done.rowcount == 1


# --- the period's figures ---

def _in(column, start, end):
    return and_(true(), *([column >= start] if start is not None else []), *([column < end] if end is not None else []))


def contacted_enterprises(session: Session, since: date | None, until: date | None, start, end) -> set[int]:
    """Enterprises the park was in touch with in the period, on any channel: a member wrote, a visit,
    a breakfast meeting attended or signed up for, a ticket filed, a survey answered."""
    found = set(session.scalars(select(ChannelUser.enterprise_id).join(InboundMessage, InboundMessage.user_ref == ChannelUser.id)
                                .where(ChannelUser.enterprise_id.is_not(None), _in(InboundMessage.received_at, start, end))
                                .distinct()))
    found |= {v.enterprise_id for v in visits(session, since=since, until=until, limit=100_000)}
    found |= set(session.scalars(select(MeetingSignup.enterprise_id).join(Meeting, MeetingSignup.meeting_id == Meeting.id)
                                 .where(MeetingSignup.enterprise_id.is_not(None),
                                        MeetingSignup.status.in_(("confirmed", "attended")),
                                        _in(Meeting.starts_at, start, end)).distinct()))
    found |= set(session.scalars(select(Complaint.enterprise_id).where(Complaint.enterprise_id.is_not(None),
                                                                       _in(Complaint.created_at, start, end)).distinct()))
    found |= set(session.scalars(select(SurveyResponse.enterprise_id).where(
        SurveyResponse.status == "complete", _in(SurveyResponse.completed_at, start, end)).distinct()))
    return found


def key_enterprise_ids(session: Session) -> set[int]:
    return {e.id for e in session.scalars(select(Enterprise)) if KEY_TAG in (e.tags or [])}


def survey_figures(session: Session, start, end) -> list[dict]:
    rows = []
    for survey in session.scalars(select(Survey).where(Survey.sent_at.is_not(None), _in(Survey.sent_at, start, end))
                                  .order_by(Survey.id)):
        asked = targeted_enterprises(session, survey)
        answered = {r.enterprise_id for r in responses(session, survey.id)}
        rows.append({"id": survey.id, "title": survey.title, "purpose": survey.purpose, "enterprises": len(asked),
                     "answered": len(answered), "rate": round(len(answered) / len(asked), 3) if asked else None})
    return rows


def period_figures(session: Session, since: date | None, until: date | None, start, end,
                   tickets_by_source: dict[str, int]) -> dict:
    """Visits, enterprises contacted, survey response rates, outreach tickets by source, monitors.
    `tickets_by_source` is the period's tickets (not merged) counted by source, as the caller's figures already
    hold them: counted again here, the database would choose the source index and read every ticket ever filed
    from those sources (16 ms at 50,000 tickets)."""
    period_visits = visits(session, since=since, until=until, limit=100_000)
    keys = key_enterprise_ids(session)
    visited = {v.enterprise_id for v in period_visits}
    contacted = contacted_enterprises(session, since, until, start, end)
    surveys_sent = survey_figures(session, start, end)
    asked = sum(s["enterprises"] for s in surveys_sent)
    answered = sum(s["answered"] for s in surveys_sent)
    return {
        "visits": len(period_visits), "enterprises_visited": len(visited), "key_enterprises_visited": len(visited & keys),
        "key_enterprises": len(keys), "enterprises_contacted": len(contacted),
        "key_enterprises_contacted": len(contacted & keys),
        "enterprises_with_liaison": session.scalar(select(func.count()).select_from(EnterpriseLiaison)
                                                   .where(EnterpriseLiaison.liaison_id.is_not(None))),
        "surveys": surveys_sent, "survey_enterprises": asked, "survey_answered": answered,
        "survey_response_rate": round(answered / asked, 3) if asked else None,
        "tickets_by_source": {source: tickets_by_source.get(source, 0) for source in OUTREACH_SOURCES},
        "monitors": len(monitors(session)),
    }

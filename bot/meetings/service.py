"""Breakfast meetings: signup with guarded capacity, waitlist and promotion, reminders, check-in,
and the problems raised there filed as complaints. Used by the chat, the CLI and the worker."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import clock
from bot.complaints import service as complaints
from bot.errors import DomainError
from bot.meetings import texts
from bot.push import jobs
from bot.push.scheduler import Periodic
from nlp.revisions import after_correction
from nlp.slots import chinese_number, complaint_category
from storage import meetings as store
from storage.models import Meeting, MeetingSignup, utcnow


class MeetingError(DomainError):
    """A change the meeting does not allow; shown to whoever asked."""


def when(moment: datetime) -> str:
    return f"{moment:%m月%d日}（周{texts.WEEKDAYS[moment.weekday()]}）{moment:%H:%M}"


DEMO_MARK = re.compile(r"\s*[（(](演示|测试|test|demo)[)）]", re.I)


def title(meeting: Meeting) -> str:
    """The meeting's title as attendees see it (a demo record's "（演示）" is for staff only)."""
    return DEMO_MARK.sub("", meeting.title or "")


def create(session, *, title: str, starts_at: datetime, venue: str, capacity: int,
           signup_deadline: datetime | None = None, theme: str = "", host: str = "", sector: str = "",
           per_enterprise_limit: int = 2) -> Meeting:
    if capacity <= 0:
        raise MeetingError("容量至少为 1")
    deadline = signup_deadline or starts_at
    if deadline > starts_at:
        raise MeetingError("报名截止时间不能晚于开始时间")
    return store.create(session, title=title, theme=theme, host=host, starts_at=starts_at, venue=venue,
                        capacity=capacity, per_enterprise_limit=per_enterprise_limit, signup_deadline=deadline,
                        sector=sector, status="open")


MEETING_STATUSES = ("open", "closed", "held", "cancelled")


def edit(services, session, meeting: Meeting, **changes) -> list[MeetingSignup]:
    """Change a meeting (None leaves a field as it is). Capacity cannot drop below the seats already
    confirmed; seats added go at once to the waitlist, in order, and those promoted are told."""
    changes = {name: value for name, value in changes.items() if value is not None}
    if changes.get("status", meeting.status) not in MEETING_STATUSES:
        raise MeetingError(f"早茶会状态应为：{'、'.join(MEETING_STATUSES)}")
    capacity = changes.get("capacity", meeting.capacity)
    if capacity < max(meeting.seats_taken, 1):
        raise MeetingError(f"已确认 {meeting.seats_taken} 个座位，容量不能少于此数（至少 1）")
    if changes.get("signup_deadline", meeting.signup_deadline) > changes.get("starts_at", meeting.starts_at):
        raise MeetingError("报名截止时间不能晚于开始时间")
    for name, value in changes.items():
        setattr(meeting, name, value)
    session.flush()
    return promote(services, session, meeting) if meeting.status == "open" else []


def open_for_signup(session, now: datetime) -> list[Meeting]:
    return [m for m in store.upcoming(session, now, ("open",)) if m.signup_deadline > now]


def describe(meetings: list[Meeting], now: datetime) -> str:
    if not meetings:
        return texts.NONE_UPCOMING
    lines = [texts.UPCOMING_HEAD]
    for n, m in enumerate(meetings, 1):
        seats = (texts.SEATS_LEFT.format(left=max(m.capacity - m.seats_taken, 0), capacity=m.capacity,
                                         deadline=when(m.signup_deadline))
                 if m.status == "open" and m.signup_deadline > now else texts.SEATS_CLOSED)
        lines.append(texts.MEETING_LINE.format(n=n, title=title(m), theme=f"（{m.theme}）" if m.theme else "",
                                               when=when(m.starts_at), venue=m.venue, seats=seats))
    return "\n".join(lines) + texts.INFO_TAIL


UNREAD = object()


def signup(services, session, meeting: Meeting, user, seats: int = 1, note: str = "",
           now: datetime | None = None, existing=UNREAD, taken: int | None = None) -> tuple[MeetingSignup | None, str]:
    """Confirm if seats are free (guarded in the database), else waitlist; returns (signup, reply).
    `existing`: the user's signup for this meeting (or None) and `taken`: the seats the user's enterprise
    holds at it, when the caller has just read them (room())."""
    now = now or clock.now()
    seats = max(1, seats)
    if existing is UNREAD:
        existing = store.signup_of(session, meeting.id, user.id)
    if existing is not None and existing.status in ("confirmed", "waitlisted", "attended"):
        return existing, texts.ALREADY.format(title=title(meeting), status=texts.STATUS_NAMES[existing.status])
    if meeting.status != "open" or meeting.signup_deadline <= now:
        return None, texts.DEADLINE_PASSED.format(title=title(meeting), deadline=when(meeting.signup_deadline))
    enterprise = user.enterprise
    if meeting.sector and (enterprise is None or meeting.sector not in (enterprise.industry or "")):
        return None, texts.WRONG_SECTOR.format(title=title(meeting), sector=meeting.sector)
    if taken is None or enterprise is None:
        taken = store.enterprise_seats(session, meeting.id, enterprise.id) if enterprise else 0
    if taken + seats > meeting.per_enterprise_limit:
        return None, texts.ENTERPRISE_LIMIT.format(title=title(meeting), limit=meeting.per_enterprise_limit,
                                                   taken=taken)
    confirmed = store.take_seats(session, meeting.id, seats)
    fields = dict(meeting_id=meeting.id, user_ref=user.id, enterprise_id=enterprise.id if enterprise else None,
                  seats=seats, note=note[:1000], status="confirmed" if confirmed else "waitlisted",
                  waitlisted_at=None if confirmed else utcnow(), updated_at=utcnow(), no_show=False)
    if existing is not None:   # signing up again after cancelling
        for key, value in fields.items():
            setattr(existing, key, value)
        record = existing
    else:
        record = store.add_signup(session, **fields)
    if confirmed:
        return record, texts.CONFIRMED.format(title=title(meeting), seats=seats, when=when(meeting.starts_at),
                                              venue=meeting.venue)
    return record, texts.WAITLISTED.format(title=title(meeting), position=waitlist_position(session, record))


def waitlist_position(session, record: MeetingSignup) -> int:
    """The signup's place in its meeting's waitlist (1 = next to be promoted); 0 when it is not waitlisted."""
    session.flush()
    if record.status != "waitlisted" or record.id is None:
        return 0
    if record.waitlisted_at is None:    # not from signup(): where it stands is the list's to say
        return next((i for i, s in enumerate(store.waitlist(session, record.meeting_id), 1) if s.id == record.id), 0)
    return store.waitlisted_ahead(session, record) + 1


def change_seats(session, record: MeetingSignup, seats: int) -> tuple[str, Room | None]:
    """A follow-up "带两个同事": take the extra seats if free. (reply, room): when fewer are left than
    asked, nothing changes and the reply offers what is left (room says how many), or says why none is."""
    meeting = store.get(session, record.meeting_id)
    extra = seats - record.seats
    if extra <= 0 or record.status != "confirmed":
        record.seats = seats if record.status == "waitlisted" else record.seats
        return texts.SEATS_CHANGED.format(seats=record.seats), None
    found = room(session, meeting, record.enterprise_id, held=record.seats)
    if not record.enterprise_id:   # a signup for no enterprise: only the free seats count
        found = Room(max(meeting.capacity - meeting.seats_taken, 0), "capacity", record.seats, found.limit)
    if extra > found.seats:
        if found.seats <= 0:
            if found.limited_by == "enterprise":
                return texts.ENTERPRISE_LIMIT.format(title=title(meeting), limit=meeting.per_enterprise_limit,
                                                     taken=found.taken), None
            return texts.SEATS_CHANGE_FULL.format(seats=seats, old=record.seats), None
        return offer_text(meeting, found, extra, adding=True), found
    if not store.take_seats(session, meeting.id, extra):
        return texts.SEATS_CHANGE_FULL.format(seats=seats, old=record.seats), None
    record.seats = seats
    return texts.SEATS_CHANGED.format(seats=seats), None


# --- reading a signup message: how many people, and what they want to raise ---

_N = r"(\d{1,2}|[一二两俩三四五六七八九十]{1,2})"
_PERSON = (r"(同事|员工|伙伴|朋友|领导|老板|经理|技术员|负责人|师傅|会计|主任|厂长|主管|助理|工程师|人|位|"
           r"colleagues?|coworkers?|boss|manager|friends?)")
# "跟领导反映一下", "和经理聊聊": whom the speaker will talk to at the meeting, not who comes along
_TALK_TO = r"(反映|反馈|说|聊|谈|汇报|提|交流|沟通|讲|请教|咨询|当面)"
# companions: "带两个同事", "再带个同事", "我和一个同事", "跟小王两个人" (their number, without the speaker)
_COMPANIONS = re.compile(rf"(带上?|再带|加上?|再加|还有|和|跟|与|以及|外加)\s*{_N}?\s*(个|位|名)?\s*{_PERSON}"
                         rf"(?!{_TALK_TO})")
_TOTAL = re.compile(rf"(一共|总共|共计|合计|共|我们|咱们|我们公司|公司|总计)\s*(来|去|报|参加)?\s*{_N}\s*(个人|个|位|名|人)")
_COUNT = re.compile(rf"(?<![第带加])(?:报|来|去|订|留|要|就|先报我?|报我|算我|我)?{_N}\s*(个人|位|名|人|个|people|persons|pax)"
                    r"(?!同事|员工|朋友|伙伴|问题|事|工单|诉求|月|星期|小时|天)")
# "我和财务经理一起去": one named companion
_WITH_ONE = re.compile(r"(?:我(和|跟|与|带着?)|带上?)[^，,。\d一二两俩三四五六七八九十]{0,6}?"
                       r"(同事|员工|伙伴|朋友|领导|老板|经理|总监|主管|会计|财务|技术员|负责人|厂长|主任|助理|秘书|老总|副总|"
                       r"师傅|工程师|儿子|女儿|老婆|老公|爱人|家属|徒弟|搭档|合伙人|股东|boss)" + rf"(?!{_TALK_TO})")
# "我儿子也跟我一起去", "老板也一起来": someone else comes along with the speaker
_ALONG = re.compile(r"[^，,。\s]{1,6}(也|都)(跟我|和我|同我)?(一起|一齐|一同|一路|一块儿?|一道)(去|来|参加)")
_ME_ALONE = re.compile(r"(就|只有|只|净系|净是)?我(一个|自己|一人)(人)?|算我一个|报我一个|我本人")
_PAIR = re.compile(r"我们俩|咱俩|我俩|两个人|俩人")


def party_size(text: str) -> int | None:
    """How many people a signup message means, speaker included: "带两个同事" → 3, "再带个同事" → 2,
    "我和一个同事" → 2, "我们三个人" → 3, "一共来三个人" → 3, "那就两个人吧" → 2, "先报我一个" → 1;
    None when it does not say. After a correction ("两个人 哦不对 就我自己") the corrected number counts."""
    corrected = after_correction(text)
    if corrected is not None and corrected != text:
        said = party_size(corrected)
        if said is not None:
            return said
    total = _TOTAL.search(text)
    if total and re.search(r"一共|总共|共计|合计|总计", text):
        return chinese_number(total.group(3))
    companions = _COMPANIONS.search(text)
    if companions and not re.search(r"(我们|咱们|一共|总共)\s*" + _N, text):
        n = chinese_number(companions.group(2)) if companions.group(2) else 1
        if companions.group(4) in ("人", "位") and companions.group(1) in ("和", "跟", "与") and companions.group(2):
            return n   # "跟小王两个人": the number is everybody
        return n + 1 if n else None
    if total:
        return chinese_number(total.group(3))
    if _PAIR.search(text) or _WITH_ONE.search(text) or _ALONG.search(text):
        return 2
    count = _COUNT.search(text)
    if count:
        return chinese_number(count.group(1))
    if _ME_ALONE.search(text):
        return 1
    return None


# What someone wants to raise at the meeting: "想在会上提一下园区货车进出难的问题" → 园区货车进出难的问题.
_RAISE = re.compile(r"(提一?提|提一下|提下|提个|提出|提|说一?说|说一下|说下|聊一?聊|聊一下|聊下|谈一?谈|谈一下|谈下|"
                    r"反映一?下?|反馈一?下?|问一?问|问一下|讲一?讲|讲一下|汇报一?下?|交流一?下?|讨论一?下?|建议)")
_TALK = re.compile(r"聊|谈|提|说说|讨论|交流")          # cues that are about talking at a meeting anyway
MEETING_CONTEXT = re.compile(r"会上|到时候?|当面|早茶会|书记|领导|面对面|现场|会议上|见面")
_FILLER = re.compile(r"^(那|那我|就|我|我们|也|还|另外|顺便|到时候?|想|要|准备|打算|希望|在|会上|会议上|当面|跟|向|和|"
                     r"书记|领导|一下|关于|就是)+")
_TAIL = re.compile(r"(吧|哈|啊|呀|哦|呢|一下|的事情?吧?)$")


def topic_of(text: str, need_context: bool = False) -> str:
    """The matter someone wants to raise at the meeting, as they put it, or ""; with `need_context` a
    bare "反映一下…" (a complaint as much as a topic) counts only when it speaks of the meeting."""
    for clause in re.split(r"[，,。；;！!？?\n]+", text):
        cue = _RAISE.search(clause)
        if cue is None or re.search(r"报名|报个名|算我一个|参加|取消", clause[cue.start():]):
            continue
        if need_context and not (MEETING_CONTEXT.search(clause) or _TALK.search(cue.group(0))):
            continue
        topic = clause[cue.end():].strip(" ：:")
        if len(topic) < 2:   # "冷库资源不足的问题想当面问问"
            topic = _FILLER.sub("", clause[:cue.start()].strip())
            topic = re.sub(r"(想|要|准备)?(在会上|会上|当面|跟.{1,3}|向.{1,3})?$", "", topic)
        topic = _TAIL.sub("", topic.strip()).strip()
        if len(topic) >= 2:
            return topic[:200]
    return ""


def topic_note(note: str, topic: str) -> str:
    """The signup's note with the topic added (the roster's 备注 shows it): "议题：…"."""
    line = texts.TOPIC_LINE.format(topic=topic)
    return note if line in note else (note + "\n" + line).strip()[:1000]


def topics_in(note: str) -> list[str]:
    return [line[len(texts.TOPIC_LINE.format(topic="")):] for line in (note or "").splitlines()
            if line.startswith(texts.TOPIC_LINE.format(topic=""))]


@dataclass
class Room:
    """Seats one signup may still take: the fewer of the free seats and the enterprise's allowance."""
    seats: int
    limited_by: str     # "capacity" or "enterprise"
    taken: int          # seats the enterprise (or this signup) already holds
    limit: int


def room(session, meeting: Meeting, enterprise_id: int | None, held: int = 0) -> Room:
    free = max(meeting.capacity - meeting.seats_taken, 0)
    taken = store.enterprise_seats(session, meeting.id, enterprise_id) if enterprise_id else held
    allowance = max(meeting.per_enterprise_limit - taken, 0)
    if allowance < free:
        return Room(allowance, "enterprise", taken, meeting.per_enterprise_limit)
    return Room(free, "capacity", taken, meeting.per_enterprise_limit)


def offer_text(meeting: Meeting, found: Room, asked: int, adding: bool = False) -> str:
    """"还剩1个名额，先为您报1人？": the seats that are left, offered instead of a refusal."""
    what = (texts.OFFER_ADD if adding else texts.OFFER_NEW).format(n=found.seats)
    if found.limited_by == "enterprise":
        return texts.OFFER_LIMIT.format(title=title(meeting), limit=found.limit, taken=found.taken, n=found.seats,
                                        what=what)
    return texts.OFFER_SEATS.format(title=title(meeting), n=found.seats, asked=asked, what=what)


def signup_status(session, user, now: datetime | None = None) -> str:
    """"我报名了吗": the user's upcoming signups (status, seats, topic), else the colleagues', else none."""
    now = now or clock.now()
    lines = []
    for record in store.active_signups_of_user(session, user.id, now):
        meeting = store.get(session, record.meeting_id)
        lines.append(texts.STATUS_LINE.format(title=title(meeting), status=texts.STATUS_NAMES[record.status],
                                              seats=record.seats, when=when(meeting.starts_at), venue=meeting.venue))
        if record.status == "waitlisted":
            lines.append(texts.STATUS_WAITING.format(position=waitlist_position(session, record)))
        lines += [texts.STATUS_TOPIC.format(topic=topic) for topic in topics_in(record.note)]
    if lines:
        return "\n".join(lines + [texts.STATUS_TAIL])
    colleagues = store.active_signups_of_enterprise(session, user.enterprise_id, now) if user.enterprise_id else []
    if colleagues:
        meeting = store.get(session, colleagues[0].meeting_id)
        seats = sum(r.seats for r in colleagues if r.meeting_id == meeting.id)
        return texts.STATUS_COLLEAGUES.format(title=title(meeting), seats=seats)
    upcoming = open_for_signup(session, now)
    if upcoming:
        return texts.STATUS_NONE_OPEN.format(title=title(upcoming[0]), when=when(upcoming[0].starts_at))
    return texts.STATUS_NONE


def reduce_seats(services, session, record: MeetingSignup, seats: int) -> str:
    """"算了还是我一个人去吧": fewer seats on a confirmed signup; the freed ones go to the waitlist at once."""
    meeting = store.get(session, record.meeting_id)
    freed = record.seats - seats
    if record.status == "confirmed" and freed > 0:
        store.release_seats(session, meeting.id, freed)
        record.seats, record.updated_at = seats, utcnow()
        promote(services, session, meeting)
    elif record.status == "waitlisted":
        record.seats = seats
    return texts.SEATS_CHANGED.format(seats=record.seats)


def cancel(services, session, record: MeetingSignup) -> str:
    """Withdraw; freed seats go at once to the waitlist, in order, and those promoted are told."""
    meeting = store.get(session, record.meeting_id)
    was_confirmed = record.status == "confirmed"
    record.status, record.updated_at = "cancelled", utcnow()
    if was_confirmed:
        store.release_seats(session, meeting.id, record.seats)
        promote(services, session, meeting)
    return texts.CANCELLED.format(title=title(meeting))


def promote(services, session, meeting: Meeting) -> list[MeetingSignup]:
    promoted = []
    for waiting in store.waitlist(session, meeting.id):
        if not store.take_seats(session, meeting.id, waiting.seats):
            break   # first come, first served: nobody jumps the queue
        waiting.status, waiting.updated_at = "confirmed", utcnow()
        promoted.append(waiting)
        _tell(services, session, waiting, texts.PROMOTED.format(title=title(meeting), when=when(meeting.starts_at),
                                                                venue=meeting.venue))
    return promoted


def check_in(session, record: MeetingSignup) -> None:
    if record.status not in ("confirmed", "attended"):
        raise MeetingError(f"报名 {record.id} {texts.STATUS_NAMES.get(record.status, record.status)}：只有已确认的参会人可以签到")
    record.status, record.no_show, record.updated_at = "attended", False, utcnow()


def finish(session, meeting: Meeting) -> int:
    """The meeting was held: confirmed attendees who did not check in are recorded as no-shows."""
    meeting.status = "held"
    no_shows = 0
    for record in store.roster(session, meeting.id):
        if record.status == "confirmed":
            record.no_show = True
            no_shows += 1
    return no_shows


def raise_topic(services, session, meeting: Meeting, enterprise, text: str, category: str | None = None):
    """A problem raised at the meeting becomes a ticket filed on the enterprise's behalf (source 早茶会)."""
    complaint, _ = complaints.file(services, session, description=text, category=category or complaint_category(text),
                                source="早茶会", enterprise_id=enterprise.id, actor="staff", meeting_id=meeting.id)
    return complaint


def _tell(services, session, record: MeetingSignup, text: str) -> None:
    user = record.user
    if user is not None and user.channel != "group" and user.followed:
        jobs.queue_push(services, session, user.channel, user.user_id, text, title="早茶会通知")


def send_reminders(services, now: datetime | None = None) -> int:
    """Remind confirmed attendees once the meeting is within the lead time; each signup once only."""
    now = now or clock.now()
    lead = timedelta(hours=services.settings.meetings.reminder_lead_hours)
    sent = 0
    with services.db.session() as session:
        for record in store.due_reminders(session, now, now + lead):
            if store.claim_reminder(session, record.id):
                meeting = store.get(session, record.meeting_id)
                _tell(services, session, record, texts.REMINDER.format(
                    title=title(meeting), when=when(meeting.starts_at), venue=meeting.venue))
                sent += 1
    return sent


# The worker runs these (bot/worker.py lists every feature's).
PERIODIC = [
    Periodic("meeting_reminders", 300, send_reminders),
]

"""Tables. One class per table; behaviour lives in the per-aggregate modules beside this one."""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Enterprise(Base):
    """An enterprise of the park roster."""
    __tablename__ = "enterprises"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    contacts: Mapped[list] = mapped_column(JSON, default=list)
    profile: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ChannelUser(Base):
    """Somebody who wrote to the bot on one channel (an openid, a WeCom userid, a group member)."""
    __tablename__ = "channel_users"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_channel_user"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    roles: Mapped[list] = mapped_column(JSON, default=list)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    followed: Mapped[bool] = mapped_column(Boolean, default=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # enterprise_id is a VERIFIED membership only; how it was verified: staff | invite | claim
    linked_via: Mapped[str | None] = mapped_column(String(16))
    linked_at: Mapped[datetime | None] = mapped_column(DateTime)
    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")


class InboundMessage(Base):
    """Every callback we accepted, stored before we answer; the unique key stops WeChat's retries."""
    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "dedupe_key", name="uq_inbound_dedupe"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str] = mapped_column(String(160))
    user_ref: Mapped[int | None] = mapped_column(ForeignKey("channel_users.id"))
    chat_id: Mapped[str] = mapped_column(String(128), default="")
    msg_type: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    intent: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    reply: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # pending while in hand (still pending minutes later: the process died) | failed (a handler error,
    # listed in 未处理消息) | retried (answered on a staff retry) | manual (staff dealt with it); None = answered
    handled_state: Mapped[str | None] = mapped_column(String(16), index=True)
    handling_error: Mapped[str] = mapped_column(String(200), default="")   # the exception's class
    handling_attempts: Mapped[int] = mapped_column(Integer, default=0)      # staff retries so far
    handled_note: Mapped[str] = mapped_column(Text, default="")


class OutboundMessage(Base):
    """A push through the WeChat/WeCom API: what, to whom, and how it went."""
    __tablename__ = "outbound_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    to: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # custom | template | wecom | appchat
    body: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class DeferredJob(Base):
    """A background job RQ could not take (Redis unreachable), kept until the worker can enqueue it."""
    __tablename__ = "deferred_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    func: Mapped[str] = mapped_column(String(200))          # dotted path, as RQ names it
    args: Mapped[list] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TicketCounter(Base):
    """The last ticket sequence number handed out on a day (TS + date + 5-digit sequence)."""
    __tablename__ = "ticket_counters"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Complaint(Base):
    """A complaint, request or enquiry (投诉/诉求/咨询) and where it stands."""
    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(8))                 # 投诉 | 诉求 | 咨询
    category: Mapped[str] = mapped_column(String(16), index=True)
    department: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(16), index=True)  # wechat | wecom | group | 早茶会 | 走访 | 电话 | 监测员 | 12345
    status: Mapped[str] = mapped_column(String(16), index=True, default="received")
    tier: Mapped[str] = mapped_column(String(16), default="simple")
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    user_ref: Mapped[int | None] = mapped_column(ForeignKey("channel_users.id"), index=True)
    assignee: Mapped[str] = mapped_column(String(64), default="")
    accept_due: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer)          # 5 非常满意 … 1 非常不满意
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    rating_reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    warned: Mapped[bool] = mapped_column(Boolean, default=False)      # 预警 sent for the current due date
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)   # 督办 sent for the current due date
    meeting_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    merged_into: Mapped[str | None] = mapped_column(String(20))   # staff merged this duplicate into that ticket
    claimed_enterprise: Mapped[str | None] = mapped_column(String(200))  # named by an unverified filer: 待核实
    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")
    events: Mapped[list[ComplaintEvent]] = relationship(order_by="ComplaintEvent.id", lazy="selectin",
                                                          back_populates="complaint")

    @property
    def enterprise_label(self) -> str:
        """The enterprise as staff read it: a name only claimed by an unverified filer is marked."""
        if self.enterprise is not None:
            return self.enterprise.name
        return f"{self.claimed_enterprise}（待核实）" if self.claimed_enterprise else ""


class ComplaintEvent(Base):
    """One audited change of a ticket: who, when, what; public ones are told to the owner."""
    __tablename__ = "complaint_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    # filed | status | assigned | reply | note | extend | merged | attachment | rated | reopened | warned | escalated
    kind: Mapped[str] = mapped_column(String(16))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    complaint: Mapped[Complaint] = relationship(back_populates="events")


class Meeting(Base):
    """A government–enterprise breakfast meeting (政企早茶会)."""
    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(100), default="")      # theme or sector of the morning
    host: Mapped[str] = mapped_column(String(100), default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # park local time (Asia/Shanghai)
    venue: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)                    # seats
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)      # confirmed seats: the guarded counter
    per_enterprise_limit: Mapped[int] = mapped_column(Integer, default=2)
    signup_deadline: Mapped[datetime] = mapped_column(DateTime)
    sector: Mapped[str] = mapped_column(String(100), default="")      # only enterprises of this industry
    status: Mapped[str] = mapped_column(String(16), default="open")   # open | closed | held | cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MeetingSignup(Base):
    """One signup (a user for their enterprise, with colleagues) and where it stands."""
    __tablename__ = "meeting_signups"
    __table_args__ = (UniqueConstraint("meeting_id", "user_ref", name="uq_signup_user"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    user_ref: Mapped[int] = mapped_column(ForeignKey("channel_users.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    seats: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(Text, default="")       # attendees and the topic the firm wants to raise
    status: Mapped[str] = mapped_column(String(16), index=True)  # confirmed | waitlisted | cancelled | attended
    no_show: Mapped[bool] = mapped_column(Boolean, default=False)
    waitlisted_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[ChannelUser] = relationship(lazy="joined")
    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")


class Policy(Base):
    """An enterprise-benefit policy (惠企政策) of the policy base."""
    __tablename__ = "policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    doc_no: Mapped[str] = mapped_column(String(100), default="")        # 文号
    issuer: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(8), default="园区")        # 国家 | 省 | 州 | 园区
    category: Mapped[str] = mapped_column(String(32), default="")
    topics: Mapped[list] = mapped_column(JSON, default=list)             # 科技 税收 人才 用工 融资 产业
    summary: Mapped[str] = mapped_column(Text, default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[dict] = mapped_column(JSON, default=dict)               # checkable eligibility, see bot/policies/service.py
    beneficiaries: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[str] = mapped_column(String(200), default="")
    payout_mode: Mapped[str] = mapped_column(String(8), default="依申请")  # 免申即享 | 快申快享 | 依申请
    materials: Mapped[str] = mapped_column(Text, default="")
    how_to_apply: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    deadline: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source_url: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Subscription(Base):
    """A user's wish to receive policy notices, on one topic or ("") all."""
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_ref", "topic", name="uq_subscription"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_ref: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    topic: Mapped[str] = mapped_column(String(16), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Broadcast(Base):
    """A notice sent by staff to a target (all, topic:, tag:, group:)."""
    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500), default="")
    target: Mapped[str] = mapped_column(String(120))
    created_by: Mapped[str] = mapped_column(String(64), default="staff")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Delivery(Base):
    """One recipient of one broadcast; the unique key means nobody is sent the same notice twice."""
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("broadcast_id", "channel", "recipient", name="uq_delivery"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))              # custom | template | wecom | appchat
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    not_before: Mapped[datetime | None] = mapped_column(DateTime)     # back-off after a transient error
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)     # lease: a crashed worker's claim expires
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class StaffAccount(Base):
    """A console login: admin, staff (optionally scoped to one department) or viewer."""
    __tablename__ = "staff_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))          # admin | staff | viewer
    department: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Carried in each console session; replaced on logout and password change, which ends every session.
    session_token: Mapped[str] = mapped_column(String(64), default="", server_default="")


class AuditEntry(Base):
    """What a staff member did in the console, and when."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(120), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class EnterpriseInvite(Base):
    """An invitation code staff gave an enterprise: whoever sends it privately becomes a verified member.
    Only the code's SHA-256 is kept (and its last four characters, for staff to tell codes apart)."""
    __tablename__ = "enterprise_invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    enterprise: Mapped[Enterprise] = relationship(lazy="joined")


class EnterpriseClaim(Base):
    """A user's unverified claim to belong to an enterprise, waiting for staff to approve or reject it."""
    __tablename__ = "enterprise_claims"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_ref: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)   # pending | approved | rejected | withdrawn
    source: Mapped[str] = mapped_column(String(16))               # command | complaint | migrated
    ticket_no: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(Text, default="")         # staff's reason, told to the user
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[ChannelUser] = relationship(lazy="joined")
    enterprise: Mapped[Enterprise] = relationship(lazy="joined")


class WeComGroup(Base):
    """A WeCom group chat reached through its group robot's webhook (消息推送): `group:NAME` targets it.
    The webhook key is a secret (anyone holding it can post into the group): shown only masked."""
    __tablename__ = "wecom_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    webhook_key: Mapped[str] = mapped_column(String(128), unique=True)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)   # breakfast-meeting reminders posted here
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class GroupMeetingReminder(Base):
    """A meeting's reminder posted to a group: the unique key makes it once per meeting and group."""
    __tablename__ = "group_meeting_reminders"
    __table_args__ = (UniqueConstraint("meeting_id", "group_id", name="uq_group_meeting_reminder"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("wecom_groups.id", ondelete="CASCADE"))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AibotReply(Base):
    """An intelligent-robot answer that missed its callback, posted later to the callback's response_url:
    once (unique msgid, claimed before posting) and only within the hour WeCom keeps the url valid."""
    __tablename__ = "aibot_replies"
    id: Mapped[int] = mapped_column(primary_key=True)
    msgid: Mapped[str] = mapped_column(String(160), unique=True)
    response_url: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)                        # markdown
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")  # queued | sending | sent | failed | expired
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


# --- outreach (包联, 走访, 三问三促 surveys): issue 17 ---

class StaffContact(Base):
    """How an enterprise reaches a staff member (its liaison): the name, WeCom id and phone they give."""
    __tablename__ = "staff_contacts"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    wecom_id: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class EnterpriseLiaison(Base):
    """An enterprise's one-to-one service (包联): its liaison officer and the leading cadre above them."""
    __tablename__ = "enterprise_liaisons"
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True)
    liaison_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    assigned_by: Mapped[str] = mapped_column(String(64), default="")
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    liaison: Mapped[StaffAccount | None] = relationship(foreign_keys=[liaison_id], lazy="joined")
    leader: Mapped[StaffAccount | None] = relationship(foreign_keys=[leader_id], lazy="joined")


class Visit(Base):
    """A visit, 座谈 or 调研 at an enterprise (走访记录): when, who went, what was said, tickets raised."""
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    visited_on: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(8), default="走访")        # 走访 | 座谈 | 调研
    staff: Mapped[str] = mapped_column(String(200), default="")        # who went (park side)
    met: Mapped[str] = mapped_column(String(200), default="")          # whom they met (enterprise side)
    notes: Mapped[str] = mapped_column(Text, default="")
    tickets: Mapped[list] = mapped_column(JSON, default=list)          # ticket numbers of the problems raised
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    enterprise: Mapped[Enterprise] = relationship(lazy="joined")


class PolicyApplication(Base):
    """An enterprise has applied for a policy (noted by its liaison), so it is no longer suggested."""
    __tablename__ = "policy_applications"
    __table_args__ = (UniqueConstraint("enterprise_id", "policy_id", name="uq_policy_application"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    noted_by: Mapped[str] = mapped_column(String(64), default="")
    noted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Survey(Base):
    """A 三问三促 survey (问政 | 问需 | 问效): its questions, its target, and the broadcasts that carried it."""
    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(8))                    # 问政 | 问需 | 问效
    intro: Mapped[str] = mapped_column(Text, default="")
    questions: Mapped[list] = mapped_column(JSON, default=list)        # [{text, type, options}]
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)   # draft | sent | closed
    target: Mapped[str] = mapped_column(String(120), default="")
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    reminder_broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    remind_after_days: Mapped[int] = mapped_column(Integer, default=3)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)


class SurveyResponse(Base):
    """One enterprise's answers to one survey (one per enterprise: a colleague sees it was answered)."""
    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "enterprise_id", name="uq_survey_enterprise"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    user_ref: Mapped[int | None] = mapped_column(ForeignKey("channel_users.id"))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)          # {"0": "选项" | ["a", "b"] | 4 | "text" | None}
    tickets: Mapped[dict] = mapped_column(JSON, default=dict)          # {"3": "TS…"}: free text turned into a ticket
    status: Mapped[str] = mapped_column(String(16), default="in_progress", index=True)   # in_progress | complete
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    user: Mapped[ChannelUser | None] = relationship(lazy="joined")


# --- the labelling loop (消息理解): issue 13 part 3 ---

class MessageLabel(Base):
    """What a message (or a ticket's description) meant, as staff labelled it on 消息理解: training
    rows for `python -m nlp train --from-db`, which reads this table by name (nlp/train.py)."""
    __tablename__ = "message_labels"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), unique=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)                          # what was labelled, as the user wrote it
    intent: Mapped[str] = mapped_column(String(32))                  # one of the twelve intents
    category: Mapped[str | None] = mapped_column(String(16))         # complaint.file only
    # why it was listed: unsure | disagree | other | corrected | category
    reason: Mapped[str] = mapped_column(String(16), default="")
    predicted: Mapped[str] = mapped_column(String(64), default="")   # what the bot had understood
    labelled_by: Mapped[str] = mapped_column(String(64))
    labelled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

"""The policy base and subscriptions: every SQL of the policy feature."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from types import MappingProxyType

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import ChannelUser, Enterprise, Policy, Subscription, utcnow

FIELDS = ("doc_no", "issuer", "level", "category", "topics", "summary", "eligibility", "rules",
          "beneficiaries", "amount", "payout_mode", "materials", "how_to_apply", "contact", "deadline",
          "valid_from", "valid_to", "source_url", "body", "extra", "demo")


def upsert(session: Session, title: str, **fields) -> tuple[Policy, bool]:
    """Create or update by title (importing the same title again updates it)."""
    policy = session.scalar(select(Policy).where(Policy.title == title))
    created = policy is None
    if created:
        policy = Policy(title=title, topics=[], rules={}, extra={})
        session.add(policy)
    for name, value in fields.items():
        if name in FIELDS:
            setattr(policy, name, value)
    policy.updated_at = utcnow()
    session.flush()
    return policy, created


def update(session: Session, policy: Policy, title: str, **fields) -> Policy:
    """Edit in place (the title may change, but not to another policy's)."""
    other = session.scalar(select(Policy).where(Policy.title == title, Policy.id != policy.id))
    if other is not None:
        raise ValueError(f"another policy is already titled {title!r}")
    policy.title = title
    for name, value in fields.items():
        if name in FIELDS:
            setattr(policy, name, value)
    policy.updated_at = utcnow()
    session.flush()
    return policy


def by_title(session: Session, title: str) -> Policy | None:
    return session.scalar(select(Policy).where(Policy.title == title))


def get(session: Session, policy_id: int) -> Policy | None:
    return session.get(Policy, policy_id)


@dataclass(frozen=True)
class PolicyRow:
    """One policy as plain, immutable values (no ORM object, no session): what the chat searches and shows.
    Processes keep these between messages (bot/policies/service.py), so nothing here may be changed in place:
    topics and the rules' lists are tuples, the rules a read-only mapping."""
    id: int
    title: str
    doc_no: str
    issuer: str
    level: str
    category: str
    topics: tuple[str, ...]
    summary: str
    eligibility: str
    rules: Mapping[str, tuple]
    beneficiaries: str
    amount: str
    payout_mode: str
    materials: str
    how_to_apply: str
    contact: str
    deadline: date | None
    valid_from: date | None
    valid_to: date | None
    source_url: str
    body: str
    demo: bool

    def is_current(self, today: date) -> bool:
        """Still open (as `current` selects): neither past its deadline nor its validity."""
        return ((self.deadline is None or self.deadline >= today)
                and (self.valid_to is None or self.valid_to >= today))


_ROW_COLUMNS = tuple(getattr(Policy, f.name) for f in fields(PolicyRow))


def _frozen(value):
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def _row(values) -> PolicyRow:
    data = dict(zip((f.name for f in fields(PolicyRow)), values, strict=True))
    data["topics"] = _frozen(data["topics"] or ())
    data["rules"] = _frozen(data["rules"] or {})
    return PolicyRow(**data)


def rows(session: Session) -> list[PolicyRow]:
    """Every policy as plain values, by id: one SELECT of columns, no ORM identity loads."""
    return [_row(values) for values in session.execute(select(*_ROW_COLUMNS).order_by(Policy.id))]


def row(session: Session, policy_id: int) -> PolicyRow | None:
    values = session.execute(select(*_ROW_COLUMNS).where(Policy.id == policy_id)).first()
    return _row(values) if values is not None else None


def all_policies(session: Session) -> list[Policy]:
    return list(session.scalars(select(Policy).order_by(Policy.id)))


def current(session: Session, today: date) -> list[Policy]:
    """Policies still open: neither past their deadline nor their validity."""
    return list(session.scalars(select(Policy).where(
        or_(Policy.deadline.is_(None), Policy.deadline >= today),
        or_(Policy.valid_to.is_(None), Policy.valid_to >= today)).order_by(Policy.id)))


def set_subscription(session: Session, user_ref: int, topic: str, active: bool) -> None:
    row = session.scalar(select(Subscription).where(Subscription.user_ref == user_ref, Subscription.topic == topic))
    if row is None:
        session.add(Subscription(user_ref=user_ref, topic=topic, active=active, updated_at=utcnow()))
    else:
        row.active, row.updated_at = active, utcnow()
    session.flush()


def subscriptions_of(session: Session, user_ref: int) -> dict[str, bool]:
    return {s.topic: s.active for s in session.scalars(select(Subscription).where(Subscription.user_ref == user_ref))}


def deactivate_all(session: Session, user_ref: int) -> None:
    for row in session.scalars(select(Subscription).where(Subscription.user_ref == user_ref)):
        row.active, row.updated_at = False, utcnow()
    set_subscription(session, user_ref, "", False)


def _not_opted_out():
    """Users who have not unsubscribed from everything (退订) and still follow the account."""
    opted_out = select(Subscription.user_ref).where(Subscription.topic == "", Subscription.active.is_(False))
    return ChannelUser.followed.is_(True), ChannelUser.id.not_in(opted_out), ChannelUser.channel != "group"


def users_all(session: Session) -> list[ChannelUser]:
    return list(session.scalars(select(ChannelUser).where(*_not_opted_out())))


def users_of_topic(session: Session, topic: str) -> list[ChannelUser]:
    subscribed = select(Subscription.user_ref).where(Subscription.active.is_(True),
                                                     Subscription.topic.in_((topic, "")))
    return list(session.scalars(select(ChannelUser).where(ChannelUser.id.in_(subscribed), *_not_opted_out())))


def users_of_tag(session: Session, tag: str) -> list[ChannelUser]:
    """Users of enterprises tagged so (tags or industry contain the name)."""
    candidates = session.scalars(select(ChannelUser).join(Enterprise, ChannelUser.enterprise_id == Enterprise.id)
                                 .where(*_not_opted_out()))
    return [u for u in candidates if tag in (u.enterprise.tags or []) or tag in (u.enterprise.industry or "")]

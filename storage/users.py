"""Channel users: who wrote, on which channel, for which enterprise, with which roles."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import JSON, Boolean, DateTime, bindparam, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import ChannelUser, Enterprise, utcnow


def get_or_create(session: Session, channel: str, user_id: str, display_name: str = "") -> ChannelUser:
    """The user's record, created on first contact (safe under concurrent first messages)."""
    user = find(session, channel, user_id)
    if user is None:
        try:
            with session.begin_nested():
                user = ChannelUser(channel=channel, user_id=user_id, display_name=display_name[:100],
                                   roles=[], followed=True)
                session.add(user)
        except IntegrityError:
            user = find(session, channel, user_id)
    if display_name and user.display_name != display_name[:100]:
        user.display_name = display_name[:100]
    return user


def seen(session: Session, channel: str, user_id: str, display_name: str = "") -> int:
    """Record that the user wrote now (created on first contact); one statement, returns the row id.

    This runs for every inbound message, so it is one static upsert that SQLAlchemy compiles once.
    """
    dialect = session.get_bind().dialect.name
    now = utcnow()
    return session.execute(_upsert_seen(dialect), {
        "channel": channel, "user_id": user_id, "display_name": display_name[:100], "phone": "",
        "roles": [], "followed": True, "last_inbound_at": now, "created_at": now}).scalar_one()


@lru_cache(maxsize=4)
def _upsert_seen(dialect: str):
    # Plain SQL that SQLite (3.35+) and PostgreSQL both speak: SQLAlchemy's dialect insert() with
    # on_conflict has no cache key in this version and would be compiled anew for every message.
    del dialect
    return text(
        "INSERT INTO channel_users (channel, user_id, display_name, phone, roles, followed, last_inbound_at,"
        " created_at) VALUES (:channel, :user_id, :display_name, :phone, :roles, :followed, :last_inbound_at,"
        " :created_at) ON CONFLICT (channel, user_id) DO UPDATE SET last_inbound_at = excluded.last_inbound_at,"
        " display_name = CASE WHEN excluded.display_name <> '' THEN excluded.display_name"
        " ELSE channel_users.display_name END RETURNING id"
    ).bindparams(bindparam("roles", type_=JSON), bindparam("followed", type_=Boolean),
                 bindparam("last_inbound_at", type_=DateTime), bindparam("created_at", type_=DateTime))


def get(session: Session, user_ref: int) -> ChannelUser | None:
    return session.get(ChannelUser, user_ref)


def find(session: Session, channel: str, user_id: str) -> ChannelUser | None:
    return session.scalar(select(ChannelUser).where(ChannelUser.channel == channel,
                                                    ChannelUser.user_id == user_id))


def set_followed(user: ChannelUser, followed: bool) -> None:
    user.followed = followed


def link_enterprise(user: ChannelUser, enterprise_id: int | None) -> None:
    """A link made by staff's tools (the simulator): verified. Console and CLI go through
    storage.identity.staff_link, which also audits; the chat never links without verification."""
    if user.enterprise_id != enterprise_id:
        user.enterprise_id = enterprise_id
        user.linked_via, user.linked_at = ("staff", utcnow()) if enterprise_id else (None, None)


def set_roles(session: Session, channel: str, user_id: str, roles: list[str]) -> ChannelUser:
    user = get_or_create(session, channel, user_id)
    user.roles = sorted(set(roles))
    return user


def listing(session: Session, query: str = "", limit: int = 200, channel: str | None = None) -> list[ChannelUser]:
    """Newest first; `query` matches the name, the WeChat id or the enterprise's name."""
    statement = select(ChannelUser).outerjoin(Enterprise, ChannelUser.enterprise_id == Enterprise.id)
    if channel:
        statement = statement.where(ChannelUser.channel == channel)
    if query:
        like = f"%{query}%"
        statement = statement.where(or_(ChannelUser.display_name.like(like), ChannelUser.user_id.like(like),
                                        Enterprise.name.like(like)))
    return list(session.scalars(statement.order_by(ChannelUser.id.desc()).limit(limit)))

"""Channel users: who wrote, on which channel, for which enterprise, with which roles."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import case, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
    table = ChannelUser.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table)
    name = case((statement.excluded.display_name != "", statement.excluded.display_name),
                else_=table.c.display_name)
    return statement.on_conflict_do_update(
        index_elements=["channel", "user_id"],
        set_={"last_inbound_at": statement.excluded.last_inbound_at, "display_name": name},
    ).returning(table.c.id)


def get(session: Session, user_ref: int) -> ChannelUser | None:
    return session.get(ChannelUser, user_ref)


def find(session: Session, channel: str, user_id: str) -> ChannelUser | None:
    return session.scalar(select(ChannelUser).where(ChannelUser.channel == channel,
                                                    ChannelUser.user_id == user_id))


def set_followed(user: ChannelUser, followed: bool) -> None:
    user.followed = followed


def link_enterprise(user: ChannelUser, enterprise_id: int | None) -> None:
    user.enterprise_id = enterprise_id


def set_roles(session: Session, channel: str, user_id: str, roles: list[str]) -> ChannelUser:
    user = get_or_create(session, channel, user_id)
    user.roles = sorted(set(roles))
    return user


def listing(session: Session, query: str = "", limit: int = 200) -> list[ChannelUser]:
    """Newest first; `query` matches the name, the WeChat id or the enterprise's name."""
    statement = select(ChannelUser).outerjoin(Enterprise, ChannelUser.enterprise_id == Enterprise.id)
    if query:
        like = f"%{query}%"
        statement = statement.where(or_(ChannelUser.display_name.like(like), ChannelUser.user_id.like(like),
                                        Enterprise.name.like(like)))
    return list(session.scalars(statement.order_by(ChannelUser.id.desc()).limit(limit)))

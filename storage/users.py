"""Channel users: who wrote, on which channel, for which enterprise, with which roles."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import ChannelUser, utcnow


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


def find(session: Session, channel: str, user_id: str) -> ChannelUser | None:
    return session.scalar(select(ChannelUser).where(ChannelUser.channel == channel,
                                                    ChannelUser.user_id == user_id))


def touch(user: ChannelUser) -> None:
    """Remember the last inbound time: customer-service pushes are allowed for 48 h after it."""
    user.last_inbound_at = utcnow()


def set_followed(user: ChannelUser, followed: bool) -> None:
    user.followed = followed


def link_enterprise(user: ChannelUser, enterprise_id: int | None) -> None:
    user.enterprise_id = enterprise_id


def set_roles(session: Session, channel: str, user_id: str, roles: list[str]) -> ChannelUser:
    user = get_or_create(session, channel, user_id)
    user.roles = sorted(set(roles))
    return user

"""The registry of WeCom groups reached through their group robot's webhook, and the meeting
reminders posted to them (each once)."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import GroupMeetingReminder, WeComGroup


class DuplicateGroup(ValueError):
    """The name, or the robot (its webhook key), is registered already; .field says which."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def add(session: Session, name: str, webhook_key: str, created_by: str, reminders: bool = True) -> WeComGroup:
    if by_name(session, name) is not None:
        raise DuplicateGroup("name")
    if session.scalar(select(WeComGroup.id).where(WeComGroup.webhook_key == webhook_key)) is not None:
        raise DuplicateGroup("webhook_key")
    group = WeComGroup(name=name, webhook_key=webhook_key, created_by=created_by[:64], reminders=reminders)
    try:
        with session.begin_nested():
            session.add(group)
    except IntegrityError:            # the same group registered at the same moment elsewhere
        raise DuplicateGroup("name") from None
    return group


def by_name(session: Session, name: str) -> WeComGroup | None:
    return session.scalar(select(WeComGroup).where(WeComGroup.name == name))


def get(session: Session, group_id: int) -> WeComGroup | None:
    return session.get(WeComGroup, group_id)


def listing(session: Session) -> list[WeComGroup]:
    return list(session.scalars(select(WeComGroup).order_by(WeComGroup.name)))


def with_reminders(session: Session) -> list[WeComGroup]:
    return list(session.scalars(select(WeComGroup).where(WeComGroup.reminders.is_(True)).order_by(WeComGroup.id)))


def remove(session: Session, group: WeComGroup) -> None:
    session.execute(delete(GroupMeetingReminder).where(GroupMeetingReminder.group_id == group.id))
    session.delete(group)


def claim_reminder(session: Session, meeting_id: int, group_id: int) -> GroupMeetingReminder | None:
    """The reminder row if this call is the first for (meeting, group), else None (already posted)."""
    row = GroupMeetingReminder(meeting_id=meeting_id, group_id=group_id)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row

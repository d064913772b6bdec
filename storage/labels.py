"""Labels for the labelling loop (消息理解): staff say what a message or a ticket's description meant.

`python -m nlp train --from-db` reads the table (message_labels) and trains on it; this module is
what the console needs: the recent messages and category changes to choose from, and the labels."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ChannelUser, Complaint, ComplaintEvent, InboundMessage, MessageLabel, utcnow

# Events that may change a ticket's category or department: "category" (with data {"category": new,
# "previous": old}) once the console can change a category; "assigned" (a department, maybe another one).
CATEGORY_EVENTS = ("category", "assigned")


def recent_text_messages(session: Session, since: datetime, limit: int = 2000) -> list[tuple]:
    """(message, sender or None) of the text messages the bot classified since `since`, newest first."""
    return list(session.execute(
        select(InboundMessage, ChannelUser).outerjoin(ChannelUser, ChannelUser.id == InboundMessage.user_ref)
        .where(InboundMessage.received_at >= since, InboundMessage.msg_type == "text",
               InboundMessage.intent.is_not(None), InboundMessage.text != "")
        .order_by(InboundMessage.id.desc()).limit(limit)).all())


def category_events(session: Session, since: datetime, limit: int = 500) -> list[tuple]:
    """(complaint, event) of staff's category and department changes since `since`, newest first."""
    return list(session.execute(
        select(Complaint, ComplaintEvent).join(ComplaintEvent, ComplaintEvent.complaint_id == Complaint.id)
        .where(ComplaintEvent.kind.in_(CATEGORY_EVENTS), ComplaintEvent.at >= since)
        .order_by(ComplaintEvent.id.desc()).limit(limit)).all())


def of_messages(session: Session, message_ids) -> dict[int, MessageLabel]:
    ids = list(message_ids)
    if not ids:
        return {}
    return {label.message_id: label for label in
            session.scalars(select(MessageLabel).where(MessageLabel.message_id.in_(ids)))}


def of_complaints(session: Session, complaint_ids) -> dict[int, MessageLabel]:
    ids = list(complaint_ids)
    if not ids:
        return {}
    return {label.complaint_id: label for label in
            session.scalars(select(MessageLabel).where(MessageLabel.complaint_id.in_(ids)))}


def _put(session: Session, existing: MessageLabel | None, actor: str, **fields) -> tuple[MessageLabel, str | None]:
    """Insert or relabel; (label, what it said before or None). The caller commits."""
    before = None
    if existing is None:
        existing = MessageLabel(**fields)
        session.add(existing)
    else:
        before = existing.intent + (f"/{existing.category}" if existing.category else "")
        for key, value in fields.items():
            setattr(existing, key, value)
    existing.labelled_by, existing.labelled_at = actor, utcnow()
    session.flush()
    return existing, before


def label_message(session: Session, message: InboundMessage, intent: str, category: str | None, reason: str,
                  predicted: str, actor: str) -> tuple[MessageLabel, str | None]:
    existing = session.scalar(select(MessageLabel).where(MessageLabel.message_id == message.id))
    return _put(session, existing, actor, message_id=message.id, text=message.text[:4000], intent=intent,
                category=category if intent == "complaint.file" else None, reason=reason[:16],
                predicted=predicted[:64])


def label_complaint(session: Session, complaint: Complaint, category: str, reason: str, predicted: str,
                    actor: str) -> tuple[MessageLabel, str | None]:
    """A ticket's description is a complaint: the label is its category."""
    existing = session.scalar(select(MessageLabel).where(MessageLabel.complaint_id == complaint.id))
    return _put(session, existing, actor, complaint_id=complaint.id, text=complaint.description[:4000],
                intent="complaint.file", category=category, reason=reason[:16], predicted=predicted[:64])


def count(session: Session) -> int:
    return session.scalar(select(func.count(MessageLabel.id)))


def latest(session: Session, limit: int = 20) -> list[MessageLabel]:
    return list(session.scalars(select(MessageLabel).order_by(MessageLabel.labelled_at.desc(), MessageLabel.id.desc())
                                .limit(limit)))

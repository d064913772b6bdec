"""Queries only the chat simulator needs: what the intelligent robot answered a (simulated) group later,
through the callbacks' response_url."""
from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from storage.models import AibotReply, ChannelUser, InboundMessage


def _in_chat(channel: str, chat_id: str):
    return (select(AibotReply, ChannelUser.user_id, ChannelUser.display_name)
            .join(InboundMessage, and_(InboundMessage.channel == channel, InboundMessage.dedupe_key == AibotReply.msgid))
            .outerjoin(ChannelUser, ChannelUser.id == InboundMessage.user_ref)
            .where(InboundMessage.chat_id == chat_id))


def aibot_replies_in_chat(session: Session, channel: str, chat_id: str, after_id: int,
                          limit: int = 50) -> list[tuple[AibotReply, str | None, str | None]]:
    """(reply, sender's user id, sender's name) of the answers to messages in this group chat, oldest first."""
    statement = _in_chat(channel, chat_id).where(AibotReply.id > after_id).order_by(AibotReply.id).limit(limit)
    return [tuple(row) for row in session.execute(statement)]


def last_aibot_reply_id(session: Session, channel: str, chat_id: str) -> int:
    statement = (select(func.max(AibotReply.id))
                 .join(InboundMessage, and_(InboundMessage.channel == channel,
                                            InboundMessage.dedupe_key == AibotReply.msgid))
                 .where(InboundMessage.chat_id == chat_id))
    return session.scalar(statement) or 0

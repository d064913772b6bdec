"""Tables. One class per table; behaviour lives in the per-aggregate modules beside this one."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


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

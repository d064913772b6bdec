"""The channel-neutral message and reply that every channel translates to and from."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    channel: str            # "wechat" (Official Account) | "wecom" | "group"
    user_id: str            # openid, WeCom userid or group member id
    msg_type: str           # text | image | voice | location | link | video | event | …
    text: str = ""          # what the user said (voice: the recognised text)
    dedupe_key: str = ""    # MsgId, or FromUserName+CreateTime for events
    chat_id: str = ""       # group id for group chats, "" for one-to-one
    display_name: str = ""
    mentioned: bool = False
    event: str = ""         # subscribe | unsubscribe | click | scan | …
    event_key: str = ""
    payload: dict = field(default_factory=dict)   # media ids, coordinates, urls …
    created_at: int = 0
    # A plaintext callback's signature covers the URL, not the body: (key, body digest, seconds) binds the
    # signature to the first body seen under it; checked in the round trip that claims the message.
    signed_body: tuple[str, str, int] | None = None

    @property
    def is_group(self) -> bool:
        return bool(self.chat_id)


@dataclass
class Reply:
    """What the bot answers: the passive reply, and follow-ups pushed after it."""
    text: str | None
    followups: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, value) -> Reply:
        if isinstance(value, Reply):
            return value
        return cls(value if value else None)

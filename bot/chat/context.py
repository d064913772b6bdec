"""What a handler is given (Context) and what it returns (Answer): the chat's types for handlers."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.chat.conversation import ConversationStore, State
from bot.chat.message import Message, Reply
from bot.config import Settings
from nlp import Classification
from storage import users
from storage.db import after_commit
from storage.models import ChannelUser
from storage.redis import KeyBatch

if TYPE_CHECKING:   # annotations only: the services and the dispatcher are built above the chat's types
    from bot.chat.pipeline import Dispatcher
    from bot.services import Services

Answer = str | Reply | None   # what a handler returns: a text, a Reply with follow-ups, or nothing to say


@dataclass
class Context:
    """What a handler may use; handlers never see Flask, XML or JSON."""
    services: Services
    session: Session
    msg: Message
    user_ref: int | None = None
    nlu: Classification | None = None
    conversation: ConversationStore | None = None
    notes: list = field(default_factory=list)   # lines prepended to the reply ("已退出…")
    message_id: int | None = None               # the stored message's row
    dispatcher: Dispatcher | None = None   # handed in by the Dispatcher itself, for reroute
    user_keys: KeyBatch | None = None      # the sender's Redis keys fetched with the claim (conversation, script)
    found: dict = field(default_factory=dict)   # what a route's matcher read for its handler (the ticket it is about)
    part_of_several: bool = False          # answering one of several requests told in one message

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def user(self) -> ChannelUser | None:
        """The sender's record (with enterprise and roles), loaded when a handler first asks."""
        if self._user is None and self.user_ref is not None:
            self._user = users.get(self.session, self.user_ref)
        return self._user

    _user: ChannelUser | None = field(default=None, repr=False)

    def defer(self, job, *args, **kwargs) -> None:
        """Run slow work (pushes, API calls) in the worker, once this message's work is committed."""
        after_commit(self.session, lambda: self.services.queue.enqueue(job, *args, **kwargs))

    def reroute(self, msg: Message) -> Answer:
        """Answer `msg` as a new request (a step that finds the message is not its answer)."""
        return self.dispatcher.route(msg, self)


Handler = Callable[[Message, Context], Answer]
Step = Callable[[Message, Context, State], Answer]   # a flow's step: also given the pending state

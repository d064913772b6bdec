"""The two kinds of error a handler can meet."""


class UserError(Exception):
    """Something the user can fix; its text (polite, Chinese) becomes the reply."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class DomainError(UserError):
    """A feature's rule refused the action (a ticket that cannot go back, a meeting without seats…).
    Its text is Chinese and said as it is: to the owner in chat, to staff in the console and the CLI."""


class ForgedRequest(Exception):
    """A signed callback replayed with another body: refused (403) before anything is stored."""


class ServiceUnavailable(Exception):
    """A store we depend on is down: answer 503 so WeChat retries, never a lost 200."""

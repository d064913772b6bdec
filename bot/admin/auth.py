"""Console sign-in: Flask-Login sessions that end on logout, password change and idleness; argon2
passwords; CSRF; and login throttling per (account, address) and per address."""
from __future__ import annotations

import hmac
import time
import unicodedata
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user
from redis.exceptions import RedisError

from storage import staff

# Wrong passwords for one account from one address: a guesser waits, the owner elsewhere does not.
PAIR_LIMIT = 5
# Wrong passwords from one address, whatever the accounts: bounds spraying one password across many.
ADDRESS_LIMIT = 20
WINDOW_S = 300            # failures this close together count together
LOCKOUT_S = 300           # how long a limit, once reached, holds
SEEN_REFRESH_S = 60       # the idle clock is written back to the cookie at most once a minute
login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "请先登录"

# One round trip, atomic: take an attempt on both counters, start their windows, hold a reached limit.
# Taking the attempt before the password is checked means parallel guesses cannot all slip past the
# limit between a check and an increment.
_TAKE_ATTEMPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, ARGV[3]) end
  if n >= tonumber(ARGV[i]) then redis.call('EXPIRE', key, ARGV[4]) end
  counts[i] = n
end
return counts
"""
# A right password: the pair's failures are forgiven and the attempt is handed back to the address.
_ATTEMPT_SUCCEEDED = """
redis.call('DEL', KEYS[1])
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
if n > 0 then redis.call('DECR', KEYS[2]) end
return n
"""


class ThrottleUnavailable(Exception):
    """Redis, which holds the login counters, cannot be reached: logins wait rather than go unguarded."""


@dataclass
class StaffUser(UserMixin):
    id: int
    username: str
    role: str
    department: str
    token: str = ""

    @property
    def can_change(self) -> bool:
        return self.role in ("admin", "staff")

    def get_id(self) -> str:
        # Flask-Login's "alternative token": the session names the account and the token it was issued with.
        return f"{self.id}:{self.token}"


def user_of(account) -> StaffUser:
    return StaffUser(account.id, account.username, account.role, account.department, staff.session_token(account))


def db():
    """The request's database session (closed at teardown)."""
    if "admin_db" not in g:
        g.admin_db = current_app.extensions["bot"].db.new_session()
    return g.admin_db


def close_db(_exc=None) -> None:
    db_session = g.pop("admin_db", None)
    if db_session is not None:
        db_session.close()


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in account, if the cookie's token is still the account's and it was used lately."""
    account_id, _, token = user_id.partition(":")
    account = staff.get(db(), int(account_id)) if account_id.isdigit() else None
    if account is None or not account.active or not token or not account.session_token \
            or not hmac.compare_digest(token, account.session_token):
        return None
    if not _fresh_enough():
        session.clear()
        return None
    return StaffUser(account.id, account.username, account.role, account.department, account.session_token)


def _fresh_enough() -> bool:
    """Idle expiry: a session unused for session_idle_minutes ends (0: never); each use moves the clock on."""
    now, seen = time.time(), session.get("seen")
    idle_s = current_app.extensions["bot"].settings.session_idle_minutes * 60
    if not isinstance(seen, (int, float)) or (idle_s > 0 and now - seen > idle_s):
        return False
    if now - seen >= SEEN_REFRESH_S:
        session["seen"] = now
    return True


def start_session(account) -> StaffUser:
    """Sign in on this browser: the account's current token and a fresh idle clock."""
    user = user_of(account)
    session["seen"] = time.time()
    login_user(user)
    return user


def _redis():
    return current_app.extensions["bot"].redis


def _keys(username: str) -> list[str]:
    # request.remote_addr is the client's own address: behind TRUSTED_PROXIES it comes from ProxyFix.
    address = request.remote_addr or "-"
    return [f"login:fail:pair:{address}:{username}", f"login:fail:addr:{address}"]


def take_attempt(username: str) -> bool:
    """Count this login attempt before its password is checked; False if a limit is reached."""
    try:
        pair, address = _redis().eval(_TAKE_ATTEMPT, 2, *_keys(username), PAIR_LIMIT, ADDRESS_LIMIT,
                                      WINDOW_S, LOCKOUT_S)
    except RedisError as exc:
        raise ThrottleUnavailable from exc
    return int(pair) <= PAIR_LIMIT and int(address) <= ADDRESS_LIMIT


def attempt_succeeded(username: str) -> None:
    """A right password: this account's failures from here are forgiven, and it never counted as one."""
    try:
        _redis().eval(_ATTEMPT_SUCCEEDED, 2, *_keys(username))
    except RedisError as exc:
        raise ThrottleUnavailable from exc


def can_change(view):
    """Viewers read; changing anything needs the staff or admin role."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.can_change:
            abort(403, "只读账号不能修改")
        return view(*args, **kwargs)
    return wrapper


def unscoped_only(what: str):
    """For what reaches beyond one department (any user's messages, linking people to enterprises, park-wide
    broadcasts and policies): admins and accounts without a department only; 403 names `what`."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.role != "admin" and current_user.department:
                abort(403, f"{what}仅限管理员或不限部门的账号")
            return view(*args, **kwargs)
        return wrapper
    return decorate


def admin_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user.role != "admin":
            abort(403, "仅管理员可用")
        return view(*args, **kwargs)
    return wrapper


def safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce to another site."""
    return target if target and _same_site_path(target) else url_for("admin.dashboard")


def _same_site_path(target: str) -> bool:
    # Browsers drop tabs and newlines from URLs and read "\" as "/": "/\t/evil" and "/\evil" are "//evil".
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


__all__ = ["login_manager", "redirect"]

"""Console sign-in: Flask-Login sessions, argon2 passwords, CSRF, and a lock-out after 5 failures."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

from storage import staff

MAX_FAILURES = 5          # per minute, from one address or for one account
LOCKOUT_S = 300
login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "请先登录"


@dataclass
class StaffUser(UserMixin):
    id: int
    username: str
    role: str
    department: str

    @property
    def can_change(self) -> bool:
        return self.role in ("admin", "staff")


def db():
    """The request's database session (closed at teardown)."""
    if "admin_db" not in g:
        g.admin_db = current_app.extensions["bot"].db.new_session()
    return g.admin_db


def close_db(_exc=None) -> None:
    session = g.pop("admin_db", None)
    if session is not None:
        session.close()


@login_manager.user_loader
def load_user(user_id: str):
    account = staff.get(db(), int(user_id)) if user_id.isdigit() else None
    if account is None or not account.active:
        return None
    return StaffUser(account.id, account.username, account.role, account.department)


def _redis():
    return current_app.extensions["bot"].redis


def _keys(username: str) -> tuple[str, str]:
    return f"login:fail:ip:{request.remote_addr}", f"login:fail:user:{username}"


def locked_out(username: str) -> bool:
    return any(int(_redis().get(key) or 0) >= MAX_FAILURES for key in _keys(username))


def record_failure(username: str) -> None:
    for key in _keys(username):
        count = _redis().incr(key)
        _redis().expire(key, 60 if count < MAX_FAILURES else LOCKOUT_S)


def clear_failures(username: str) -> None:
    _redis().delete(*_keys(username))


def can_change(view):
    """Viewers read; changing anything needs the staff or admin role."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.can_change:
            abort(403, "只读账号不能修改")
        return view(*args, **kwargs)
    return wrapper


def admin_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user.role != "admin":
            abort(403, "仅管理员可用")
        return view(*args, **kwargs)
    return wrapper


def safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce to another site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("admin.dashboard")


__all__ = ["login_manager", "redirect"]

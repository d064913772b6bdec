"""Staff accounts (argon2 password hashes), their session tokens, and the console's audit log."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEntry, StaffAccount, utcnow

ROLES = ("admin", "staff", "viewer")
_hasher = PasswordHasher()


def add(session: Session, username: str, password: str, role: str, department: str = "") -> StaffAccount:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    account = by_username(session, username)
    if account is None:
        account = StaffAccount(username=username, role=role, department=department, active=True)
        session.add(account)
    account.password_hash, account.role, account.department = _hasher.hash(password), role, department
    end_sessions(account)          # a new password (or a reset one) signs the account out everywhere
    session.flush()
    return account


def set_password(account: StaffAccount, password: str) -> None:
    """The account's own change: a new hash, and every session cookie issued before it stops working."""
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    account.password_hash = _hasher.hash(password)
    end_sessions(account)


def end_sessions(account: StaffAccount) -> None:
    """A new session token: console cookies carry the token they were issued with, so every
    existing cookie of the account is refused from now on (logout, password change)."""
    account.session_token = secrets.token_urlsafe(32)


def session_token(account: StaffAccount) -> str:
    """The token new sessions of the account carry (created for accounts made before tokens existed)."""
    if not account.session_token:
        end_sessions(account)
    return account.session_token


def by_username(session: Session, username: str) -> StaffAccount | None:
    return session.scalar(select(StaffAccount).where(StaffAccount.username == username))


def get(session: Session, account_id: int) -> StaffAccount | None:
    return session.get(StaffAccount, account_id)


def check_password(session: Session, username: str, password: str) -> StaffAccount | None:
    """The active account whose password this is, else None (same cost for unknown users)."""
    account = by_username(session, username)
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return account if account is not None and account.active else None


def accounts(session: Session) -> list[StaffAccount]:
    return list(session.scalars(select(StaffAccount).order_by(StaffAccount.username)))


def update(account: StaffAccount, role: str, department: str, active: bool) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    account.role, account.department, account.active = role, department, active


def audit(session: Session, actor: str, action: str, target: str = "", detail: str = "") -> None:
    session.add(AuditEntry(at=utcnow(), actor=actor, action=action, target=target, detail=detail[:1000]))


def audit_log(session: Session, limit: int = 100) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")

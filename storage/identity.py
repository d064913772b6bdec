"""Verified enterprise membership: invitation codes, claims staff decide, staff links, and their audit.

A user's enterprise_id is set ONLY here, and only by a verified route: an invitation code sent in a
private chat, a staff link (console, CLI), or a claim staff approved. Everything else is a claim.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    ChannelUser,
    Complaint,
    Enterprise,
    EnterpriseClaim,
    EnterpriseInvite,
    InboundMessage,
    utcnow,
)
from storage.staff import audit

# No 0/O, 1/I: a code read aloud or copied by hand cannot be mistaken.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PREFIX = "YQ"
DEFAULT_DAYS = 30
MAX_DAYS = 365
MAX_USES = 500
CODE_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])YQ[-\s]?([A-Za-z0-9]{4})[-\s]?([A-Za-z0-9]{4})(?![A-Za-z0-9])",
                          re.IGNORECASE)


class IdentityError(ValueError):
    """A request the records do not allow; its text is shown to the staff member who asked."""


# --- codes ---

def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def find_code(text: str) -> str | None:
    """The invitation code in a message ("YQ-7KX3-M9Q2", "yq7kx3m9q2", full-width too), canonical."""
    text = text.translate({code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}).replace("\u3000", " ")
    match = CODE_IN_TEXT.search(text)
    return f"{PREFIX}-{match.group(1).upper()}-{match.group(2).upper()}" if match else None


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def mask(code: str) -> str:
    """What may be written down (logs, audit, stored messages): the last four characters only."""
    return f"{PREFIX}-****-{code[-4:]}"


# --- invitations ---

def create_invite(session: Session, enterprise: Enterprise, actor: str, days: int = DEFAULT_DAYS,
                  uses: int = 1) -> tuple[EnterpriseInvite, str]:
    """A new code for the enterprise: (the record, the code). The code is shown once and never stored."""
    if not 1 <= days <= MAX_DAYS:
        raise IdentityError(f"有效天数应在 1 到 {MAX_DAYS} 之间")
    if not 1 <= uses <= MAX_USES:
        raise IdentityError(f"可用次数应在 1 到 {MAX_USES} 之间")
    code = new_code()
    invite = EnterpriseInvite(enterprise_id=enterprise.id, code_hash=_hash(code), hint=code[-4:], max_uses=uses,
                              used_count=0, expires_at=utcnow() + timedelta(days=days), created_by=actor[:64],
                              created_at=utcnow())
    session.add(invite)
    session.flush()
    audit(session, actor, "invite.create", enterprise.name,
          f"邀请码 {mask(code)}，有效 {days} 天，可用 {uses} 次")
    return invite, code


def invite_by_code(session: Session, code: str) -> EnterpriseInvite | None:
    return session.scalar(select(EnterpriseInvite).where(EnterpriseInvite.code_hash == _hash(code)))


def get_invite(session: Session, invite_id: int) -> EnterpriseInvite | None:
    return session.get(EnterpriseInvite, invite_id)


def invites_of(session: Session, enterprise_id: int) -> list[EnterpriseInvite]:
    return list(session.scalars(select(EnterpriseInvite).where(EnterpriseInvite.enterprise_id == enterprise_id)
                                .order_by(EnterpriseInvite.id.desc())))


def invite_state(invite: EnterpriseInvite, now: datetime | None = None) -> str:
    """有效 | 已撤销 | 已过期 | 已用完 — for staff to read."""
    if invite.revoked_at is not None:
        return "已撤销"
    if invite.expires_at <= (now or utcnow()):
        return "已过期"
    if invite.used_count >= invite.max_uses:
        return "已用完"
    return "有效"


def revoke(session: Session, invite: EnterpriseInvite, actor: str, why: str = "") -> bool:
    """False when it was revoked already."""
    if invite.revoked_at is not None:
        return False
    invite.revoked_at = utcnow()
    audit(session, actor, "invite.revoke", invite.enterprise.name, f"邀请码 YQ-****-{invite.hint} {why}".strip())
    return True


def use_invite(session: Session, code: str) -> EnterpriseInvite | None:
    """Take one use of a live code, atomically (two people racing for the last use: one wins)."""
    now = utcnow()
    taken = session.execute(
        update(EnterpriseInvite)
        .where(EnterpriseInvite.code_hash == _hash(code), EnterpriseInvite.revoked_at.is_(None),
               EnterpriseInvite.expires_at > now, EnterpriseInvite.used_count < EnterpriseInvite.max_uses)
        .values(used_count=EnterpriseInvite.used_count + 1)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return None
    invite = invite_by_code(session, code)
    session.refresh(invite)
    return invite


def redeem(session: Session, user: ChannelUser, code: str) -> Enterprise | None:
    """A code sent in a private chat: the user becomes a verified member at once. None: not usable."""
    invite = use_invite(session, code)
    if invite is None:
        return None
    _link(session, user, invite.enterprise, "invite", "invite")
    audit(session, "invite", "user.link", _target(user),
          f"{invite.enterprise.name}（邀请码 YQ-****-{invite.hint}）")
    return invite.enterprise


def redact_message(session: Session, channel: str, dedupe_key: str, code: str) -> None:
    """The stored copy of the message that carried a code keeps only its masked form."""
    stored = session.scalar(select(InboundMessage).where(InboundMessage.channel == channel,
                                                         InboundMessage.dedupe_key == dedupe_key))
    if stored is None:
        return
    stored.text = CODE_IN_TEXT.sub(mask(code), stored.text or "")
    if stored.payload and any(isinstance(v, str) and CODE_IN_TEXT.search(v) for v in stored.payload.values()):
        stored.payload = {k: CODE_IN_TEXT.sub(mask(code), v) if isinstance(v, str) else v
                          for k, v in stored.payload.items()}


LEAKED_IN_GROUP = "在群聊中发送，已作废"   # the revocation's reason, as staff read it in the invitation list


def burn_leaked_code(session: Session, channel: str, dedupe_key: str, text: str, why: str = LEAKED_IN_GROUP) -> bool:
    """A code seen where others can read it (a group): the stored copy is masked and a live code revoked.
    True when the text carried a code."""
    code = find_code(text or "")
    if code is None:
        return False
    redact_message(session, channel, dedupe_key, code)
    invite = invite_by_code(session, code)
    if invite is not None:
        revoke(session, invite, "system", why)
    return True


# --- claims ---

def file_claim(session: Session, user: ChannelUser, enterprise: Enterprise, source: str,
               ticket_no: str = "") -> tuple[EnterpriseClaim, bool]:
    """Record a claim for staff to decide; (claim, created). An earlier pending claim for another
    enterprise is withdrawn: a user waits on one claim at a time."""
    pending = pending_claim(session, user.id)
    if pending is not None and pending.enterprise_id == enterprise.id:
        return pending, False
    if pending is not None:
        pending.status, pending.decided_at, pending.decided_by = "withdrawn", utcnow(), "user"
    claim = EnterpriseClaim(user_ref=user.id, enterprise_id=enterprise.id, status="pending", source=source,
                            ticket_no=ticket_no, reason="", decided_by="", created_at=utcnow())
    session.add(claim)
    session.flush()
    audit(session, "user", "claim.file", _target(user), f"{enterprise.name}（{source}{' ' + ticket_no if ticket_no else ''}）")
    return claim, True


def pending_claim(session: Session, user_ref: int | None) -> EnterpriseClaim | None:
    if user_ref is None:
        return None
    return session.scalar(select(EnterpriseClaim).where(EnterpriseClaim.user_ref == user_ref,
                                                        EnterpriseClaim.status == "pending")
                          .order_by(EnterpriseClaim.id.desc()).limit(1))


_USERS, _CLAIMS, _ENTERPRISES = ChannelUser.__table__, EnterpriseClaim.__table__, Enterprise.__table__


def _claimed_name_of(user_ref):
    """The enterprise named by the user's latest pending claim (pending_claim's), as a scalar subquery."""
    return (select(_ENTERPRISES.c.name)
            .select_from(_CLAIMS.join(_ENTERPRISES, _ENTERPRISES.c.id == _CLAIMS.c.enterprise_id))
            .where(_CLAIMS.c.user_ref == user_ref, _CLAIMS.c.status == "pending")
            .order_by(_CLAIMS.c.id.desc()).limit(1))


# Static statements of the chat's hot path (every complaint and status question): compiled once.
_CLAIMED_NAME = _claimed_name_of(bindparam("user_ref"))
_TICKETS = Complaint.__table__
_FILER = select(_USERS.c.enterprise_id, _USERS.c.phone, _USERS.c.roles,
                _claimed_name_of(_USERS.c.id).scalar_subquery().label("claimed"),
                # storage.complaints._owned_by: any ticket the user owns (two index probes)
                or_(exists().where(_TICKETS.c.user_ref == _USERS.c.id),
                    exists().where(_TICKETS.c.enterprise_id == _USERS.c.enterprise_id)).label("has_tickets")) \
    .where(_USERS.c.id == bindparam("user_ref"))


def claimed_name(session: Session, user_ref: int | None) -> str | None:
    """The enterprise an unverified user says they belong to (their pending claim), if any."""
    if user_ref is None:
        return None
    session.flush()     # the statement below is Core: what the ORM's autoflush would have written first
    return session.execute(_CLAIMED_NAME, {"user_ref": user_ref}).scalar()


@dataclass(frozen=True)
class Filer:
    """What filing a ticket needs to know of the user who writes, read in one statement: the VERIFIED
    enterprise (None: unverified), the phone, the roles, the enterprise their pending claim names, and
    whether they own any ticket at all (theirs or their verified enterprise's): when not, there is nothing
    to merge with or report on."""
    enterprise_id: int | None
    phone: str
    roles: list
    claimed: str | None
    has_tickets: bool = True


def filer(session: Session, user_ref: int | None) -> Filer | None:
    """The user's Filer facts without loading their record (None: no such user). Changes made to a
    loaded record in this session count: they are flushed first, as any ORM query would."""
    if user_ref is None:
        return None
    session.flush()
    row = session.execute(_FILER, {"user_ref": user_ref}).first()
    if row is None:
        return None
    return Filer(row.enterprise_id, row.phone or "", list(row.roles or []), row.claimed, bool(row.has_tickets))


def claimed_names(session: Session, user_refs: list[int]) -> dict[int, str]:
    """{user_ref: enterprise name} of the given users' pending claims, in one query."""
    if not user_refs:
        return {}
    rows = session.execute(select(EnterpriseClaim.user_ref, Enterprise.name)
                           .join(Enterprise, Enterprise.id == EnterpriseClaim.enterprise_id)
                           .where(EnterpriseClaim.user_ref.in_(user_refs), EnterpriseClaim.status == "pending")
                           .order_by(EnterpriseClaim.id))
    return {user_ref: name for user_ref, name in rows}


def get_claim(session: Session, claim_id: int) -> EnterpriseClaim | None:
    return session.get(EnterpriseClaim, claim_id)


def claims(session: Session, status: str | None = "pending", enterprise_id: int | None = None,
           limit: int = 200) -> list[EnterpriseClaim]:
    """The queue: oldest pending first (first come, first decided); decided ones newest first."""
    query = select(EnterpriseClaim)
    if status:
        query = query.where(EnterpriseClaim.status == status)
    if enterprise_id is not None:
        query = query.where(EnterpriseClaim.enterprise_id == enterprise_id)
    order = EnterpriseClaim.id.asc() if status == "pending" else EnterpriseClaim.id.desc()
    return list(session.scalars(query.order_by(order).limit(limit)))


def decide(session: Session, claim: EnterpriseClaim, approve: bool, actor: str, reason: str = "") -> EnterpriseClaim:
    """Staff approve (the user becomes a verified member) or reject a pending claim. Two staff deciding
    at once: the first decision stands, the second is told it was already decided."""
    status = "approved" if approve else "rejected"
    decided = session.execute(
        update(EnterpriseClaim).where(EnterpriseClaim.id == claim.id, EnterpriseClaim.status == "pending")
        .values(status=status, decided_by=actor[:64], decided_at=utcnow(), reason=reason[:500])
        .execution_options(synchronize_session=False))
    if decided.rowcount != 1:
        raise IdentityError("该申请已处理过，请刷新页面")
    session.refresh(claim)
    if approve:
        _link(session, claim.user, claim.enterprise, "claim", actor)
    audit(session, actor, f"claim.{'approve' if approve else 'reject'}", _target(claim.user),
          claim.enterprise.name + (f"；原因：{reason}" if reason else ""))
    return claim


# --- staff links ---

def staff_link(session: Session, user: ChannelUser, enterprise: Enterprise | None, actor: str) -> None:
    """Staff link a user to an enterprise (verified) or unlink them (None); audited either way."""
    if enterprise is None:
        previous = user.enterprise.name if user.enterprise else "-"
        user.enterprise_id, user.linked_via, user.linked_at = None, None, None
        audit(session, actor, "user.unlink", _target(user), previous)
        return
    _link(session, user, enterprise, "staff", actor)
    audit(session, actor, "user.link", _target(user), enterprise.name)


def members(session: Session, enterprise_id: int) -> list[ChannelUser]:
    return list(session.scalars(select(ChannelUser).where(ChannelUser.enterprise_id == enterprise_id)
                                .order_by(ChannelUser.id)))


def _link(session: Session, user: ChannelUser, enterprise: Enterprise, via: str, actor: str) -> None:
    """Make the membership verified; a claim still pending is settled by it, and the user's own
    tickets that claimed this enterprise join it."""
    pending = pending_claim(session, user.id)
    if pending is not None:
        pending.status, pending.decided_by, pending.decided_at = (
            "approved" if pending.enterprise_id == enterprise.id else "withdrawn", actor[:64], utcnow())
    user.enterprise_id, user.linked_via, user.linked_at = enterprise.id, via, utcnow()
    user.enterprise = enterprise
    session.execute(update(Complaint).where(Complaint.user_ref == user.id, Complaint.enterprise_id.is_(None),
                                            Complaint.claimed_enterprise == enterprise.name)
                    .values(enterprise_id=enterprise.id).execution_options(synchronize_session=False))
    session.flush()


def _target(user: ChannelUser) -> str:
    return f"{user.channel}:{user.user_id}"

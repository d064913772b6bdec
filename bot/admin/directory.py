"""Enterprises and users: the roster and its import, tags, invitation codes, and which user is a
verified member of which firm."""
from __future__ import annotations

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from bot.admin import auth
from bot.admin.common import FormError, audit, bp, number, text, uploaded_text
from storage import enterprises, identity, users


@bp.get("/enterprises")
@login_required
def enterprises_page():
    session = auth.db()
    rows = enterprises.all_enterprises(session)
    query, tag = (request.args.get("q") or "").strip(), request.args.get("tag") or ""
    if query:
        rows = [e for e in rows if query in e.name or query in (e.credit_code or "") or query in e.industry]
    if tag:
        rows = [e for e in rows if tag in (e.tags or [])]
    return render_template("admin/enterprises.html", rows=rows, tags=enterprises.all_tags(session),
                           args=request.args)


@bp.post("/enterprises/import")
@login_required
@auth.can_change
def enterprises_import():
    """The roster CSV (name, credit_code, industry, tags, contact_name, contact_phone), as the CLI takes."""
    session = auth.db()
    try:
        name, content = uploaded_text("file")
        counts = enterprises.import_text(session, content, name)
    except (FormError, ValueError) as exc:
        session.rollback()
        flash(f"未导入：{exc}", "error")
        return redirect(url_for("admin.enterprises_page"))
    audit("enterprises.import", name, str(counts), commit=False)
    session.commit()
    flash(f"已导入：新增 {counts['created']} 家，更新 {counts['updated']} 家，跳过 {counts['skipped']} 行", "ok")
    return redirect(url_for("admin.enterprises_page"))


@bp.post("/enterprises/<int:enterprise_id>/tags")
@login_required
@auth.can_change
def enterprise_tags(enterprise_id: int):
    """Tags choose broadcast targets (tag:NAME); separated by commas or spaces."""
    session = auth.db()
    enterprise = enterprises.get(session, enterprise_id) or abort(404)
    raw = text("tags", 500).replace("，", ",").replace("、", ",").replace(" ", ",")
    enterprises.set_tags(enterprise, raw.split(","))
    audit("enterprise.tags", enterprise.name, ",".join(enterprise.tags), commit=False)
    session.commit()
    flash(f"「{enterprise.name}」的标签已保存", "ok")
    return redirect(url_for("admin.enterprises_page", q=request.args.get("q", "")))


@bp.get("/enterprises/<int:enterprise_id>")
@login_required
def enterprise_page(enterprise_id: int):
    return _enterprise_page(enterprise_id)


def _enterprise_page(enterprise_id: int, new_code: str | None = None, status: int = 200):
    """The firm's verified members, claims waiting on it, and its invitation codes (hints only: a new
    code is shown once, in the answer to the form that made it, and never stored)."""
    session = auth.db()
    enterprise = enterprises.get(session, enterprise_id) or abort(404)
    page = render_template("admin/enterprise.html", e=enterprise, members=identity.members(session, enterprise.id),
                           claims=identity.claims(session, "pending", enterprise.id),
                           invites=identity.invites_of(session, enterprise.id), state=identity.invite_state,
                           new_code=new_code, default_days=identity.DEFAULT_DAYS)
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/enterprises/<int:enterprise_id>/invites")
@login_required
@auth.admin_only  # a code makes its holder a verified member: department staff must not mint their own
def enterprise_invite(enterprise_id: int):
    session = auth.db()
    enterprise = enterprises.get(session, enterprise_id) or abort(404)
    try:
        days = number("days", "有效天数", 1, identity.DEFAULT_DAYS)
        uses = number("uses", "可用次数", 1, 1)
        _, code = identity.create_invite(session, enterprise, current_user.username, days, uses)
    except (FormError, identity.IdentityError) as exc:
        session.rollback()
        flash(str(exc), "error")
        return _enterprise_page(enterprise_id, status=400)
    session.commit()
    return _enterprise_page(enterprise_id, new_code=code)


@bp.post("/invites/<int:invite_id>/revoke")
@login_required
@auth.admin_only
def invite_revoke(invite_id: int):
    session = auth.db()
    invite = identity.get_invite(session, invite_id) or abort(404)
    enterprise_id = invite.enterprise_id
    if identity.revoke(session, invite, current_user.username):
        session.commit()
        flash(f"邀请码 YQ-****-{invite.hint} 已撤销", "ok")
    return redirect(url_for("admin.enterprise_page", enterprise_id=enterprise_id))


@bp.get("/users")
@login_required
def users_page():
    session = auth.db()
    query = (request.args.get("q") or "").strip()[:100]
    rows = users.listing(session, query)
    return render_template("admin/users.html", rows=rows, args=request.args, names=enterprises.names(session),
                           claimed=identity.claimed_names(session, [u.id for u in rows]))


@bp.post("/users/<int:user_ref>/link")
@login_required
@auth.can_change
@auth.unscoped_only("关联企业")   # a member sees the enterprise's tickets of every department
def user_link(user_ref: int):
    """Staff link a user to an enterprise, verified (or unlink with an empty name); audited."""
    session = auth.db()
    user = users.get(session, user_ref) or abort(404)
    name = text("enterprise", 200)
    enterprise = enterprises.by_name(session, name) if name else None
    if name and enterprise is None:
        flash(f"企业名录中没有「{name}」", "error")
        return redirect(url_for("admin.users_page"))
    identity.staff_link(session, user, enterprise, current_user.username)
    session.commit()
    flash(f"已将 {user.display_name or user.user_id} {'关联到「' + name + '」' if name else '解除关联'}", "ok")
    return redirect(url_for("admin.users_page", q=request.args.get("q", "")))

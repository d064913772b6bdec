"""Enterprises and users: the roster and its import, tags, and which user speaks for which firm."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from bot.admin import auth
from bot.admin.common import FormError, audit, bp, text, uploaded_text
from storage import enterprises, users


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


@bp.get("/users")
@login_required
def users_page():
    session = auth.db()
    query = (request.args.get("q") or "").strip()[:100]
    return render_template("admin/users.html", rows=users.listing(session, query), args=request.args,
                           names=enterprises.names(session))


@bp.post("/users/<int:user_ref>/link")
@login_required
@auth.can_change
def user_link(user_ref: int):
    """Link a user to an enterprise (or unlink with an empty name); their tickets follow the firm."""
    session = auth.db()
    user = users.get(session, user_ref) or abort(404)
    name = text("enterprise", 200)
    enterprise = enterprises.by_name(session, name) if name else None
    if name and enterprise is None:
        flash(f"企业名录中没有「{name}」", "error")
        return redirect(url_for("admin.users_page"))
    users.link_enterprise(user, enterprise.id if enterprise else None)
    audit("user.link", f"{user.channel}:{user.user_id}", name or "-", commit=False)
    session.commit()
    flash(f"已将 {user.display_name or user.user_id} {'关联到「' + name + '」' if name else '解除关联'}", "ok")
    return redirect(url_for("admin.users_page", q=request.args.get("q", "")))

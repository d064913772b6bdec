"""企业认领审核: membership claims filed in the chat, approved or rejected by staff (the owner is told)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bot.admin import auth
from bot.admin.common import bp, services, text
from bot.identity import service as membership
from storage import identity

STATUS_NAMES = {"pending": "待审核", "approved": "已通过", "rejected": "已驳回", "withdrawn": "已撤回"}
SOURCE_NAMES = {"command": "绑定企业", "complaint": "登记诉求时自报", "migrated": "升级前的自助绑定"}


@bp.get("/claims")
@login_required
def claims_page():
    status = request.args.get("status", "pending")
    if status not in STATUS_NAMES and status != "all":
        abort(400, "未知的状态")
    rows = identity.claims(auth.db(), None if status == "all" else status)
    return render_template("admin/claims.html", rows=rows, status=status, status_names=STATUS_NAMES,
                           source_names=SOURCE_NAMES)


@bp.post("/claims/<int:claim_id>")
@login_required
@auth.admin_only  # approving a claim grants an enterprise's tickets: not for department-scoped staff
def claim_decide(claim_id: int):
    """approve: the user becomes a verified member of the firm; reject: with a reason they are told."""
    session = auth.db()
    claim = identity.get_claim(session, claim_id) or abort(404)
    action = request.form.get("action")
    if action not in ("approve", "reject"):
        abort(400, "未知的操作")
    try:
        membership.decide_claim(services(), session, claim, action == "approve", current_user.username,
                                text("reason", 200))
    except identity.IdentityError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.claims_page"))
    session.commit()
    who = claim.user.display_name or claim.user.user_id
    flash(f"{'已通过' if action == 'approve' else '已驳回'}：{who} 认领「{claim.enterprise.name}」，已通知本人", "ok")
    return redirect(url_for("admin.claims_page"))

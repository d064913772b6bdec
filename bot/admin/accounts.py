"""Staff accounts and the audit log (administrators only), and everyone's own password."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bot.admin import auth
from bot.admin.common import ROLE_NAMES, FormError, audit, bp, departments, text
from storage import staff


@bp.get("/staff")
@login_required
@auth.admin_only
def staff_page():
    return render_template("admin/staff.html", rows=staff.accounts(auth.db()), roles=ROLE_NAMES,
                           departments=departments())


@bp.post("/staff")
@login_required
@auth.admin_only
def staff_create():
    """A new account, or a new password for an existing one."""
    session = auth.db()
    try:
        username = text("username", 64, required="用户名")
        password = request.form.get("password") or ""
        if not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise FormError("用户名只能用字母、数字、点、横线和下划线")
        staff.add(session, username, password, text("role"), text("department", 64))
    except FormError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.staff_page"))
    except ValueError as exc:
        session.rollback()
        flash({"the password needs at least 8 characters": "密码至少 8 位"}.get(str(exc), "请选择角色"), "error")
        return redirect(url_for("admin.staff_page"))
    audit("staff.save", username, text("role"), commit=False)
    session.commit()
    flash(f"账号 {username} 已保存", "ok")
    return redirect(url_for("admin.staff_page"))


@bp.post("/staff/<int:account_id>")
@login_required
@auth.admin_only
def staff_update(account_id: int):
    session = auth.db()
    account = staff.get(session, account_id) or abort(404)
    active = request.form.get("active") == "1"
    if account.id == current_user.id and (not active or text("role") != "admin"):
        flash("不能停用自己或取消自己的管理员角色", "error")
        return redirect(url_for("admin.staff_page"))
    try:
        staff.update(account, text("role"), text("department", 64), active)
    except ValueError:
        flash("请选择角色", "error")
        return redirect(url_for("admin.staff_page"))
    audit("staff.update", account.username, f"{account.role} {account.department} active={active}", commit=False)
    session.commit()
    flash(f"账号 {account.username} 已更新", "ok")
    return redirect(url_for("admin.staff_page"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def own_password():
    """Change one's own password: every other session of the account ends, this one goes on."""
    if request.method == "GET":
        return render_template("admin/password.html")
    session = auth.db()
    account = staff.get(session, current_user.id) or abort(404)
    try:
        _check_new_password(account)
    except FormError as exc:
        session.rollback()
        return render_template("admin/password.html", error=str(exc)), 400
    except auth.ThrottleUnavailable:
        return render_template("admin/password.html", error="登录保护服务暂时不可用，请稍后再试"), 503
    audit("password.change", account.username, commit=False)
    session.commit()
    auth.start_session(account)
    flash("密码已修改，其他设备上的登录已失效", "ok")
    return redirect(url_for("admin.dashboard"))


def _check_new_password(account) -> None:
    """The current password (guesses count like login failures), then the new one twice."""
    if not auth.take_attempt(account.username):
        raise FormError("尝试次数过多，请5分钟后再试")
    if staff.check_password(auth.db(), account.username, request.form.get("current") or "") is None:
        raise FormError("当前密码不正确")
    auth.attempt_succeeded(account.username)
    password = request.form.get("password") or ""
    if password != (request.form.get("confirm") or ""):
        raise FormError("两次输入的新密码不一致")
    try:
        staff.set_password(account, password)
    except ValueError:
        raise FormError("新密码至少 8 位") from None


@bp.get("/audit")
@login_required
@auth.admin_only
def audit_page():
    return render_template("admin/audit.html", rows=staff.audit_log(auth.db(), 300))

"""Sign in and out of the console."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user

from bot.admin import auth
from bot.admin.common import audit, bp
from storage import staff


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("admin/login.html")
    username = (request.form.get("username") or "").strip()[:64]
    if auth.locked_out(username):
        return render_template("admin/login.html", error="尝试次数过多，请5分钟后再试"), 429
    account = staff.check_password(auth.db(), username, request.form.get("password") or "")
    if account is None:
        auth.record_failure(username)
        return render_template("admin/login.html", error="用户名或密码错误"), 401
    auth.clear_failures(username)
    login_user(auth.StaffUser(account.id, account.username, account.role, account.department))
    audit("login")
    return redirect(auth.safe_next(request.args.get("next")))


@bp.post("/logout")
@login_required
def logout():
    audit("logout")
    logout_user()
    return redirect(url_for("admin.login"))

"""Sign in and out of the console."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user

from bot.admin import auth
from bot.admin.common import audit, bp
from storage import staff

TOO_MANY = "尝试次数过多，请5分钟后再试"
GUARD_DOWN = "登录保护服务暂时不可用，请稍后再试"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("admin/login.html")
    username = (request.form.get("username") or "").strip()[:64]
    try:
        if not auth.take_attempt(username):
            return render_template("admin/login.html", error=TOO_MANY, username=username), 429
        account = staff.check_password(auth.db(), username, request.form.get("password") or "")
        if account is None:
            return render_template("admin/login.html", error="用户名或密码错误", username=username), 401
        auth.attempt_succeeded(username)
    except auth.ThrottleUnavailable:
        return render_template("admin/login.html", error=GUARD_DOWN, username=username), 503
    auth.start_session(account)
    audit("login")                          # commits the token a first login may have created
    return redirect(auth.safe_next(request.args.get("next")))


@bp.post("/logout")
@login_required
def logout():
    """Signing out ends every session of the account, including cookies copied elsewhere."""
    account = staff.get(auth.db(), current_user.id)
    if account is not None:
        staff.end_sessions(account)
    audit("logout")
    logout_user()
    return redirect(url_for("admin.login"))

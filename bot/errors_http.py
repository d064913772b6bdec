"""HTTP errors: short plain reasons, never a traceback; 500s are logged and rolled back."""
from __future__ import annotations

import logging

from flask import abort, g, jsonify, render_template, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


# Every HTML page: scripts only from our own static files (no inline script or handlers), never framed
# (clickjacking), no MIME sniffing, and the path of a console page never leaks to another site.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


# Pages people type into: a NUL there is never meant (PostgreSQL refuses it in text, a 500 otherwise).
TYPED_INPUT_PATHS = ("/admin", "/simulator")
NUL_REASON = "输入中含有不允许的字符"
TOO_LONG_REASON = "输入的内容过长或格式不对"


def refuse_nul_input():
    if not request.path.startswith(TYPED_INPUT_PATHS):
        return
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        values += [*request.form.keys(), *request.form.values(),
                   *(f.filename or "" for f in request.files.values())]
    if any("\x00" in value for value in values):
        abort(400, NUL_REASON)


def init_app(app) -> None:
    app.after_request(security_headers)
    app.before_request(refuse_nul_input)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def value_out_of_range(exc: Exception):
        """A value longer than its column or a number out of range: the user's input, not our fault."""
        log.warning("value refused by the database on %s %s: %s", request.method, request.path,
                    type(exc).__name__)
        db_session = g.get("admin_db")
        if db_session is not None:
            db_session.rollback()
        return _body(400, TOO_LONG_REASON), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _body(exc.code, exc.description if exc.code < 500 else exc.name), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _body(500, "internal error"), 500


CONSOLE_REASONS = {400: "请求有误，请返回重试", 403: "没有权限", 404: "没有找到这个页面或记录",
                   405: "不支持这种操作", 413: "提交的内容或文件太大（上限 1 MB）", 429: "操作太频繁，请稍后再试",
                   500: "系统出错了，请稍后再试", 503: "服务暂时不可用，请稍后再试"}


def _body(code: int, reason: str):
    if request.path.startswith(("/group", "/healthz")) or request.is_json:
        return jsonify({"error": reason, "status": code})
    if request.path.startswith("/admin"):   # staff read Chinese; our own abort() texts already are
        own = reason if any("\u4e00" <= ch <= "\u9fff" for ch in reason) else ""
        return render_template("admin/error.html", code=code, reason=own or CONSOLE_REASONS.get(code, reason))
    return f"{code} {reason}"

"""HTTP errors: short plain reasons, never a traceback; 500s are logged and rolled back."""
from __future__ import annotations

import logging

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def init_app(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _body(exc.code, exc.description if exc.code < 500 else exc.name), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _body(500, "internal error"), 500


def _body(code: int, reason: str):
    if request.path.startswith(("/group", "/healthz")) or request.is_json:
        return jsonify({"error": reason, "status": code})
    return f"{code} {reason}"

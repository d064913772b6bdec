"""What every console page shares: the blueprint, CSRF, the audit trail, scoping, form and file helpers."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, current_app, request
from flask_login import current_user
from flask_wtf import CSRFProtect

from bot import clock
from bot.admin import auth
from bot.complaints import reports as complaint_reports
from storage import staff

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf = CSRFProtect()
ROLE_NAMES = {"admin": "管理员", "staff": "工作人员", "viewer": "只读"}
CHANNEL_NAMES = {"wechat": "公众号", "wecom": "企业微信", "group": "群"}
MAX_PAGE = 100_000        # far past any real listing, small enough for every database's OFFSET


class FormError(ValueError):
    """A form field that cannot be used as typed; its text is shown above the form."""


@bp.app_template_filter("local")
def local_time(moment: datetime | None, pattern: str = "%m-%d %H:%M") -> str:
    """Stored times are UTC; staff read the park's time (Asia/Shanghai)."""
    return clock.to_local(moment).strftime(pattern) if moment else ""


@bp.app_template_filter("channel")
def channel_label(code: str | None) -> str:
    """Where a user writes from, as staff call it (the code stays in the database and JSON)."""
    return CHANNEL_NAMES.get(code or "", code or "")


def services():
    return current_app.extensions["bot"]


def audit(action: str, target: str = "", detail: str = "", commit: bool = True) -> None:
    """Every staff action is recorded (who, what, on which record)."""
    session = auth.db()
    staff.audit(session, current_user.username if current_user.is_authenticated else "-", action, target, detail)
    if commit:
        session.commit()


def scope() -> str | None:
    """Staff scoped to a department see only its tickets."""
    return current_user.department if current_user.role == "staff" and current_user.department else None


def page_number() -> int:
    """A listing's ?page=: 1 when absent; anything but a whole number from 1 to MAX_PAGE is a 400."""
    raw = (request.args.get("page") or "").strip()
    if not raw:
        return 1
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= MAX_PAGE):
        abort(400, f"页码应为 1 到 {MAX_PAGE} 之间的整数")
    return int(raw)


def departments() -> list[str]:
    return sorted(services().complaint_rules.department_staff)


def text(name: str, limit: int = 4000, required: str | None = None) -> str:
    value = (request.form.get(name) or "").strip()[:limit]
    if required and not value:
        raise FormError(f"请填写{required}")
    return value


def number(name: str, label: str, minimum: int = 0, default: int | None = None) -> int:
    raw = (request.form.get(name) or "").strip()
    if not raw and default is not None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FormError(f"{label}要填整数") from None
    if value < minimum:
        raise FormError(f"{label}不能小于 {minimum}")
    return value


def day(name: str, label: str) -> date | None:
    raw = (request.form.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise FormError(f"{label}的日期格式应为 2026-03-15") from None


def moment(name: str, label: str, required: bool = True) -> datetime | None:
    raw = (request.form.get(name) or "").strip()
    if not raw and not required:
        return None
    try:
        return datetime.fromisoformat(raw).replace(second=0, microsecond=0)
    except ValueError:
        raise FormError(f"请填写{label}（如 2026-03-15T08:30）") from None


def csv_download(filename: str, header: list[str], rows) -> Response:
    """For Excel: Chinese headers, UTF-8 with a BOM, no cell a live formula."""
    return Response(complaint_reports.csv_bytes(header, rows), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def uploaded_text(name: str) -> tuple[str, str]:
    """(file name, text) of an uploaded UTF-8 file; a clear error for none or not UTF-8.
    Too big never gets here: every request is capped at max_body_bytes (413)."""
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        raise FormError("请选择要导入的文件")
    data = upload.read()
    try:
        return upload.filename, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormError("文件不是 UTF-8 编码，请在 Excel 中另存为“CSV UTF-8”") from None

"""What every console page shares: the blueprint, CSRF, the audit trail, scoping, form and file helpers."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, current_app, request
from flask_login import current_user
from flask_wtf import CSRFProtect

from bot import clock
from bot.admin import auth
from bot.complaints import labels
from bot.complaints import reports as complaint_reports
from bot.complaints import service as complaint_service
from bot.complaints.texts import STATUS_NAMES
from storage import staff

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf = CSRFProtect()
ROLE_NAMES = {"admin": "管理员", "staff": "工作人员", "viewer": "只读"}
CHANNEL_NAMES = {"wechat": "公众号", "wecom": "企业微信", "group": "群聊"}
# What a stored message without text was (Message.msg_type).
MSG_TYPE_NAMES = {"image": "图片", "voice": "语音", "video": "视频", "shortvideo": "视频", "location": "位置",
                  "link": "链接", "file": "文件", "event": "事件", "text": "文字"}
# A chat user's roles (ChannelUser.roles): what they may do in the chat.
USER_ROLE_NAMES = {"staff": "工作人员", "admin": "管理员", "monitor": "监测员"}
# The audit log's actions as staff read them (the code stays in the log and shows on hover).
ACTION_NAMES = {
    "login": "登录", "logout": "退出", "password.change": "修改密码",
    "staff.add": "添加账号（命令行）", "staff.save": "新建账号/重设密码", "staff.update": "修改账号",
    "staff.disable_demo": "停用演示账号",
    "complaint.file": "代企业登记", "complaint.assign": "交办", "complaint.reply": "答复",
    "complaint.note": "内部备注", "complaint.extend": "延期", "complaint.status": "改状态", "complaint.merge": "并单",
    "complaint.update": "办理工单", "complaints.export": "导出工单",
    "broadcast.send": "发送广播",
    "meeting.create": "新建早茶会", "meeting.edit": "修改早茶会", "meeting.checkin": "早茶会签到",
    "meeting.finish": "早茶会结束", "meeting.raise": "早茶会诉求登记",
    "policy.create": "新建政策", "policy.edit": "修改政策", "policy.import": "导入政策", "policy.expire": "下架政策",
    "enterprise.tags": "修改企业标签", "enterprises.import": "导入企业名录",
    "invite.create": "生成邀请码", "invite.revoke": "撤销邀请码", "claim.file": "提交企业认领",
    "claim.approve": "通过企业认领", "claim.reject": "驳回企业认领", "user.link": "关联企业", "user.unlink": "解除关联",
    "user.role": "设置对话角色",
    "group.add": "登记企业微信群", "group.remove": "删除企业微信群",
    "simulator.user": "模拟器用户关联企业",
    "unhandled.retry": "重试未处理消息", "unhandled.resolve": "标记消息已处理",
    "understanding.label": "标注消息", "understanding.category": "标注工单类别",
    "outreach.assign": "指定包联干部", "outreach.contact": "修改联系方式", "outreach.applied": "记录政策已申报",
    "outreach.monitor": "设置监测员", "outreach.visit": "登记走访",
    "survey.create": "新建问卷", "survey.send": "发送问卷", "survey.close": "结束问卷", "survey.ticket": "问卷转工单",
}
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


@bp.app_template_filter("msg_type")
def msg_type_label(code: str | None) -> str:
    return MSG_TYPE_NAMES.get(code or "", code or "")


@bp.app_template_filter("target")
def target_label(target: str | None) -> str:
    """A broadcast's or survey's recipients as staff read them: topic:科技 → 订阅「科技」的用户."""
    kind, _, name = (target or "all").partition(":")
    return {"all": "全部关注用户", "topic": f"订阅「{name}」的用户", "tag": f"标签「{name}」的企业",
            "group": f"企业微信群「{name}」", "liaison": f"{name} 包联的企业"}.get(kind, target)


@bp.app_template_filter("source")
def source_label(code: str | None) -> str:
    """A ticket's source in words: wechat → 公众号 (电话, 走访… are words already)."""
    return labels.source_name(code)


@bp.app_template_filter("actor")
def actor_label(actor: str | None) -> str:
    """Who made a change: user → 提交人, staff → 工作人员, cli:wang → 命令行（wang）."""
    return labels.actor_name(actor)


@bp.app_template_filter("audit_actor")
def audit_actor_label(actor: str | None) -> str:
    """An audit entry's actor: a console login as is; the chat, the command line and the system in words."""
    actor = actor or ""
    channel, _, user_id = actor.partition(":")
    if channel in CHANNEL_NAMES and user_id:        # a staff member in the chat (a broadcast sent from chat)
        return f"{CHANNEL_NAMES[channel]}对话（{user_id}）"
    return {"user": "企业用户（对话）", "invite": "邀请码", "cli": "命令行", "-": "—"}.get(actor) or labels.actor_name(actor)


# How a delivery went out (the codes of bot/push/outbound.choose_kind and a group robot's webhook).
DELIVERY_KINDS = {"custom": "客服消息", "template": "模板消息", "wecom": "企业微信应用消息",
                  "appchat": "企业微信群聊（应用）", "webhook": "群机器人"}


@bp.app_template_filter("delivery_kind")
def delivery_kind_label(kind: str | None) -> str:
    return DELIVERY_KINDS.get(kind or "", kind or "")


@bp.app_template_filter("user_roles")
def user_roles_label(roles) -> str:
    return "、".join(USER_ROLE_NAMES.get(r, r) for r in roles or ()) or "—"


@bp.app_template_filter("audit_action")
def audit_action_label(action: str | None) -> str:
    return ACTION_NAMES.get(action or "", action or "")


@bp.app_template_filter("audit_detail")
def audit_detail_label(entry) -> str:
    """An audit entry's detail in words where it is a code: complaint.status resolved → 已办结待评价."""
    detail = entry.detail or ""
    if entry.action == "complaint.status":
        return STATUS_NAMES.get(detail, detail)
    if entry.action == "complaint.file":
        return "并入已有工单" if detail == "merged" else labels.source_name(detail)
    if entry.action == "complaints.export":
        return {"csv": "CSV", "xlsx": "Excel"}.get(detail, detail)
    if entry.action in ("login", "logout") and not detail:
        return ""
    if entry.action in ("user.role", "outreach.monitor"):      # the chat user's roles: monitor,staff
        return user_roles_label([r for r in detail.split(",") if r]) if detail else "—"
    if entry.action == "staff.add":                             # "admin 城建局": the role, then the department
        role, _, department = detail.partition(" ")
        return " ".join(filter(None, (ROLE_NAMES.get(role, role), department)))
    return detail


@bp.app_template_filter("audit_target")
def audit_target_label(target: str | None) -> str:
    """What an audit entry acted on: a chat user ("wechat:openid") named by their channel in words."""
    channel, _, user_id = (target or "").partition(":")
    if channel in CHANNEL_NAMES and user_id:
        return f"{CHANNEL_NAMES[channel]}用户（{user_id}）"
    return target or ""


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
    """Every department a ticket may be handed to (the service refuses any other)."""
    return complaint_service.departments(services())


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

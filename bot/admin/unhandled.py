"""未处理消息: messages a handler failed on (the user got an apology) or that were dropped mid-way.
Staff retry them (the reply is pushed to the user) or mark them dealt with by hand, with a note."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from bot.admin import auth
from bot.admin.common import FormError, audit, bp, channel_label, services, text
from bot.chat import pipeline
from storage import messages
from storage.models import utcnow
from storage.redis import UNREACHABLE

# The error's class, in words staff can act on (matched by the start of its dotted path).
ERROR_KINDS = (("redis.exceptions.ConnectionError", "缓存服务（Redis）不可用"),
               ("redis.exceptions.TimeoutError", "缓存服务（Redis）不可用"),
               ("redis.", "缓存服务（Redis）出错"),
               ("sqlalchemy.exc.OperationalError", "数据库连接中断"),
               ("sqlalchemy.", "数据库出错"),
               ("wechatpy.", "调用微信接口失败"),
               ("requests.", "调用外部接口失败"))
DROPPED = "处理中断（进程退出或数据库中断）"
REDIS_DOWN_PAGE = "缓存服务（Redis）暂时不可用，这项操作没有保存，请稍后再试。其他页面可以照常使用。"


def error_label(error: str) -> str:
    """程序错误 · KeyError — the words for staff, then the class name for whoever fixes it."""
    if not error:
        return DROPPED
    kind = next((words for prefix, words in ERROR_KINDS if error.startswith(prefix)), "程序错误")
    return f"{kind} · {error.rsplit('.', 1)[-1]}"


def masked(user_id: str) -> str:
    """A WeChat id staff can tell apart without reading it whole."""
    return user_id if len(user_id) <= 8 else f"{user_id[:4]}…{user_id[-4:]}"


def _stale_before():
    return utcnow() - pipeline.STALE_AFTER


@bp.app_context_processor
def unhandled_nav():
    """The nav's 未处理消息 label with its count, counted only when a page with the nav is drawn."""
    def label() -> str:
        try:
            count = messages.count_unhandled(auth.db(), _stale_before())
        except SQLAlchemyError:
            return "未处理消息"
        return f"未处理消息（{count}）" if count else "未处理消息"
    return {"unhandled_nav": label}


def redis_unreachable(_exc):
    """A console action that needs Redis (a policy change tells every process to rebuild its index):
    a clear 503 instead of a 500. Pages and other actions do not need it."""
    return render_template("admin/error.html", code=503, reason=REDIS_DOWN_PAGE), 503


for _unreachable in UNREACHABLE:
    bp.register_error_handler(_unreachable, redis_unreachable)


# Messages carry any user's full text: department-scoped accounts must not read them.
unscoped_only = auth.unscoped_only("未处理消息")


@bp.get("/unhandled")
@login_required
@unscoped_only
def unhandled_page():
    rows = [{"m": m, "user": masked(u.user_id) if u else "", "name": u.display_name if u else "",
             "enterprise": u.enterprise.name if u is not None and u.enterprise else "",
             "channel": channel_label(m.channel), "error": error_label(m.handling_error),
             "can_retry": m.handling_attempts < pipeline.MAX_RETRIES}
            for m, u in messages.unhandled(auth.db(), _stale_before())]
    return render_template("admin/unhandled.html", rows=rows, max_retries=pipeline.MAX_RETRIES)


@bp.post("/unhandled/<int:message_id>/retry")
@login_required
@unscoped_only
@auth.can_change
def unhandled_retry(message_id: int):
    """处理/重试: the dispatcher runs the message again; the reply is pushed to the user."""
    if messages.get(auth.db(), message_id) is None:
        abort(404)
    built = services()
    outcome = built.dispatcher.retry_stored(built, message_id)
    if outcome.refused:
        flash("这条消息已处理、正由他人重试，或已达重试上限", "error")
        return redirect(url_for("admin.unhandled_page"))
    reply = (outcome.reply.text or "") if outcome.reply else ""
    if outcome.handled:
        if outcome.pushed:
            flash(f"已处理并推送给用户：{reply[:200]}", "ok")
        elif reply:
            flash(f"已处理。群消息无法推送，请转告用户：{reply[:500]}", "ok")
        else:
            flash("已处理（这条消息无需回复）", "ok")
        audit("unhandled.retry", f"消息#{message_id}", "成功" + ("，已推送" if outcome.pushed else ""))
    else:
        flash(f"重试仍失败（{error_label(outcome.error)}），已重试 {outcome.attempts} 次", "error")
        audit("unhandled.retry", f"消息#{message_id}", f"失败：{outcome.error}")
    return redirect(url_for("admin.unhandled_page"))


@bp.post("/unhandled/<int:message_id>/resolve")
@login_required
@unscoped_only
@auth.can_change
def unhandled_resolve(message_id: int):
    """标记已处理: staff dealt with it themselves (a call, a ticket filed on the user's behalf …)."""
    session = auth.db()
    if messages.get(session, message_id) is None:
        abort(404)
    try:
        note = text("note", 2000, required="处理说明")
    except FormError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.unhandled_page"))
    if not messages.resolve_by_hand(session, message_id, note, _stale_before()):
        session.rollback()
        flash("这条消息已经处理过了", "error")
        return redirect(url_for("admin.unhandled_page"))
    audit("unhandled.resolve", f"消息#{message_id}", note, commit=False)
    session.commit()
    flash(f"已标记为已处理（{current_user.username}）", "ok")
    return redirect(url_for("admin.unhandled_page"))

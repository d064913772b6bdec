"""Breakfast meetings: create and edit, the roster with its waitlist, check-in, export, tickets raised."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from bot import clock
from bot.admin import auth
from bot.admin.common import (
    FormError,
    audit,
    bp,
    csv_download,
    moment,
    number,
    scope,
    services,
    text,
)
from bot.complaints.rules import CATEGORIES
from bot.complaints.texts import STATUS_NAMES
from bot.meetings import service as meetings
from storage import enterprises
from storage import meetings as store

SIGNUP_NAMES = {"confirmed": "已确认", "waitlisted": "候补", "cancelled": "已取消", "attended": "已签到"}
MEETING_NAMES = {"open": "报名中", "closed": "报名截止", "held": "已举行", "cancelled": "已取消"}


@bp.get("/meetings")
@login_required
def meetings_page():
    return render_template("admin/meetings.html", rows=store.all_meetings(auth.db()), when=meetings.when,
                           names=MEETING_NAMES)


MAX_SEATS = 10_000     # no breakfast meeting seats more; also keeps the number inside an INTEGER column


def _at_most(value: int, maximum: int, label: str) -> int:
    if value > maximum:
        raise FormError(f"{label}不能大于 {maximum}")
    return value


def _fields() -> dict:
    return {"title": text("title", 200, required="标题"), "venue": text("venue", 200, required="地点"),
            "theme": text("theme", 100), "host": text("host", 100), "sector": text("sector", 100),
            "starts_at": moment("starts_at", "开始时间"),
            "signup_deadline": moment("signup_deadline", "报名截止时间", required=False),
            "capacity": _at_most(number("capacity", "座位数", minimum=1), MAX_SEATS, "座位数"),
            "per_enterprise_limit": _at_most(number("per_enterprise_limit", "每家企业名额", minimum=1,
                                                    default=services().settings.meetings.per_enterprise_limit),
                                             MAX_SEATS, "每家企业名额")}


def capacity_problem(meeting, capacity: int) -> str:
    """Why a meeting cannot have this many seats ("" if it can): never fewer than those already confirmed."""
    if capacity < max(meeting.seats_taken, 1):
        return (f"座位数不能改为 {capacity}：已有 {meeting.seats_taken} 个座位确认报名，座位数至少要 {meeting.seats_taken}"
                if meeting.seats_taken else "座位数至少为 1")
    return ""


def _form_page(meeting, form, status=200):
    return render_template("admin/meeting_form.html", m=meeting, form=form, names=MEETING_NAMES,
                           default_limit=services().settings.meetings.per_enterprise_limit), status


@bp.route("/meetings/new", methods=["GET", "POST"])
@login_required
@auth.can_change
def meeting_new():
    if request.method == "GET":
        return _form_page(None, {})
    session = auth.db()
    try:
        fields = _fields()
        if fields["starts_at"] <= clock.now():
            raise FormError(f"开始时间 {fields['starts_at']:%Y-%m-%d %H:%M} 已经过去，请填写以后的时间")
        meeting = meetings.create(session, **fields)
    except (FormError, meetings.MeetingError) as exc:
        session.rollback()
        flash(str(exc), "error")
        return _form_page(None, request.form, 400)
    audit("meeting.create", str(meeting.id), meeting.title, commit=False)
    session.commit()
    flash("早茶会已创建，企业现在可以在对话中报名", "ok")
    return redirect(url_for("admin.meeting_detail", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
@auth.can_change
def meeting_edit(meeting_id: int):
    session = auth.db()
    meeting = store.get(session, meeting_id) or abort(404)
    if request.method == "GET":
        return _form_page(meeting, {})
    try:
        fields = _fields()
        fields["status"] = text("status") or None
        problem = capacity_problem(meeting, fields["capacity"])
        if problem:
            raise FormError(problem)
        promoted = meetings.edit(services(), session, meeting, **fields)
    except (FormError, meetings.MeetingError) as exc:
        session.rollback()
        flash(str(exc), "error")
        return _form_page(meeting, request.form, 400)
    audit("meeting.edit", str(meeting.id), meeting.title, commit=False)
    session.commit()
    flash("已保存" + (f"，候补中的 {len(promoted)} 位已转为确认并收到通知" if promoted else ""), "ok")
    return redirect(url_for("admin.meeting_detail", meeting_id=meeting.id))


@bp.get("/meetings/<int:meeting_id>")
@login_required
def meeting_detail(meeting_id: int):
    session = auth.db()
    meeting = store.get(session, meeting_id) or abort(404)
    waitlist = {s.id: n for n, s in enumerate(store.waitlist(session, meeting_id), 1)}
    # Staff scoped to a department read only their department's tickets, here as in the queue.
    raised = [c for c in store.tickets_raised(session, meeting_id) if not scope() or c.department == scope()]
    return render_template("admin/meeting.html", m=meeting, roster=store.roster(session, meeting_id),
                           waitlist=waitlist, raised=raised,
                           statuses=STATUS_NAMES, when=meetings.when, names=MEETING_NAMES,
                           firms=enterprises.names(session), categories=CATEGORIES)


@bp.post("/meetings/<int:meeting_id>/checkin/<int:signup_id>")
@login_required
@auth.can_change
def meeting_checkin(meeting_id: int, signup_id: int):
    session = auth.db()
    record = store.get_signup(session, signup_id)
    if record is None or record.meeting_id != meeting_id:
        abort(404)
    try:
        meetings.check_in(session, record)
    except meetings.MeetingError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.meeting_detail", meeting_id=meeting_id))
    audit("meeting.checkin", str(meeting_id), record.user.user_id, commit=False)
    session.commit()
    flash("已签到", "ok")
    return redirect(url_for("admin.meeting_detail", meeting_id=meeting_id))


@bp.post("/meetings/<int:meeting_id>/finish")
@login_required
@auth.can_change
def meeting_finish(meeting_id: int):
    """The meeting was held: confirmed attendees not checked in are recorded as no-shows."""
    session = auth.db()
    meeting = store.get(session, meeting_id) or abort(404)
    no_shows = meetings.finish(session, meeting)
    audit("meeting.finish", str(meeting_id), f"no-shows {no_shows}", commit=False)
    session.commit()
    flash(f"已标记为已举行，未到场 {no_shows} 人", "ok")
    return redirect(url_for("admin.meeting_detail", meeting_id=meeting_id))


@bp.post("/meetings/<int:meeting_id>/raise")
@login_required
@auth.can_change
def meeting_raise(meeting_id: int):
    """A problem an enterprise raised at the table, filed as its ticket (source 早茶会)."""
    session = auth.db()
    meeting = store.get(session, meeting_id) or abort(404)
    try:
        problem = text("text", 4000, required="问题内容")
        firm = enterprises.by_name(session, text("enterprise", 200))
        if firm is None:
            raise FormError("请从名录中选择提出问题的企业")
        complaint = meetings.raise_topic(services(), session, meeting, firm, problem, text("category") or None)
    except FormError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.meeting_detail", meeting_id=meeting_id))
    audit("meeting.raise", str(meeting_id), complaint.ticket_no, commit=False)
    session.commit()
    flash(f"已登记为工单 {complaint.ticket_no}", "ok")
    return redirect(url_for("admin.meeting_detail", meeting_id=meeting_id))


@bp.get("/meetings/<int:meeting_id>/attendees.csv")
@login_required
def meeting_csv(meeting_id: int):
    session = auth.db()
    meeting = store.get(session, meeting_id) or abort(404)
    rows = [[n, s.user.display_name or s.user.user_id, s.enterprise.name if s.enterprise else "", s.user.phone or "",
             SIGNUP_NAMES[s.status], s.seats, "是" if s.no_show else "", meetings_topic(s)]
            for n, s in enumerate(store.roster(session, meeting_id), 1)]
    return csv_download(f"meeting-{meeting.id}.csv", ROSTER_COLUMNS, rows)


ROSTER_COLUMNS = ["序号", "姓名", "企业", "电话", "状态", "人数", "未到场", "想反映的问题"]


def meetings_topic(signup) -> str:
    """What the owner wants to raise at the table: the signup's topic when it has one, else its note (which
    carries it for signups made before the topic was its own field)."""
    return getattr(signup, "topic", None) or signup.note or ""

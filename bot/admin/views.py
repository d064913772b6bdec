"""Console pages: login/logout, the dashboard, the complaints queue and a ticket's detail."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import CSRFProtect

from bot import complaint_reports, meetings, tickets
from bot.admin import auth
from bot.complaint_rules import CATEGORIES
from bot.complaint_texts import STATUS_NAMES
from storage import broadcasts as broadcast_store
from storage import complaints as store
from storage import meetings as meeting_store
from storage import staff

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf = CSRFProtect()


def init_app(app, exempt_blueprints) -> None:
    """CSRF on every console form (login included); the signed channel callbacks are exempt."""
    csrf.init_app(app)
    for blueprint in exempt_blueprints:
        csrf.exempt(blueprint)
    auth.login_manager.init_app(app)
    app.teardown_appcontext(auth.close_db)
    app.register_blueprint(bp)


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
    _audit("login")
    return redirect(auth.safe_next(request.args.get("next")))


@bp.post("/logout")
@login_required
def logout():
    _audit("logout")
    logout_user()
    return redirect(url_for("admin.login"))


def quarter_start(today: date) -> date:
    return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


@bp.get("/")
@login_required
def dashboard():
    session = auth.db()
    since = quarter_start(tickets.local_today())
    figures = complaint_reports.stats(session, since)
    upcoming = meeting_store.upcoming(session, meetings.local_now())[:5]
    recent = [(b, _broadcast_status(session, b.id)) for b in broadcast_store.recent(session, 5)]
    return render_template("admin/dashboard.html", figures=figures, since=since, upcoming=upcoming,
                           recent=recent, summary=complaint_reports.summary_line(figures), when=meetings.when)


def _broadcast_status(session, broadcast_id):
    from bot.broadcasts import status
    return status(session, broadcast_id)


def _scope():
    """Staff scoped to a department see only its tickets."""
    return current_user.department if current_user.role == "staff" and current_user.department else None


@bp.get("/complaints")
@login_required
def complaints():
    session = auth.db()
    args = request.args
    department = _scope() or args.get("department") or None
    rows = store.listing(session, status=args.get("status") or None, department=department)
    today = tickets.local_today()
    if args.get("category"):
        rows = [c for c in rows if c.category == args["category"]]
    if args.get("source"):
        rows = [c for c in rows if c.source == args["source"]]
    if args.get("overdue"):
        rows = [c for c in rows if c.status in store.OPEN_STATUSES and c.due < today]
    if args.get("q"):
        rows = [c for c in rows if args["q"] in c.description or args["q"].upper() in c.ticket_no]
    return render_template("admin/complaints.html", rows=rows[:200], total=len(rows), args=args,
                           statuses=STATUS_NAMES, categories=CATEGORIES, today=today,
                           departments=sorted(current_app.extensions["bot"].complaint_rules.department_staff),
                           sources=tickets.SOURCES, scoped=_scope())


def _ticket_or_404(ticket: str):
    complaint = store.by_ticket(auth.db(), ticket)
    if complaint is None or (_scope() and complaint.department != _scope()):
        abort(404)
    return complaint


@bp.get("/complaints/<ticket>")
@login_required
def complaint(ticket: str):
    found = _ticket_or_404(ticket)
    return render_template("admin/complaint.html", c=found, statuses=STATUS_NAMES,
                           departments=sorted(current_app.extensions["bot"].complaint_rules.department_staff),
                           next_statuses=sorted(tickets.TRANSITIONS[found.status]))


@bp.post("/complaints/<ticket>")
@login_required
@auth.can_change
def act_on_complaint(ticket: str):
    """One form per action: assign, reply, note, extend, status. Every change is audited."""
    services, session = current_app.extensions["bot"], auth.db()
    found = _ticket_or_404(ticket)
    form, actor = request.form, current_user.username
    action = form.get("action")
    try:
        if action == "assign":
            tickets.assign(services, session, found, actor, department=form.get("department") or None)
        elif action == "reply" and form.get("text", "").strip():
            tickets.reply(services, session, found, form["text"].strip(), actor)
        elif action == "note" and form.get("text", "").strip():
            tickets.add_note(session, found, form["text"].strip(), actor)
        elif action == "extend":
            tickets.extend(services, session, found, int(form.get("days") or 0), form.get("reason", ""), actor)
        elif action == "status":
            tickets.change_status(services, session, found, form.get("status", ""), actor,
                                  public_text=form.get("text", "").strip())
        else:
            abort(400, "unknown action")
    except (tickets.TicketError, ValueError) as exc:
        session.rollback()
        flash(f"未能修改：{exc}", "error")
        return redirect(url_for("admin.complaint", ticket=ticket))
    _audit(f"complaint.{action}", ticket, form.get("text", "") or form.get("status", "") or form.get("department", ""))
    session.commit()
    flash("已保存", "ok")
    return redirect(url_for("admin.complaint", ticket=ticket))


def _audit(action: str, target: str = "", detail: str = "") -> None:
    session = auth.db()
    staff.audit(session, current_user.username if current_user.is_authenticated else "-", action, target, detail)
    session.commit()


@bp.get("/broadcasts")
@login_required
def broadcasts_page():
    session = auth.db()
    recent = [(b, _broadcast_status(session, b.id)) for b in broadcast_store.recent(session, 20)]
    return render_template("admin/broadcasts.html", recent=recent)


@bp.post("/broadcasts/preview")
@login_required
@auth.can_change
def broadcast_preview():
    """Step 1: how many people the target reaches, before anything is sent."""
    from bot import broadcasts
    form = {k: (request.form.get(k) or "").strip() for k in ("title", "body", "url", "target")}
    try:
        count = len(broadcasts.recipients(auth.db(), form["target"] or "all"))
    except broadcasts.TargetError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.broadcasts_page"))
    if not form["title"] or not form["body"]:
        flash("标题和正文都要填写", "error")
        return redirect(url_for("admin.broadcasts_page"))
    return render_template("admin/broadcast_preview.html", form=form, count=count)


@bp.post("/broadcasts")
@login_required
@auth.can_change
def broadcast_send():
    """Step 2 (confirmed): record the deliveries; the worker sends them."""
    from bot import broadcasts
    services, session = current_app.extensions["bot"], auth.db()
    form = {k: (request.form.get(k) or "").strip() for k in ("title", "body", "url", "target")}
    created = broadcasts.create(services, session, form["title"], form["body"], form["target"] or "all",
                                url=form["url"], created_by=current_user.username)
    staff.audit(session, current_user.username, "broadcast.send", str(created.id), form["target"])
    session.commit()
    return redirect(url_for("admin.broadcast_detail", broadcast_id=created.id))


@bp.get("/broadcasts/<int:broadcast_id>")
@login_required
def broadcast_detail(broadcast_id: int):
    session = auth.db()
    found = broadcast_store.get(session, broadcast_id) or abort(404)
    return render_template("admin/broadcast.html", b=found, status=_broadcast_status(session, broadcast_id),
                           failures=broadcast_store.failures(session, broadcast_id))


@bp.get("/broadcasts/<int:broadcast_id>/status")
@login_required
def broadcast_status_json(broadcast_id: int):
    """Polled by the page's progress bar."""
    from flask import jsonify
    broadcast_store.get(auth.db(), broadcast_id) or abort(404)
    return jsonify(_broadcast_status(auth.db(), broadcast_id))


@bp.get("/meetings")
@login_required
def meetings_page():
    session = auth.db()
    rows = meeting_store.all_meetings(session)
    return render_template("admin/meetings.html", rows=rows, when=meetings.when)


@bp.get("/meetings/<int:meeting_id>")
@login_required
def meeting_detail(meeting_id: int):
    session = auth.db()
    meeting = meeting_store.get(session, meeting_id) or abort(404)
    waitlist = {s.id: n for n, s in enumerate(meeting_store.waitlist(session, meeting_id), 1)}
    return render_template("admin/meeting.html", m=meeting, roster=meeting_store.roster(session, meeting_id),
                           waitlist=waitlist, raised=meeting_store.tickets_raised(session, meeting_id),
                           statuses=STATUS_NAMES, when=meetings.when)


@bp.post("/meetings/<int:meeting_id>/checkin/<int:signup_id>")
@login_required
@auth.can_change
def meeting_checkin(meeting_id: int, signup_id: int):
    session = auth.db()
    record = meeting_store.get_signup(session, signup_id)
    if record is None or record.meeting_id != meeting_id:
        abort(404)
    try:
        meetings.check_in(session, record)
    except meetings.MeetingError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.meeting_detail", meeting_id=meeting_id))
    staff.audit(session, current_user.username, "meeting.checkin", str(meeting_id), record.user.user_id)
    session.commit()
    flash("已签到", "ok")
    return redirect(url_for("admin.meeting_detail", meeting_id=meeting_id))


@bp.get("/meetings/<int:meeting_id>/attendees.csv")
@login_required
def meeting_csv(meeting_id: int):
    """The roster for Excel: Chinese headers, UTF-8 with a BOM."""
    import csv
    import io

    from flask import Response
    session = auth.db()
    meeting = meeting_store.get(session, meeting_id) or abort(404)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["序号", "姓名", "企业", "状态", "人数", "未到场", "备注"])
    names = {"confirmed": "已确认", "waitlisted": "候补", "cancelled": "已取消", "attended": "已签到"}
    for n, s in enumerate(meeting_store.roster(session, meeting_id), 1):
        writer.writerow([n, s.user.display_name or s.user.user_id, s.enterprise.name if s.enterprise else "",
                         names[s.status], s.seats, "是" if s.no_show else "", s.note])
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=meeting-{meeting.id}.csv"})

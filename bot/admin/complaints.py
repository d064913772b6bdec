"""Complaints: the queue with filters and search, a ticket's timeline and actions, filing on behalf,
merging duplicates, and the export for the provincial platform."""
from __future__ import annotations

import tempfile
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from bot import clock
from bot.admin import auth
from bot.admin.common import (
    FormError,
    audit,
    bp,
    departments,
    page_number,
    scope,
    services,
    text,
)
from bot.complaints import labels, service
from bot.complaints import reports as complaint_reports
from bot.complaints.rules import CATEGORIES
from bot.complaints.texts import STATUS_NAMES
from storage import complaints as store
from storage import enterprises, users

# Where staff-filed tickets come from; chat channels file their own.
STAFF_SOURCES = ("电话", "走访", "监测员", "12345", "早茶会")
KINDS = ("诉求", "投诉", "咨询")


PAGE_SIZE = 50
MAX_EXTENSION_DAYS = 60


FILTER_KEYS = ("status", "department", "category", "source", "overdue", "q")


@bp.get("/complaints")
@login_required
def complaints():
    args, today = request.args, clock.today()
    page = page_number()
    rows, total = store.queue(auth.db(), status=args.get("status") or None,
                              department=scope() or args.get("department") or None,
                              category=args.get("category") or None, source=args.get("source") or None,
                              overdue_on=today if args.get("overdue") else None, text=(args.get("q") or "").strip()[:100],
                              offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    # Only the filters go back into the pager's links: url_for(**every argument) lets ?endpoint= or
    # ?_method= clash with url_for's own keywords (a 500).
    filters = {key: args[key] for key in FILTER_KEYS if args.get(key)}
    return render_template("admin/complaints.html", rows=rows, total=total, args=args, page=page, pages=pages,
                           filters=filters,
                           statuses=STATUS_NAMES, categories=CATEGORIES, today=today,
                           departments=departments(), sources=service.SOURCES, scoped=scope())


@bp.get("/complaints/export")
@login_required
def complaints_export():
    """The provincial platform's columns, for the period chosen (CSV with BOM, or Excel), streamed: the CSV
    batch by batch as the database yields the rows; the workbook zipped row by row into a temporary file
    (reports.write_xlsx), then sent in chunks. Memory stays flat at any number of tickets."""
    raw = request.args.get("since") or ""
    try:
        since = date.fromisoformat(raw) if raw else None
    except ValueError:
        abort(400, "起始日期的格式应为 2026-01-01")
    kind = request.args.get("format") or "csv"
    if kind not in ("csv", "xlsx"):
        abort(400, "导出格式只能是 csv 或 xlsx")
    audit("complaints.export", kind, since.isoformat() if since else "all")
    rows = complaint_reports.iter_export_rows(auth.db(), since, department=scope())
    if kind == "xlsx":
        workbook = tempfile.TemporaryFile()
        complaint_reports.write_xlsx(rows, workbook)
        size = workbook.seek(0, 2)
        workbook.seek(0)
        return Response(_chunks(workbook), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": "attachment; filename=complaints.xlsx",
                                 "Content-Length": str(size)})     # the browser can show how far the download is
    return Response(stream_with_context(complaint_reports.csv_chunks(complaint_reports.EXPORT_COLUMNS, rows)),
                    content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=complaints.csv"})


def _chunks(file, size: int = 256 * 1024):
    """A temporary file sent piece by piece, closed (and so deleted) at the end."""
    with file:
        while chunk := file.read(size):
            yield chunk


@bp.route("/complaints/new", methods=["GET", "POST"])
@login_required
@auth.can_change
def complaint_new():
    """File on an enterprise's behalf (a phone call, a visit, the 12345 hotline…)."""
    session = auth.db()
    names = enterprises.names(session)
    if request.method == "POST":
        try:
            description = text("description", required="诉求内容")
            category = text("category")
            if category not in CATEGORIES:
                raise FormError("请选择类别")
            source, kind = text("source"), text("kind")
            if source not in STAFF_SOURCES or kind not in KINDS:
                raise FormError("请选择来源和类型")
            enterprise = None
            if text("enterprise"):
                enterprise = enterprises.by_name(session, text("enterprise"))
                if enterprise is None:
                    raise FormError(f"企业名录中没有「{text('enterprise')}」，请从列表中选择或先导入名录")
            complaint, merged = service.file(
                services(), session, description=description, category=category, source=source, kind=kind,
                enterprise_id=enterprise.id if enterprise else None, location=text("location", 200),
                phone=text("phone", 32), actor=current_user.username)
        except FormError as exc:
            session.rollback()
            flash(str(exc), "error")
            return render_template("admin/complaint_new.html", names=names, categories=CATEGORIES,
                                   sources=STAFF_SOURCES, kinds=KINDS, form=request.form), 400
        audit("complaint.file", complaint.ticket_no, "merged" if merged else source, commit=False)
        session.commit()
        flash(f"与办理中的工单是同一事项，已并入 {complaint.ticket_no}" if merged else f"已登记 {complaint.ticket_no}", "ok")
        return redirect(url_for("admin.complaint", ticket=complaint.ticket_no))
    return render_template("admin/complaint_new.html", names=names, categories=CATEGORIES, sources=STAFF_SOURCES,
                           kinds=KINDS, form={})


def _ticket_or_404(ticket: str):
    complaint = store.by_ticket(auth.db(), ticket)
    if complaint is None or (scope() and complaint.department != scope()):
        abort(404)
    return complaint


@bp.get("/complaints/<ticket>")
@login_required
def complaint(ticket: str):
    found = _ticket_or_404(ticket)
    submitter = users.get(auth.db(), found.user_ref) if found.user_ref else None
    # The phone the ticket was filed with, else the one the submitter gave the bot (a one-message complaint has none).
    phone, phone_known = found.contact_phone, ""
    if not phone and submitter is not None and submitter.phone:
        phone, phone_known = submitter.phone, "（用户资料）"
    return render_template("admin/complaint.html", c=found, statuses=STATUS_NAMES, departments=departments(),
                           categories=CATEGORIES, timeline=labels.timeline(found.events), submitter=submitter,
                           phone=phone, phone_known=phone_known,
                           next_statuses=[s for s in service.STATUSES if s in service.TRANSITIONS[found.status]]
                           if not found.merged_into else [])


def _merge(session, found, actor):
    into = store.by_ticket(session, text("into", 20).upper())
    if into is None or (scope() and into.department != scope()):
        raise service.ComplaintError("没有找到要并入的工单，请核对工单号")
    service.merge(services(), session, found, into, actor)
    return into.ticket_no


@bp.post("/complaints/<ticket>")
@login_required
@auth.can_change
def act_on_complaint(ticket: str):
    """One form per action: assign, reply, note, extend, status, merge. Every change is audited."""
    session = auth.db()
    found = _ticket_or_404(ticket)
    form, actor = request.form, current_user.username
    action, detail = form.get("action"), form.get("text", "")
    try:
        if action == "assign":
            before, category = found.category, form.get("category") or None
            service.assign(services(), session, found, actor, department=form.get("department") or None,
                           category=category)
            detail = form.get("department", "") + (f"，类别 {before} → {category}" if category and category != before else "")
        elif action == "reply" and detail.strip():
            service.reply(services(), session, found, detail.strip()[:2000], actor)
        elif action == "note" and detail.strip():
            service.add_note(session, found, detail.strip()[:2000], actor)
        elif action == "extend":
            days = int(form.get("days") or 0)
            if days > MAX_EXTENSION_DAYS:      # the calendar walks day by day: a huge number would hang
                raise service.ComplaintError(f"延期最多 {MAX_EXTENSION_DAYS} 个工作日")
            service.extend(services(), session, found, days, form.get("reason", ""), actor)
        elif action == "status":
            service.change_status(services(), session, found, form.get("status", ""), actor,
                                  public_text=detail.strip()[:2000])
            detail = form.get("status", "")
        elif action == "merge":
            detail = _merge(session, found, actor)
        elif action in ("reply", "note"):
            raise service.ComplaintError("内容不能为空")
        else:
            abort(400, "unknown action")
    except (service.ComplaintError, ValueError) as exc:
        session.rollback()
        flash(f"未能修改：{exc}", "error")
        return redirect(url_for("admin.complaint", ticket=ticket))
    audit(f"complaint.{action}", ticket, detail, commit=False)
    session.commit()
    flash("已保存", "ok")
    return redirect(url_for("admin.complaint", ticket=ticket))

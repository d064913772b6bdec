"""Outreach in the console: 我的企业 (a liaison's enterprises), 走访记录, monitors, and 三问三促 surveys
(compose, preview, send, results with charts, CSV/XLSX export, 转为诉求)."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bot import clock
from bot.admin import auth
from bot.admin.common import FormError, audit, bp, csv_download, day, services, text
from bot.complaints.texts import STATUS_NAMES
from bot.outreach import service as outreach
from bot.outreach import surveys, texts
from storage import enterprises, staff
from storage import outreach as store

QUESTION_ROWS = 10        # the compose form's question slots (a survey has 3–10)


def _me():
    return staff.get(auth.db(), current_user.id)


@bp.get("/outreach")
@login_required
def outreach_mine():
    """我的企业: the signed-in liaison's enterprises (?liaison=USERNAME another's, ?liaison=* all)."""
    session = auth.db()
    who = request.args.get("liaison") or current_user.username
    account = None if who == "*" else staff.by_username(session, who)
    if who != "*" and account is None:
        abort(404)
    rows = outreach.my_enterprises(session, account.id if account else None)
    return render_template("admin/outreach_mine.html", rows=rows, account=account, who=who,
                           contact=store.contact_of(session, current_user.id), statuses=STATUS_NAMES,
                           accounts=staff.accounts(session), firms=enterprises.names(session),
                           monitors=store.monitors(session), key_tag=store.KEY_TAG)


@bp.post("/outreach/assign")
@login_required
@auth.can_change
def outreach_assign():
    """An enterprise's liaison, leading cadre and 重点企业 mark."""
    session = auth.db()
    try:
        enterprise = outreach.enterprise_named(session, text("enterprise", 200, required="企业"))
        row = outreach.assign(session, enterprise, text("liaison", 64, required="联络员"), text("leader", 64),
                              {"1": True, "0": False}.get(request.form.get("key", "")), actor=current_user.username)
    except (FormError, outreach.OutreachError) as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.outreach_mine", liaison="*"))
    audit("outreach.assign", enterprise.name, f"{row.liaison.username} {row.leader.username if row.leader else ''}",
          commit=False)
    session.commit()
    flash(f"「{enterprise.name}」的联络员已设为 {row.liaison.username}", "ok")
    return redirect(url_for("admin.outreach_mine", liaison=request.args.get("back") or row.liaison.username))


@bp.post("/outreach/contact")
@login_required
@auth.can_change
def outreach_contact():
    """My own name, WeCom id and phone (what my enterprises are told); admins may set anyone's."""
    session = auth.db()
    username = text("username", 64) or current_user.username
    if username != current_user.username and current_user.role != "admin":
        abort(403, "只能修改自己的联系方式")
    try:
        outreach.set_contact(session, username, text("name", 64), text("wecom_id", 64), text("phone", 32))
    except outreach.OutreachError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.outreach_mine"))
    audit("outreach.contact", username, commit=False)
    session.commit()
    flash("联系方式已保存，企业询问“我的联络员是谁”时会看到", "ok")
    return redirect(url_for("admin.outreach_mine"))


@bp.post("/outreach/enterprises/<int:enterprise_id>/applied/<int:policy_id>")
@login_required
@auth.can_change
def outreach_applied(enterprise_id: int, policy_id: int):
    session = auth.db()
    enterprise = enterprises.get(session, enterprise_id) or abort(404)
    store.note_application(session, enterprise.id, policy_id, current_user.username)
    audit("outreach.applied", enterprise.name, str(policy_id), commit=False)
    session.commit()
    flash(f"已记录「{enterprise.name}」已申报该政策", "ok")
    return redirect(request.referrer if (request.referrer or "").startswith(request.host_url) else
                    url_for("admin.outreach_mine"))


@bp.post("/outreach/monitors")
@login_required
@auth.can_change
def outreach_monitor():
    session = auth.db()
    channel, _, user_id = text("user", 200, required="用户").partition(":")
    if not user_id:
        channel, user_id = "wechat", channel
    try:
        user = outreach.set_monitor(session, channel, user_id, request.form.get("on") != "0")
    except outreach.OutreachError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.outreach_mine"))
    audit("outreach.monitor", f"{channel}:{user_id}", ",".join(user.roles), commit=False)
    session.commit()
    flash("已保存监测员设置", "ok")
    return redirect(url_for("admin.outreach_mine"))


# --- 走访记录 ---

@bp.get("/outreach/visits")
@login_required
def outreach_visits():
    session = auth.db()
    firm = (request.args.get("enterprise") or "").strip()
    found = enterprises.by_name(session, firm) if firm else None
    rows = store.visits(session, [found.id] if found else None, limit=300)
    return render_template("admin/outreach_visits.html", rows=rows, firms=enterprises.names(session), firm=firm,
                           kinds=texts.VISIT_KINDS, today=clock.today())


@bp.post("/outreach/visits")
@login_required
@auth.can_change
def outreach_visit_add():
    """A visit and the problems raised there (one per line), each a ticket with source 走访."""
    session = auth.db()
    try:
        enterprise = outreach.enterprise_named(session, text("enterprise", 200, required="企业"))
        visit = outreach.record_visit(
            services(), session, enterprise, day("visited_on", "走访日期") or clock.today(),
            text("staff", 200, required="走访人员"), text("notes", 4000),
            text("problems", 8000).splitlines(), current_user.username, text("kind", 8) or "走访", text("met", 200))
    except (FormError, outreach.OutreachError) as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.outreach_visits"))
    audit("outreach.visit", enterprise.name, " ".join(visit.tickets), commit=False)
    session.commit()
    raised = f"，问题已登记为工单 {'、'.join(visit.tickets)}" if visit.tickets else ""
    flash(f"已记录对「{enterprise.name}」的{visit.kind}{raised}", "ok")
    return redirect(url_for("admin.outreach_visits"))


# --- 三问三促 surveys ---

def _questions_from_form() -> list[dict]:
    rows = []
    for n in range(1, QUESTION_ROWS + 1):
        question = text(f"q{n}_text", 300)
        if question:
            options = text(f"q{n}_options", 2000).replace("，", "\n").replace(",", "\n").splitlines()
            rows.append({"text": question, "type": text(f"q{n}_type", 16) or "single", "options": options})
    return rows


def _surveys_page(error: str = "", status: int = 200):
    session = auth.db()
    listing = [(s, surveys.results(session, s)) for s in store.surveys(session)]
    return render_template("admin/outreach_surveys.html", listing=listing, error=error, form=request.form,
                           rows=QUESTION_ROWS, types=texts.TYPE_NAMES, purposes=surveys.PURPOSES,
                           status_names=texts.SURVEY_STATUS), status


@bp.get("/surveys")
@login_required
def surveys_page():
    return _surveys_page()


@bp.post("/surveys")
@login_required
@auth.can_change
def survey_create():
    """Step 1: the draft (nothing is sent); its page previews it as owners will read it."""
    session = auth.db()
    try:
        survey = surveys.create(session, text("title", 200), text("purpose", 8), _questions_from_form(),
                                text("intro", 1000), actor=current_user.username)
    except surveys.SurveyError as exc:
        session.rollback()
        return _surveys_page(str(exc), 400)
    audit("survey.create", str(survey.id), survey.title, commit=False)
    session.commit()
    return redirect(url_for("admin.survey_detail", survey_id=survey.id))


@bp.get("/surveys/<int:survey_id>")
@login_required
def survey_detail(survey_id: int):
    """The preview: the invitation and each question as the chat shows them; ?to=TARGET counts recipients."""
    session = auth.db()
    survey = store.get_survey(session, survey_id) or abort(404)
    target, reach, error = (request.args.get("to") or "").strip(), None, ""
    if target:
        try:
            reach = surveys.reach(session, target)
        except surveys.SurveyError as exc:
            error = str(exc)
    return render_template("admin/outreach_survey.html", s=survey, target=target, reach=reach, error=error,
                           invitation=surveys.invitation(survey),
                           questions=[surveys.question_text(survey, n) for n in range(len(survey.questions))],
                           status_names=texts.SURVEY_STATUS, accounts=staff.accounts(session),
                           tags=enterprises.all_tags(session)), 400 if error else 200


@bp.post("/surveys/<int:survey_id>/send")
@login_required
@auth.can_change
def survey_send(survey_id: int):
    """Step 2 (confirmed): one delivery per recipient; the worker sends them as it sends broadcasts."""
    session = auth.db()
    survey = store.get_survey(session, survey_id) or abort(404)
    target = text("target", 120) or "all"
    try:
        surveys.send(services(), session, survey, target, actor=current_user.username)
    except surveys.SurveyError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.survey_detail", survey_id=survey_id, to=target))
    audit("survey.send", str(survey.id), target, commit=False)
    session.commit()
    flash(f"问卷已交给发送队列（{target}）", "ok")
    return redirect(url_for("admin.survey_results", survey_id=survey_id))


@bp.post("/surveys/<int:survey_id>/close")
@login_required
@auth.can_change
def survey_close(survey_id: int):
    session = auth.db()
    survey = surveys.close(store.get_survey(session, survey_id) or abort(404))
    audit("survey.close", str(survey.id), commit=False)
    session.commit()
    flash("问卷已结束收集", "ok")
    return redirect(url_for("admin.survey_results", survey_id=survey_id))


@bp.get("/surveys/<int:survey_id>/results")
@login_required
def survey_results(survey_id: int):
    session = auth.db()
    survey = store.get_survey(session, survey_id) or abort(404)
    return render_template("admin/outreach_results.html", s=survey, r=surveys.results(session, survey),
                           status_names=texts.SURVEY_STATUS, type_names=texts.TYPE_NAMES)


@bp.get("/surveys/<int:survey_id>/export.<fmt>")
@login_required
def survey_export(survey_id: int, fmt: str):
    session = auth.db()
    survey = store.get_survey(session, survey_id) or abort(404)
    header, rows = surveys.export_rows(session, survey)
    if fmt == "csv":
        return csv_download(f"survey-{survey.id}.csv", header, rows)
    if fmt != "xlsx":
        abort(404)
    return Response(surveys.export_xlsx(header, rows),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=survey-{survey.id}.xlsx"})


@bp.post("/surveys/<int:survey_id>/responses/<int:response_id>/ticket/<int:question>")
@login_required
@auth.can_change
def survey_ticket(survey_id: int, response_id: int, question: int):
    """转为诉求: the free-text answer becomes the enterprise's ticket (source 问需)."""
    session = auth.db()
    survey = store.get_survey(session, survey_id) or abort(404)
    response = store.get_response(session, response_id) or abort(404)
    try:
        complaint, merged = surveys.to_ticket(services(), session, survey, response, question, current_user.username)
    except surveys.SurveyError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.survey_results", survey_id=survey_id))
    audit("survey.ticket", complaint.ticket_no, f"survey {survey_id} response {response_id} q{question + 1}",
          commit=False)
    session.commit()
    flash(f"同一事项已在办理，已并入工单 {complaint.ticket_no}" if merged else
          f"已转为诉求 {complaint.ticket_no}（来源：问需）", "ok")
    return redirect(url_for("admin.survey_results", survey_id=survey_id))

"""Broadcasts: compose, see the recipient count, confirm, watch the progress, read the failures."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bot import broadcasts
from bot.admin import auth
from bot.admin.common import bp, services
from storage import broadcasts as store
from storage import staff

FIELDS = ("title", "body", "url", "target")


def _form() -> dict:
    return {name: (request.form.get(name) or "").strip() for name in FIELDS}


@bp.get("/broadcasts")
@login_required
def broadcasts_page():
    session = auth.db()
    recent = [(b, broadcasts.status(session, b.id)) for b in store.recent(session, 20)]
    return render_template("admin/broadcasts.html", recent=recent)


@bp.post("/broadcasts/preview")
@login_required
@auth.can_change
def broadcast_preview():
    """Step 1: how many people the target reaches, before anything is sent."""
    form = _form()
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
    session, form = auth.db(), _form()
    if not form["title"] or not form["body"]:
        abort(400, "标题和正文都要填写")
    try:
        created = broadcasts.create(services(), session, form["title"], form["body"], form["target"] or "all",
                                    url=form["url"], created_by=current_user.username)
    except broadcasts.TargetError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.broadcasts_page"))
    staff.audit(session, current_user.username, "broadcast.send", str(created.id), form["target"])
    session.commit()
    return redirect(url_for("admin.broadcast_detail", broadcast_id=created.id))


@bp.get("/broadcasts/<int:broadcast_id>")
@login_required
def broadcast_detail(broadcast_id: int):
    session = auth.db()
    found = store.get(session, broadcast_id) or abort(404)
    return render_template("admin/broadcast.html", b=found, status=broadcasts.status(session, broadcast_id),
                           failures=store.failures(session, broadcast_id))


@bp.get("/broadcasts/<int:broadcast_id>/status")
@login_required
def broadcast_status_json(broadcast_id: int):
    """Polled by the page's progress bar."""
    store.get(auth.db(), broadcast_id) or abort(404)
    return jsonify(broadcasts.status(auth.db(), broadcast_id))

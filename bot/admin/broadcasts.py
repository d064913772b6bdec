"""Broadcasts: compose, see the recipient count, confirm, watch the progress, read the failures."""
from __future__ import annotations

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bot.admin import auth
from bot.admin.common import FormError, bp, services, target_label
from bot.broadcasts import service as broadcasts
from storage import broadcasts as store
from storage import groups as group_store

FIELDS = ("title", "body", "url", "target")
MAX_TITLE = 200           # the column's size


def _form() -> dict:
    return {name: (request.form.get(name) or "").strip() for name in FIELDS}


def _checked(form: dict) -> int:
    """How many people the form's target reaches; a Chinese FormError for anything that cannot be sent."""
    if not form["title"] or not form["body"]:
        raise FormError("标题和正文都要填写")
    if len(form["title"]) > MAX_TITLE:
        raise FormError(f"标题最多 {MAX_TITLE} 个字")
    try:
        form["url"] = broadcasts.check_link(form["url"])
        return len(broadcasts.recipients(auth.db(), form["target"] or "all"))
    except (broadcasts.LinkError, broadcasts.TargetError) as exc:
        raise FormError(str(exc)) from None


def _choices(session) -> list[tuple[str, list[tuple[str, str, int]]]]:
    """The targets to choose from, grouped, each (value, label, recipients)."""
    def count(target: str) -> int:
        return len(broadcasts.recipients(session, target))
    groups = [("全部", [("all", "全部关注用户", count("all"))]),
              ("政策主题（订阅该主题或全部政策的用户）", [(f"topic:{t}", t, count(f"topic:{t}"))
                                                     for t in broadcasts.known_topics(session)]),
              ("企业标签（该标签企业的已关联用户）", [(f"tag:{t}", t, count(f"tag:{t}"))
                                                 for t in broadcasts.known_tags(session)]),
              ("企业微信群（群机器人发到群里）", [(f"group:{g.name}", g.name, 1) for g in group_store.listing(session)])]
    return [(name, options) for name, options in groups if options]


def _page(form: dict, error: str = "", status: int = 200):
    """The list with the compose form, holding what was typed and the reason it was refused."""
    session = auth.db()
    recent = [(b, broadcasts.status(session, b.id)) for b in store.recent(session, 20)]
    choices = _choices(session) if current_user.can_change else []
    offered = {value for _, options in choices for value, _, _ in options}
    return render_template("admin/broadcasts.html", recent=recent, form=form, error=error, choices=choices,
                           offered=offered, target_label=target_label), status


@bp.get("/broadcasts")
@login_required
def broadcasts_page():
    return _page({})


@bp.post("/broadcasts/preview")
@login_required
@auth.can_change
@auth.unscoped_only("发送广播")   # to every follower, not one department's
def broadcast_preview():
    """Step 1: how many people the target reaches, before anything is sent."""
    form = _form()
    try:
        count = _checked(form)
    except FormError as exc:
        return _page(form, str(exc), 400)
    return render_template("admin/broadcast_preview.html", form=form, count=count, target=target_label(form["target"]))


@bp.post("/broadcasts")
@login_required
@auth.can_change
@auth.unscoped_only("发送广播")   # to every follower, not one department's
def broadcast_send():
    """Step 2 (confirmed): record the deliveries; the worker sends them."""
    session, form = auth.db(), _form()
    try:
        _checked(form)
        created = broadcasts.create(services(), session, form["title"], form["body"], form["target"] or "all",
                                    url=form["url"], created_by=current_user.username)
    except (FormError, broadcasts.TargetError, broadcasts.LinkError) as exc:
        session.rollback()
        return _page(form, str(exc), 400)
    session.commit()                # the service wrote the audit entry (as for the CLI and the chat)
    return redirect(url_for("admin.broadcast_detail", broadcast_id=created.id))


@bp.get("/broadcasts/<int:broadcast_id>")
@login_required
def broadcast_detail(broadcast_id: int):
    session = auth.db()
    found = store.get(session, broadcast_id) or abort(404)
    return render_template("admin/broadcast.html", b=found, status=broadcasts.status(session, broadcast_id),
                           failures=store.failures(session, broadcast_id), link=broadcasts.web_link(found.url),
                           target=target_label(found.target))


@bp.get("/broadcasts/<int:broadcast_id>/status")
@login_required
def broadcast_status_json(broadcast_id: int):
    """Polled by the page's progress bar."""
    store.get(auth.db(), broadcast_id) or abort(404)
    return jsonify(broadcasts.status(auth.db(), broadcast_id))

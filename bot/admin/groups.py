"""企业微信群: the groups broadcasts and meeting reminders reach through their group robot's webhook.
Everyone signed in sees the list (keys masked); only administrators add or remove a group, because its
key lets whoever holds it post into the group."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bot.admin import auth
from bot.admin.common import audit, bp
from bot.push import group_robots as groups
from storage import groups as store


@bp.get("/groups")
@login_required
def groups_page():
    rows = [groups.row(g) for g in store.listing(auth.db())]
    return render_template("admin/groups.html", rows=rows, form={})


@bp.post("/groups")
@login_required
@auth.admin_only
def group_add():
    session = auth.db()
    form = {"name": (request.form.get("name") or "").strip(), "reminders": request.form.get("reminders") == "1"}
    try:
        group = groups.register(session, form["name"], request.form.get("webhook_key") or "", current_user.username,
                                reminders=form["reminders"])
    except groups.GroupError as exc:
        session.rollback()
        rows = [groups.row(g) for g in store.listing(session)]
        return render_template("admin/groups.html", rows=rows, form=form, error=str(exc)), 400
    audit("group.add", group.name, f"webhook {groups.mask(group.webhook_key)}", commit=False)
    session.commit()
    flash(f"已登记群「{group.name}」，广播对象填 group:{group.name}", "ok")
    return redirect(url_for("admin.groups_page"))


@bp.post("/groups/<int:group_id>/delete")
@login_required
@auth.admin_only
def group_delete(group_id: int):
    session = auth.db()
    group = store.get(session, group_id) or abort(404)
    name = group.name
    audit("group.remove", name, f"webhook {groups.mask(group.webhook_key)}", commit=False)
    store.remove(session, group)
    session.commit()
    flash(f"已删除群「{name}」", "ok")
    return redirect(url_for("admin.groups_page"))

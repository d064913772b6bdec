"""Policies: the list with search, create and edit, import a YAML or CSV file, expire."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from bot import clock
from bot.admin import auth
from bot.admin.common import FormError, audit, bp, services, uploaded_text
from bot.policies import service as policies
from storage import policies as store

TOPICS = ("科技", "税收", "人才", "用工", "融资", "产业", "其他")
LEVELS = ("国家", "省", "州", "园区")
PAYOUT_MODES = ("免申即享", "快申快享", "依申请")
# The checkable eligibility behind "哪些政策适合我们" (bot/policies/service.py `fits`), one list each.
RULE_FIELDS = {"industries_any": "适用行业（含其一即可）", "exclude_industries": "排除行业",
               "statuses_any": "资质要求（如 高新技术企业、专精特新）", "sizes": "企业规模（如 小微）"}
TEXT_FIELDS = ("title", "doc_no", "issuer", "level", "category", "summary", "eligibility", "beneficiaries", "amount",
               "payout_mode", "materials", "how_to_apply", "contact", "deadline", "valid_from", "valid_to",
               "source_url", "body")


def state(policy, today) -> str:
    if policy.valid_to and policy.valid_to < today or policy.deadline and policy.deadline < today:
        return "已失效"
    if policy.valid_from and policy.valid_from > today:
        return "未生效"
    return "有效"


@bp.get("/policies")
@login_required
def policies_page():
    rows, today = store.all_policies(auth.db()), clock.today()
    query, topic = (request.args.get("q") or "").strip(), request.args.get("topic") or ""
    if query:
        rows = [p for p in rows if query in p.title or query in p.summary or query in p.doc_no]
    if topic:
        rows = [p for p in rows if topic in (p.topics or [])]
    return render_template("admin/policies.html", rows=rows, state=state, today=today, topics=TOPICS,
                           args=request.args)


def _record() -> dict:
    record = {name: (request.form.get(name) or "").strip() for name in TEXT_FIELDS}
    record["topics"] = [t for t in request.form.getlist("topics") if t in TOPICS]
    record["rules"] = {}
    for key in RULE_FIELDS:
        words = (request.form.get(f"rule_{key}") or "").replace("，", ",").replace("、", ",").split(",")
        if any(w.strip() for w in words):
            record["rules"][key] = [w.strip()[:50] for w in words if w.strip()]
    return record


def _form_page(policy, form, status=200):
    return render_template("admin/policy_form.html", p=policy, form=form, topics=TOPICS, levels=LEVELS,
                           payout_modes=PAYOUT_MODES, rule_fields=RULE_FIELDS), status


@bp.route("/policies/new", methods=["GET", "POST"], defaults={"policy_id": None})
@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@login_required
@auth.can_change
@auth.unscoped_only("修改政策库")   # the park's policy base answers every owner
def policy_form(policy_id: int | None):
    session = auth.db()
    policy = (store.get(session, policy_id) or abort(404)) if policy_id else None
    if request.method == "GET":
        return _form_page(policy, {})
    record = _record()
    try:
        saved = policies.save(services(), session, policy, record)
    except policies.PolicyFileError as exc:
        session.rollback()
        flash(str(exc).replace("record 1: ", "").replace("record 1 ", ""), "error")
        return _form_page(policy, record, 400)
    audit("policy.edit" if policy else "policy.create", str(saved.id), saved.title, commit=False)
    session.commit()
    flash("已保存，对话中的政策问答立即使用新内容", "ok")
    return redirect(url_for("admin.policies_page"))


@bp.post("/policies/import")
@login_required
@auth.can_change
@auth.unscoped_only("修改政策库")   # the park's policy base answers every owner
def policies_import():
    """A YAML or CSV file in the import format; all records are checked before any is saved."""
    session = auth.db()
    try:
        name, content = uploaded_text("file")
        counts = policies.import_records(services(), session, policies.parse_text(name, content))
    except (FormError, policies.PolicyFileError) as exc:
        session.rollback()
        flash(f"未导入：{exc}", "error")
        return redirect(url_for("admin.policies_page"))
    audit("policy.import", name, f"{counts['created']} new, {counts['updated']} updated", commit=False)
    session.commit()
    flash(f"已导入：新增 {counts['created']} 条，更新 {counts['updated']} 条", "ok")
    return redirect(url_for("admin.policies_page"))


@bp.post("/policies/<int:policy_id>/expire")
@login_required
@auth.can_change
@auth.unscoped_only("修改政策库")   # the park's policy base answers every owner
def policy_expire(policy_id: int):
    session = auth.db()
    policy = store.get(session, policy_id) or abort(404)
    policies.expire(services(), session, policy)
    audit("policy.expire", str(policy.id), policy.title, commit=False)
    session.commit()
    flash(f"「{policy.title}」已下架，不再出现在回答中", "ok")
    return redirect(url_for("admin.policies_page"))

"""The policy base: import, list, search."""
from __future__ import annotations

import json
from pathlib import Path

from bot import services
from bot.cli.common import audit, emit, fail, progress
from bot.policies import service as policies
from storage import policies as store


def _policy_dict(p) -> dict:
    return {"id": p.id, "title": p.title, "issuer": p.issuer, "level": p.level, "category": p.category,
            "topics": p.topics, "summary": p.summary, "amount": p.amount, "payout_mode": p.payout_mode,
            "deadline": p.deadline.isoformat() if p.deadline else None, "how_to_apply": p.how_to_apply,
            "contact": p.contact, "demo": p.demo}


def cmd_policies_import(args, settings):
    built = services.build(settings)
    try:
        records = policies.read_file(Path(args.file))
        with built.db.session() as session:
            counts = policies.import_records(built, session, records, progress=progress("导入政策"))
            audit(session, "policy.import", Path(args.file).name, f"{counts['created']} new, {counts['updated']} updated")
    except policies.PolicyFileError as exc:
        raise fail(f"未导入：{exc}")
    except UnicodeDecodeError:
        raise fail(f"未导入：{args.file} 不是 UTF-8 编码（在 Excel 中另存为“CSV UTF-8”）")
    print(json.dumps(counts, ensure_ascii=False) if args.json else
          f"政策已导入：新增 {counts['created']} 条，更新 {counts['updated']} 条。")


def cmd_policies_list(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        rows = [_policy_dict(p) for p in store.all_policies(session)]
    emit(args, rows, lambda r: f"{r['id']:>4}  {r['deadline'] or '常年':<10}  {','.join(r['topics']):<8}  {r['title']}",
         empty="政策库是空的（导入：python -m bot policies import FILE）")


def cmd_policies_search(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        rows = [dict(_policy_dict(p), score=score) for p, score in policies.search(built, session, args.text, limit=5)]
    emit(args, rows, lambda r: f"{r['score']:6.2f}  {r['title']}  {r['amount']}", empty=f"没有找到与“{args.text}”相关的有效政策")


def register(sub) -> None:
    pol = sub.add_parser("policies", help="the policy base").add_subparsers(dest="sub", required=True)
    p_imp = pol.add_parser("import", help="import a YAML or CSV file (same title updates)")
    p_imp.add_argument("file")
    p_imp.add_argument("--json", action="store_true")
    p_imp.set_defaults(fn=cmd_policies_import)
    p_list = pol.add_parser("list", help="every policy")
    p_list.add_argument("--json", action="store_true")
    p_list.set_defaults(fn=cmd_policies_list)
    p_search = pol.add_parser("search", help="ranked search, as the chat answers (expired ones excluded)")
    p_search.add_argument("text")
    p_search.add_argument("--json", action="store_true")
    p_search.set_defaults(fn=cmd_policies_search)

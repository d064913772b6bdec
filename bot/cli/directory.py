"""The roster, users and console accounts: enterprises import/list/invite/claims/approve/reject,
users link/unlink (verified membership), staff add."""
from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

from bot import clock, services
from bot.cli.common import audit, cli_actor, emit, fail, progress
from bot.identity import service as membership
from storage import enterprises, identity, staff, users

ROLE_NAMES = {"admin": "管理员", "staff": "工作人员", "viewer": "只读"}
CLAIM_NAMES = {"pending": "待审核", "approved": "已通过", "rejected": "已驳回", "withdrawn": "已撤回"}


def cmd_enterprises_import(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        counts = enterprises.import_csv(session, Path(args.file), progress=progress("导入企业"))
        audit(session, "enterprises.import", Path(args.file).name, str(counts))
    print(json.dumps(counts, ensure_ascii=False) if args.json else
          f"企业名录已导入：新增 {counts['created']} 家，更新 {counts['updated']} 家，跳过 {counts['skipped']} 行"
          f"（没有企业名称的行）。")


def cmd_enterprises_list(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        rows = [{"id": e.id, "name": e.name, "credit_code": e.credit_code, "industry": e.industry,
                 "tags": e.tags} for e in enterprises.all_enterprises(session)]
    emit(args, rows, lambda row: f"{row['id']:>5}  {row['name']}  {row['industry']}  {','.join(row['tags'])}",
         empty="企业名录是空的（导入：python -m bot enterprises import FILE.csv）")


def cmd_users_link(args, settings):
    """Staff link: the user becomes a verified member at once (audited, actor cli:<os user>)."""
    built = services.build(settings)
    with built.db.session() as session:
        enterprise = enterprises.by_name(session, args.enterprise)
        if enterprise is None:
            raise fail(f"企业名录中没有「{args.enterprise}」（见 python -m bot enterprises list）")
        user = users.get_or_create(session, args.channel, args.user)
        identity.staff_link(session, user, enterprise, cli_actor())
        if args.role:
            user.roles = sorted(set(user.roles or []) | {args.role})
            audit(session, "user.role", f"{args.channel}:{args.user}", args.role)
    role = {"staff": "，并给予工作人员角色", "admin": "，并给予管理员角色"}.get(args.role or "", "")
    print(f"已将 {args.channel}:{args.user} 关联到「{args.enterprise}」（已核实）{role}。")


def cmd_users_unlink(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        user = users.find(session, args.channel, args.user)
        if user is None:
            raise fail(f"没有用户 {args.channel}:{args.user}")
        identity.staff_link(session, user, None, cli_actor())
    print(f"已解除 {args.channel}:{args.user} 与企业的关联。")


def cmd_enterprises_invite(args, settings):
    """A new invitation code (printed once, as the last word), or --revoke CODE."""
    built = services.build(settings)
    with built.db.session() as session:
        if args.revoke:
            code = identity.find_code(args.revoke)
            invite = identity.invite_by_code(session, code) if code else None
            if invite is None:
                raise fail("没有这个邀请码")
            if not identity.revoke(session, invite, cli_actor()):
                print(f"邀请码 {identity.mask(code)}（{invite.enterprise.name}）此前已撤销")
                return 0
            print(f"已撤销「{invite.enterprise.name}」的邀请码 {identity.mask(code)}")
            return 0
        if not args.enterprise:
            raise fail("请给出企业全称，或用 --revoke 邀请码 撤销")
        enterprise = enterprises.by_name(session, args.enterprise)
        if enterprise is None:
            raise fail(f"企业名录中没有「{args.enterprise}」（见 python -m bot enterprises list）")
        try:
            invite, code = identity.create_invite(session, enterprise, cli_actor(), args.days, args.uses)
        except identity.IdentityError as exc:
            raise fail(str(exc))
        until = _park_day(invite.expires_at)
    print(f"「{enterprise.name}」的邀请码，有效至 {until}，可用 {args.uses} 次。"
          f"只显示这一次，请私下交给企业负责人，由其私聊发送“绑定企业 邀请码”：")
    print(code)


def _park_day(moment) -> str:
    return clock.to_local(moment).strftime("%Y-%m-%d %H:%M")


def _claim_row(claim) -> dict:
    return {"id": claim.id, "status": claim.status, "enterprise": claim.enterprise.name,
            "user": f"{claim.user.channel}:{claim.user.user_id}", "name": claim.user.display_name,
            "source": claim.source, "ticket": claim.ticket_no, "created_at": claim.created_at.isoformat(),
            "decided_by": claim.decided_by, "reason": claim.reason}


def cmd_enterprises_claims(args, settings):
    """The queue of membership claims (pending by default)."""
    built = services.build(settings)
    with built.db.session() as session:
        rows = [_claim_row(c) for c in identity.claims(session, None if args.all else "pending")]
    emit(args, rows, lambda r: f"{r['id']:>5}  {CLAIM_NAMES.get(r['status'], r['status'])}  {r['enterprise']}  {r['user']}"
                               f"  {r['name']}  {r['source']} {r['ticket']}",
         empty="没有认领申请" if args.all else "没有待审核的认领申请")


def cmd_enterprises_decide(args, settings):
    built = services.build(settings)
    approve = args.sub == "approve"
    with built.db.session() as session:
        claim = identity.get_claim(session, args.id)
        if claim is None:
            raise fail(f"没有编号为 {args.id} 的认领申请")
        try:
            membership.decide_claim(built, session, claim, approve, f"cli:{args.actor}" if args.actor else cli_actor(),
                                    getattr(args, "reason", "") or "")
        except identity.IdentityError as exc:
            raise fail(str(exc))
        name, who = claim.enterprise.name, f"{claim.user.channel}:{claim.user.user_id}"
    print(f"{'已通过' if approve else '已驳回'}：{who} 认领「{name}」，已通知本人")


def cmd_staff_add(args, settings):

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        if not sys.stdin.isatty():     # getpass would fall back to an echoing, warning read of stdin
            raise SystemExit("错误：没有终端可输入密码；请用 --password-stdin 从标准输入传入")
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise fail("两次输入的密码不一致")
    built = services.build(settings)
    try:
        with built.db.session() as session:
            staff.add(session, args.username, password, args.role, args.department or "")
            audit(session, "staff.add", args.username, args.role + (f" {args.department}" if args.department else ""))
    except ValueError as exc:
        reason = "密码至少要 8 个字符" if "8 characters" in str(exc) else str(exc)
        raise fail(f"未保存账号：{reason}")
    scope = f"，只办理{args.department}的工单" if args.department and args.role == "staff" else ""
    print(f"已保存控制台账号 {args.username}（{ROLE_NAMES[args.role]}{scope}）。")


def register(sub) -> None:
    ent = sub.add_parser("enterprises", help="the enterprise roster").add_subparsers(dest="sub", required=True)
    imp = ent.add_parser("import", help="import a roster CSV")
    imp.add_argument("file")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(fn=cmd_enterprises_import)
    lst = ent.add_parser("list", help="list enterprises")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(fn=cmd_enterprises_list)
    inv = ent.add_parser("invite", help="an invitation code: whoever sends it privately becomes a verified member")
    inv.add_argument("enterprise", nargs="?", help="the enterprise's full name")
    inv.add_argument("--days", type=int, default=30, help="valid for this many days (default 30)")
    inv.add_argument("--uses", type=int, default=1, help="how many people may use it (default 1)")
    inv.add_argument("--revoke", metavar="CODE", help="revoke this code instead")
    inv.set_defaults(fn=cmd_enterprises_invite)
    clm = ent.add_parser("claims", help="membership claims waiting for staff (--all: decided ones too)")
    clm.add_argument("--all", action="store_true")
    clm.add_argument("--json", action="store_true")
    clm.set_defaults(fn=cmd_enterprises_claims)
    for name, text in (("approve", "approve a claim: the user becomes a verified member"),
                       ("reject", "reject a claim")):
        decide = ent.add_parser(name, help=text)
        decide.add_argument("id", type=int, help="the claim's number (see: enterprises claims)")
        decide.add_argument("--actor", help="who decided, shown as cli:NAME (default cli:<os user>)")
        if name == "reject":
            decide.add_argument("--reason", default="", help="told to the user")
        decide.set_defaults(fn=cmd_enterprises_decide)
    usr = sub.add_parser("users", help="channel users").add_subparsers(dest="sub", required=True)
    link = usr.add_parser("link", help="link a channel user to an enterprise (verified)")
    link.add_argument("user", help="the channel user id (openid)")
    link.add_argument("enterprise", help="the enterprise's full name")
    link.add_argument("--channel", default="wechat", choices=("wechat", "wecom", "group"))
    link.add_argument("--role", choices=("staff", "admin"), help="also give this role")
    link.set_defaults(fn=cmd_users_link)
    unlink = usr.add_parser("unlink", help="end a user's enterprise membership")
    unlink.add_argument("user", help="the channel user id (openid)")
    unlink.add_argument("--channel", default="wechat", choices=("wechat", "wecom", "group"))
    unlink.set_defaults(fn=cmd_users_unlink)
    stf = sub.add_parser("staff", help="console accounts").add_subparsers(dest="sub", required=True)
    s_add = stf.add_parser("add", help="add an account (or reset its password and role)")
    s_add.add_argument("username")
    s_add.add_argument("--role", required=True, choices=("admin", "staff", "viewer"))
    s_add.add_argument("--department", help="staff only: see and handle this department's tickets only")
    s_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s_add.set_defaults(fn=cmd_staff_add)

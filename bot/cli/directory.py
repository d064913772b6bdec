"""The roster, users and console accounts: enterprises import/list, users link, staff add."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.cli.common import progress


def cmd_enterprises_import(args, settings):
    from bot import services
    from storage import enterprises
    built = services.build(settings)
    with built.db.session() as session:
        counts = enterprises.import_csv(session, Path(args.file), progress=progress("导入企业"))
    print(json.dumps(counts, ensure_ascii=False) if args.json else
          f"created {counts['created']}, updated {counts['updated']}, skipped {counts['skipped']}")


def cmd_enterprises_list(args, settings):
    from bot import services
    from storage import enterprises
    built = services.build(settings)
    with built.db.session() as session:
        rows = [{"id": e.id, "name": e.name, "credit_code": e.credit_code, "industry": e.industry,
                 "tags": e.tags} for e in enterprises.all_enterprises(session)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            print(f"{row['id']:>5}  {row['name']}  {row['industry']}  {','.join(row['tags'])}")


def cmd_users_link(args, settings):
    from bot import services
    from storage import enterprises, users
    built = services.build(settings)
    with built.db.session() as session:
        enterprise = enterprises.by_name(session, args.enterprise)
        if enterprise is None:
            raise SystemExit(f"no enterprise named {args.enterprise!r}")
        user = users.get_or_create(session, args.channel, args.user)
        users.link_enterprise(user, enterprise.id)
        if args.role:
            user.roles = sorted(set(user.roles or []) | {args.role})
    print(f"linked {args.channel}:{args.user} to {args.enterprise}")


def cmd_staff_add(args, settings):
    import getpass

    from bot import services
    from storage import staff
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise SystemExit("the passwords differ")
    built = services.build(settings)
    try:
        with built.db.session() as session:
            staff.add(session, args.username, password, args.role, args.department or "")
            staff.audit(session, "cli", "staff.add", args.username, args.role)
    except ValueError as exc:
        raise SystemExit(f"not added: {exc}")
    print(f"staff account {args.username} ({args.role}) saved")


def register(sub) -> None:
    ent = sub.add_parser("enterprises", help="the enterprise roster").add_subparsers(dest="sub", required=True)
    imp = ent.add_parser("import", help="import a roster CSV")
    imp.add_argument("file")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(fn=cmd_enterprises_import)
    lst = ent.add_parser("list", help="list enterprises")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(fn=cmd_enterprises_list)
    usr = sub.add_parser("users", help="channel users").add_subparsers(dest="sub", required=True)
    link = usr.add_parser("link", help="link a channel user to an enterprise")
    link.add_argument("user", help="the channel user id (openid)")
    link.add_argument("enterprise", help="the enterprise's full name")
    link.add_argument("--channel", default="wechat", choices=("wechat", "wecom", "group"))
    link.add_argument("--role", choices=("staff", "admin"), help="also give this role")
    link.set_defaults(fn=cmd_users_link)
    stf = sub.add_parser("staff", help="console accounts").add_subparsers(dest="sub", required=True)
    s_add = stf.add_parser("add", help="add an account (or reset its password and role)")
    s_add.add_argument("username")
    s_add.add_argument("--role", required=True, choices=("admin", "staff", "viewer"))
    s_add.add_argument("--department", help="staff only: see and handle this department's tickets only")
    s_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s_add.set_defaults(fn=cmd_staff_add)

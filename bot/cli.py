"""`python -m bot …`: the command line of the product (see README "Command line")."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _progress(label: str):
    """A one-line progress bar on stderr (stdout stays clean for --json)."""
    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


def cmd_migrate(args, settings):
    from storage.migrate import upgrade
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    print("database is up to date")


def cmd_serve(args, settings):
    from bot.serve import run
    run(settings, args.host, args.port)


def cmd_worker(args, settings):
    from bot import services, worker
    return worker.run(services.build(settings), burst=args.burst)


def cmd_seed_demo(args, settings):
    from bot import demo, services
    built = services.build(settings)
    with built.db.session() as session:
        result = demo.seed(session, force=args.force)
    print(result)


def cmd_enterprises_import(args, settings):
    from bot import services
    from storage import enterprises
    built = services.build(settings)
    with built.db.session() as session:
        counts = enterprises.import_csv(session, Path(args.file), progress=_progress("导入企业"))
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


def cmd_fake_api(args, settings):
    import time
    from bot import fakeapi
    server, _ = fakeapi.serve(args.host, args.port)
    print(f"fake WeChat/WeCom API on http://{args.host}:{server.server_address[1]}/cgi-bin/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="联企助手 command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(fn=cmd_migrate)
    serve = sub.add_parser("serve", help="serve the webhooks and console (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(fn=cmd_serve)
    worker = sub.add_parser("worker", help="run background jobs and the scheduler")
    worker.add_argument("--burst", action="store_true", help="work through what is queued and due, then exit")
    worker.set_defaults(fn=cmd_worker)
    seed = sub.add_parser("seed-demo", help="load demo enterprises and a staff account (once)")
    seed.add_argument("--force", action="store_true", help="load again even if demo data exists")
    seed.set_defaults(fn=cmd_seed_demo)
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
    fake = sub.add_parser("fake-api", help="run the local fake WeChat/WeCom API (offline demo)")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=8001)
    fake.set_defaults(fn=cmd_fake_api)
    return parser


def main(argv=None) -> int:
    from bot.config import ConfigError, load_settings
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return args.fn(args, settings) or 0

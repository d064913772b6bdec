"""Running the product: migrate, serve, worker, seed-demo, fake-api.
In production (bot/production.py) serve, worker and migrate refuse to start unsafe, and seed-demo refuses."""
from __future__ import annotations

import re
import sys
import time

from bot import demo, production, services, worker
from bot.config import ConfigError
from bot.push import fakeapi
from bot.serve import run
from storage.migrate import upgrade

SEED_REFUSAL = ("seed-demo: 生产环境不能加载演示数据和演示账号 "
                "(refused in production: demo data and the demo login must not exist here)")


def cmd_migrate(args, settings):
    try:
        production.require_safe_settings(settings)
    except ConfigError as exc:
        return production.report(exc)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    print("数据库结构已是最新。")


def cmd_serve(args, settings):
    try:
        production.require_safe_settings(settings)   # create_app checks Redis and the demo account
    except ConfigError as exc:
        return production.report(exc)
    return run(settings, args.host, args.port)


def cmd_worker(args, settings):
    try:
        production.require_safe_settings(settings)   # before connecting to anything
        built = services.build(settings)
        production.prepare(built)
    except ConfigError as exc:
        return production.report(exc)
    return worker.run(built, burst=args.burst)


def cmd_seed_demo(args, settings):
    if settings.production:
        print(SEED_REFUSAL, file=sys.stderr)
        return 2
    built = services.build(settings)
    with built.db.session() as session:
        result = demo.seed(session, force=args.force)
    print(_seed_sentence(result))


def _seed_sentence(result: str) -> str:
    """demo.seed's summary as a Chinese sentence."""
    if "already" in result:
        return "演示数据此前已加载，未重复加载（要重新加载：python -m bot seed-demo --force）。"
    numbers = re.findall(r"\d+", result)
    if len(numbers) != 4:
        return result
    firms, policies, meetings, staff = numbers
    return (f"演示数据已加载：企业 {firms} 家、政策 {policies} 条、早茶会 {meetings} 场、演示工作人员 {staff} 位；"
            f"控制台演示账号 {demo.DEMO_CONSOLE[0]} / {demo.DEMO_CONSOLE[1]}（仅限离线演示）。")


def cmd_fake_api(args, settings):
    server, _ = fakeapi.serve(args.host, args.port)
    print(f"fake WeChat/WeCom API on http://{args.host}:{server.server_address[1]}/cgi-bin/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def register(sub) -> None:
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
    fake = sub.add_parser("fake-api", help="run the local fake WeChat/WeCom API (offline demo)")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=8001)
    fake.set_defaults(fn=cmd_fake_api)

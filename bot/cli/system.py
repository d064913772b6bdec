"""Running the product: migrate, serve, worker, seed-demo, fake-api."""
from __future__ import annotations

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

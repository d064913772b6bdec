"""Fixtures: a real database and a real Redis (embedded or from DATABASE_URL / REDIS_URL),
a fresh app per test, and the fake WeChat/WeCom API at the edge."""
from __future__ import annotations

import inspect
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.browsers import launched_browser
from tests.configs import write_config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


# Tests that start real processes (gunicorn, workers, the CLI) or a browser are end-to-end: marked `e2e`
# by the fixtures they use, so `make test-fast` can leave them out.
E2E_FIXTURES = {"running_server", "running_server_factory", "cli_env", "run_cli", "browser", "page"}


def _starts_processes(item) -> bool:
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        return False
    return "subprocess." in source or "Popen(" in source


def pytest_collection_modifyitems(items):
    for item in items:
        if (E2E_FIXTURES & set(getattr(item, "fixturenames", ())) or item.module.__name__.endswith("test_browser")
                or _starts_processes(item)):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("var")
    os.environ["BOT_VAR_DIR"] = str(path)
    yield path
    from storage.redis import stop_embedded
    stop_embedded(path)


@pytest.fixture(scope="session")
def database_url(var_dir) -> str:
    """Migrated once per run; on PostgreSQL the schema is dropped first so runs start clean."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'test.db'}"
    if not url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    from storage.migrate import upgrade
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def fake_api():
    from bot.push import fakeapi
    server, state = fakeapi.serve()
    state.base = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/"
    yield state
    server.shutdown()


@pytest.fixture
def settings(var_dir, database_url, fake_api):
    from dataclasses import replace

    from bot.config import load_settings
    # BOT_ENV=test: the suite is never production (a PostgreSQL DATABASE_URL would make it so).
    base = load_settings(environ={**{k: v for k, v in os.environ.items() if k in ("REDIS_URL",)}, "BOT_ENV": "test"},
                         var_dir=var_dir, database_url=database_url, jobs_inline=True)
    return replace(base, wechat=replace(base.wechat, api_base=fake_api.base),
                   wecom=replace(base.wecom, api_base=fake_api.base))


@pytest.fixture
def make_app(settings, fake_api):
    """Build an app with changed settings: make_app(timestamp_window_s=0)."""
    from bot import create_app
    from storage.models import Base

    def build(**changes):
        app = create_app(settings=settings.with_overrides(**changes) if changes else settings)
        services = app.extensions["bot"]
        services.redis.flushdb()
        with services.db.session() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
        fake_api.calls.clear()
        fake_api.failures.clear()
        fake_api.latency_s = 0.0
        return app
    return build


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def services(app):
    return app.extensions["bot"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running_server_factory(app, settings, tmp_path):
    """Start the real `python -m bot serve` (gunicorn, 2 workers) on the test database and Redis;
    `extra_env` adds variables (the fake API's address, say). Stopped at the end of the test."""
    started = []

    def start(extra_env: dict | None = None) -> str:
        port = _free_port()
        config_path = write_config(tmp_path / "serve-config.yaml", {"var_dir": str(settings.var_dir)})
        env = dict(os.environ, DATABASE_URL=settings.database_url, BOT_VAR_DIR=str(settings.var_dir),
                   BOT_CONFIG=str(config_path), BOT_ENV="test")
        if settings.redis_url:
            env["REDIS_URL"] = settings.redis_url
        env.update(extra_env or {})
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        started.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return base
            except requests.RequestException:
                time.sleep(0.2)
        pytest.fail("server did not start")

    yield start
    for proc in started:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def running_server(running_server_factory):
    """The real `python -m bot serve` (gunicorn, 2 workers) on the test database and Redis."""
    return running_server_factory()


@pytest.fixture
def cli_env(app, settings, tmp_path):
    """Environment for `python -m bot …` subprocesses on the test database and Redis."""
    write_config(tmp_path / "config.yaml", {"var_dir": str(settings.var_dir)})
    env = dict(os.environ, DATABASE_URL=settings.database_url, BOT_VAR_DIR=str(settings.var_dir),
               BOT_CONFIG=str(tmp_path / "config.yaml"), BOT_ENV="test")   # production tests set their own
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


@pytest.fixture
def accounts(services):
    """Console accounts: an admin, a staff member scoped to 经发局, and a read-only viewer."""
    from storage import staff
    with services.db.session() as session:
        staff.add(session, "admin1", "admin-pass-1", "admin")
        staff.add(session, "power", "power-pass-1", "staff", department="经发局")
        staff.add(session, "reader", "reader-pass-1", "viewer")
    return services


@pytest.fixture
def browser():
    """Chromium for the console's browser tests (tests/browsers.py: skipped without it, outside CI)."""
    with launched_browser() as launched:
        yield launched

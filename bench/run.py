"""`make bench`: speed of nlp, the webhook and broadcasts, each beside a baseline measured in the same run;
the console and the reports at 500 and at 50,000 tickets (scale)."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable

# After the path is set (`python bench/run.py`):
from bench.webhook import bench_webhook  # noqa: E402
from bot import create_app  # noqa: E402
from bot.cli import main as cli_main  # noqa: E402
from bot.complaints.rules import CATEGORIES  # noqa: E402
from bot.complaints.service import SOURCES  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.push import fakeapi  # noqa: E402
from nlp import classify, corpus, engine  # noqa: E402
from nlp.normalize import _converter  # noqa: E402
from storage import staff  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Complaint, ComplaintEvent, Enterprise, utcnow  # noqa: E402
from storage.redis import stop_embedded  # noqa: E402

# `python -m nlp TEXT`, reporting its peak resident memory on the way out.
COLD_NLP = """
import atexit, runpy, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("PEAK_KB " + line.split()[1] + "\\n")
atexit.register(peak)
sys.argv = ["nlp", *sys.argv[1:]]
runpy.run_module("nlp", run_name="__main__", alter_sys=True)
"""


def messages(names=("own.jsonl", "dev.jsonl")) -> list[str]:
    """Texts of corpus files (nlp/data/corpus/): by default the team's own and the dev set, the
    short and medium messages the earlier figures were measured on."""
    paths = [ROOT / "nlp/data/corpus" / name for name in names]
    return [json.loads(line)["text"] for path in paths if path.exists()
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def validation_messages() -> list[str]:
    """Every validation message of the corpus: also long narratives, as real traffic has them."""
    return [row.text for row in corpus.split(corpus.load(), "validation")]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _throughput(classify, texts: list[str], rounds: int = 5) -> tuple[list[float], list[float]]:
    runs, latencies = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            t = time.perf_counter()
            classify(text)
            latencies.append(time.perf_counter() - t)
        runs.append(len(texts) / (time.perf_counter() - start))
    return runs, latencies


def bench_nlp() -> None:
    texts = messages()
    classify("预热")
    runs, latencies = _throughput(classify, texts)
    long_runs, long_latencies = _throughput(classify, validation_messages(), rounds=3)
    # Baseline in the same run: the unavoidable part, OpenCC's conversion of the same texts.
    convert = _converter("t2s.json").convert
    start = time.perf_counter()
    for _ in range(5):
        for text in texts:
            convert(text)
    baseline = 5 * len(texts) / (time.perf_counter() - start)
    # A cold `python -m nlp TEXT`, as a shell user runs it: wall time and the child's own peak RSS (VmHWM of
    # its address space; getrusage's children figure would count this big parent, which the child was
    # forked from before it ran python).
    wall = time.perf_counter()
    child = subprocess.run([PY, "-c", COLD_NLP, "早茶会算我一个，带两个同事"], cwd=ROOT, capture_output=True,
                           text=True, check=True)
    cold = time.perf_counter() - wall
    cold_rss = int(re.search(r"^PEAK_KB (\d+)$", child.stderr, re.M).group(1)) / 1024
    print(f"== nlp (single process, engine: {engine.current()})")
    print(f"  messages/second  median {statistics.median(runs):8.0f}   (runs: {', '.join(f'{r:.0f}' for r in runs)})"
          f"   [{len(texts)} own+dev messages]")
    p50, p99 = percentile(latencies, .5) * 1000, percentile(latencies, .99) * 1000
    print(f"  latency per message  p50 {p50:.3f} ms   p99 {p99:.3f} ms")
    print(f"  all validation messages (long ones too): median {statistics.median(long_runs):.0f}/s, "
          f"p99 {percentile(long_latencies, .99) * 1000:.3f} ms")
    print(f"  cold `python -m nlp TEXT`: {cold:.2f} s, peak {cold_rss:.0f} MB RSS")
    print(f"  ratio to baseline (OpenCC t2s alone, {baseline:.0f}/s): {statistics.median(runs) / baseline:.2f}")


def _bench_config(tmp: Path, api_base: str) -> dict:
    var = tmp / "var"
    config = (ROOT / "config.yaml").read_text().replace("var_dir: var", f"var_dir: {var}")
    for key in ("wechat_per_second", "wecom_per_second", "wecom_member_per_minute", "wecom_member_per_hour"):
        config = config.replace(f"    {key}: ", f"    {key}: 0  # lifted for the benchmark; was ")
    (tmp / "config.yaml").write_text(config)
    env = dict(os.environ, BOT_CONFIG=str(tmp / "config.yaml"), BOT_VAR_DIR=str(var), PYTHONPATH=str(ROOT),
               WECHAT_API_BASE=api_base, WECOM_API_BASE=api_base, BOT_ENV="test")   # demo secrets on purpose
    if "BENCH_KEEP_DB" not in env:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
    return env


def _raw_baseline(api_base: str, n: int, threads: int) -> float:
    """What {threads} threads sending straight to the fake API manage: the ceiling at this latency."""

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=threads)
    session.mount("http://", adapter)
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: session.post(f"{api_base}message/custom/send?access_token=x",
                                             json={"touser": f"u{i}", "msgtype": "text", "text": {"content": "x"}}),
                      range(n)))
    return n / (time.perf_counter() - start)


def bench_broadcast(recipients: int = 10_000, latency_ms: int = 20) -> None:
    server, state = fakeapi.serve()
    api_base = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/"
    state.latency_s = latency_ms / 1000
    print(f"== broadcast to {recipients} recipients (fake API {latency_ms} ms per call, rate limits lifted)")
    results = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            env = _bench_config(Path(tmp), api_base)
            subprocess.run([PY, "-m", "bot", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
            code = ("import sys; from bot.config import load_settings; from bot import services;"
                    "from bot.broadcasts import service as broadcasts;"
                    "from storage.models import ChannelUser; from sqlalchemy import insert;"
                    "from storage.models import utcnow; s=services.build(load_settings());"
                    f"rows=[dict(channel='wechat', user_id=f'bench-{{i}}', display_name='', phone='', roles=[],"
                    f" followed=True, last_inbound_at=utcnow(), created_at=utcnow()) for i in range({recipients})];\n"
                    "with s.db.session() as db:\n db.execute(insert(ChannelUser), rows)\n"
                    "with s.db.session() as db:\n print(broadcasts.create(s, db, 'bench', 'body', 'all').id)")
            broadcast_id = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True,
                                          text=True).stdout.strip()
            calls_before = len(state.calls)
            start = time.perf_counter()
            procs = [subprocess.Popen([PY, "-m", "bot", "worker", "--burst"], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
            for proc in procs:
                proc.wait()
            elapsed = time.perf_counter() - start
            status = subprocess.run([PY, "-m", "bot", "broadcast", "status", broadcast_id, "--json"], cwd=ROOT,
                                    env=env, check=True, capture_output=True, text=True).stdout
            figures = json.loads(status)
            sent_calls = len(state.calls) - calls_before
            results[workers] = figures["sent"] / elapsed
            print(f"  {workers} worker{'s' if workers > 1 else ' '}: {results[workers]:6.0f} sends/s "
                  f"({figures['sent']}/{figures['total']} sent, {figures['failed']} failed, {elapsed:.1f} s incl. start-up,"
                  f" API calls {sent_calls - 1})")
            stop_embedded(Path(tmp) / "var")
    baseline = _raw_baseline(api_base, 2000, 32)
    print(f"  baseline: 32 bare client threads, no database: {baseline:6.0f} sends/s")
    print(f"  ratio to baseline: 1 worker {results[1] / baseline:.2f}, 2 workers {results[2] / baseline:.2f}")
    server.shutdown()


# ---- scale: the console and the reports at 500 and at 50,000 tickets -------------------------------------------

SCALE_TEXTS = ("西区又停电了，生产线全停", "园区道路施工围挡一个多月，大货车进不来", "厂房漏雨，设备受潮",
               "办理环评审批太慢，跑了三趟", "增值税留抵退税还没到账", "想申请贷款贴息，不知道找谁",
               "招工难，希望园区组织招聘会", "食堂饭菜里有虫子", "=HYPERLINK(\"http://x\")", "燃气管道有异味",
               "自来水水压不够，三楼没水", "消防通道被占用")


def scale_tickets(first: int, count: int, now, rng, enterprises: int) -> tuple[list[dict], list[dict]]:
    """`count` varied tickets (ids from `first`), filed over the year before `now`, and their events:
    every status, source and category, ratings, reopenings, repeats, merges, overdue and on-time closings."""

    # As config.yaml routes them; one ticket in ten handed to another department.
    routed = dict(zip(CATEGORIES, ("经发局", "城建局", "城建局", "城建局", "生态环境分局", "政务服务中心", "税务分局", "金融办",
                                   "人社局", "应急管理局", "企业服务中心", "优化办"), strict=True))
    departments = sorted(set(routed.values()))
    statuses = ("closed",) * 14 + ("resolved",) * 2 + ("in_progress", "assigned", "received")
    tickets, events = [], []
    for cid in range(first, first + count):
        created = now - timedelta(seconds=rng.randrange(365 * 86400))
        status = rng.choice(statuses)
        category = rng.choice(CATEGORIES)
        due = (created + timedelta(days=rng.randrange(5, 25))).date()
        closed = resolved = None
        if status in ("resolved", "closed"):
            resolved = min(created + timedelta(hours=rng.randrange(2, 40 * 24)), now)
            closed = resolved + timedelta(hours=rng.randrange(0, 72)) if status == "closed" else None
            if closed is not None and closed > now:
                closed = now
        rating = rng.choice((None, 5, 5, 5, 4, 4, 3, 2, 1)) if status == "closed" else None
        merged = f"TS20990101{cid % 99999:05d}" if status == "closed" and rng.random() < 0.02 else None
        tickets.append(dict(
            id=cid, ticket_no=f"TS{created:%Y%m%d}{cid:07d}", kind=rng.choice(("诉求", "投诉", "咨询")),
            category=category, department=routed[category] if rng.random() < 0.9 else rng.choice(departments),
            description=f"{rng.choice(SCALE_TEXTS)}（{cid}）",
            location="", contact_phone=f"138{cid:08d}", source=rng.choice(SOURCES), status=status, tier="simple",
            enterprise_id=rng.randrange(1, enterprises + 1) if rng.random() < 0.8 else None, user_ref=None,
            assignee="", accept_due=(created + timedelta(days=1)).date(), due=due, extended=rng.random() < 0.05,
            repeat_count=rng.choice((0, 0, 0, 0, 1, 2)), reopen_count=rng.choice((0,) * 9 + (1,)),
            rating=rating, rating_comment="办得快" if rating else "", rating_reminded=False, warned=False,
            escalated=False, meeting_id=None, created_at=created, resolved_at=resolved, closed_at=closed,
            closed_on_time=(closed.date() <= due) if closed else None, merged_into=merged,
            claimed_enterprise=None if rng.random() < 0.9 else f"待核实企业{cid % 50}"))
        events.append(dict(complaint_id=cid, at=created, actor="user", kind="filed", public=True,
                           text=tickets[-1]["description"], data={"source": tickets[-1]["source"]}))
        if resolved is not None:
            events.append(dict(complaint_id=cid, at=resolved, actor="staff", kind="status", public=True,
                               text="已处理", data={"status": "resolved"}))
    return tickets, events


class ScaleSite:
    """One throw-away installation (its own var/: SQLite, embedded Redis, config) with `count` tickets, a console
    client logged in, and the CLI pointed at it."""

    def __init__(self, tmp: Path, count: int, now):

        self.var = tmp / "var"
        config = tmp / "config.yaml"
        config.write_text((ROOT / "config.yaml").read_text().replace("var_dir: var", f"var_dir: {self.var}"))
        self.env = dict(os.environ, BOT_CONFIG=str(config), BOT_VAR_DIR=str(self.var), BOT_ENV="test")
        self.env.pop("DATABASE_URL", None)
        self.env.pop("REDIS_URL", None)
        with self.environment():
            settings = load_settings()
        logging.getLogger("alembic").setLevel(logging.WARNING)     # the second site's app has set up logging
        upgrade(settings.database_url)
        self.app = create_app(settings=settings)
        self.built = self.app.extensions["bot"]

        with self.built.db.session() as session:
            session.execute(insert(Enterprise.__table__), [
                dict(name=f"规模测试企业{i}有限公司", credit_code=f"91BENCH{i:011d}", industry="制造", tags=[], contacts=[],
                     profile={}, created_at=utcnow()) for i in range(1, 201)])
            staff.add(session, "bench", "bench-pass-1", "admin")
        rng, start = random.Random(16), time.perf_counter()     # the same tickets in the same order at every size
        for first in range(1, count + 1, 10_000):
            tickets, events = scale_tickets(first, min(10_000, count + 1 - first), now, rng, 200)
            with self.built.db.session() as session:
                session.execute(insert(Complaint.__table__), tickets)      # Core: no ORM bookkeeping
                session.execute(insert(ComplaintEvent.__table__), events)
        self.load_rate = count / (time.perf_counter() - start)
        self.client = self.app.test_client()
        page = self.client.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.client.post("/admin/login", data={"username": "bench", "password": "bench-pass-1", "csrf_token": token})
        self.out = tmp / "export"

    @contextlib.contextmanager
    def environment(self):
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def get(self, path: str) -> int:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(response.get_data())

    def cli(self, *args: str) -> None:
        with (self.environment(), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink),
              contextlib.redirect_stderr(sink)):
            assert cli_main(list(args)) == 0, args

    def dashboard_cold(self) -> None:
        """The figures computed: the cached copy dropped first."""
        for key in self.built.redis.scan_iter("report:*"):
            self.built.redis.delete(key)
        self.get("/admin/")

    def operations(self) -> dict:
        """name: (action, is an export)"""
        return {
            "dashboard": (self.dashboard_cold, False),
            "dashboard (cached)": (lambda: self.get("/admin/"), False),
            "stats": (lambda: self.cli("stats"), False),
            "queue search": (lambda: self.get("/admin/complaints?q=%E5%81%9C%E7%94%B5"), False),
            "list (CLI)": (lambda: self.cli("complaints", "list"), False),
            "xlsx (console)": (lambda: self.get("/admin/complaints/export?format=xlsx"), True),
            "csv (console)": (lambda: self.get("/admin/complaints/export?format=csv"), True),
            "xlsx (CLI)": (lambda: self.cli("complaints", "export", "--format", "xlsx", "--out",
                                            str(self.out.with_suffix(".xlsx"))), True),
            "csv (CLI)": (lambda: self.cli("complaints", "export", "--format", "csv", "--out",
                                           str(self.out.with_suffix(".csv"))), True),
        }

    def close(self) -> None:
        self.built.redis.connection_pool.disconnect()
        stop_embedded(self.var)


def bench_scale(small: int = 500, large: int = 50_000, only: tuple[str, ...] = (), rounds: int = 5,
                export_rounds: int = 3) -> None:
    """Times the console's dashboard (its figures computed, then cached), `stats`, the queue search, `complaints
    list`, the xlsx and csv exports (console download and CLI) on two installations, `small` and `large` tickets,
    in interleaved rounds (each operation at one size, then at the other), so that a busy minute weighs on both
    alike; prints the medians and their ratio. `only` keeps the operations whose name contains one of its words
    (BENCH_SCALE_ONLY=dashboard,csv)."""
    print(f"== scale: the console and the reports at {small:,} and at {large:,} tickets (SQLite + embedded Redis,"
          f" in process; medians of {rounds} interleaved rounds, exports {export_rounds})")
    now = datetime.utcnow().replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        sites = {}
        try:
            for n in (small, large):
                (Path(tmp) / str(n)).mkdir()
                sites[n] = ScaleSite(Path(tmp) / str(n), n, now)
                print(f"  {n:,} tickets bulk-loaded at {sites[n].load_rate:,.0f}/s")
            chosen = {name: export for name, (_action, export) in sites[small].operations().items()
                      if not only or any(word in name for word in only)}
            for site in sites.values():
                site.get("/admin/")          # warm-up: templates, first queries
            times = {n: {name: [] for name in chosen} for n in sites}
            for round_ in range(rounds):
                for name, export in chosen.items():
                    if export and round_ >= export_rounds:
                        continue
                    for n, site in sites.items():
                        action = site.operations()[name][0]
                        start = time.perf_counter()
                        action()
                        times[n][name].append(time.perf_counter() - start)
            print(f"  {'':20} {small:>10,} {large:>10,}   ratio   rows/s at {large:,}")
            for name, export in chosen.items():
                a, b = (statistics.median(times[n][name]) for n in (small, large))
                rate = f"{large / b:10,.0f}" if export else ""
                print(f"  {name:20} {a * 1000:8.0f} ms {b * 1000:8.0f} ms {b / a:6.1f}×  {rate}")
        finally:
            for site in sites.values():
                site.close()

if __name__ == "__main__":
    parts = sys.argv[1:] or ["nlp", "webhook", "broadcast", "scale"]
    if "nlp" in parts:
        bench_nlp()
    if "webhook" in parts:
        bench_webhook()    # bench/webhook.py: ours beside the bare echo, embedded and (given) PostgreSQL + Redis
    if "broadcast" in parts:
        bench_broadcast()
    if "scale" in parts:
        sizes = [int(n) for n in os.environ.get("BENCH_SCALE_SIZES", "500,50000").split(",")]
        bench_scale(*sizes, only=tuple(filter(None, os.environ.get("BENCH_SCALE_ONLY", "").split(","))))

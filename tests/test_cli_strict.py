"""Issue 15, the command line as an operator meets it: statuses in Chinese or English, a sentence for an
empty listing, park time, strict options naming the allowed values, "not found" and bad input as one Chinese
line with a non-zero exit (never a traceback), a schema not yet migrated, complete sentences on success that
still end with the new id, and every change in the audit log as cli:<os user>."""
from __future__ import annotations

import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from bot import clock
from bot.complaints import service as tickets
from bot.meetings import service as meetings
from storage import complaints as store
from storage import enterprises, staff, users
from storage import meetings as meeting_store

ROOT = Path(__file__).resolve().parent.parent
MIGRATE_FIRST = "错误：数据库尚未初始化，请先运行 python -m bot migrate"


def _run(env, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, input=stdin)


@pytest.fixture
def cli(cli_env):
    def run(*args, ok=True):
        done = _run(cli_env, *args)
        if ok:
            assert done.returncode == 0, done.stderr
            assert done.stderr == "" or "Traceback" not in done.stderr
        return done
    return run


def _refused(done, *words, code=1) -> str:
    """One Chinese line on stderr, nothing on stdout, the exit status asked."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误："), done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _many(cli_env, commands):
    """Independent read-only commands at once (each is a fresh process)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda args: _run(cli_env, *args), commands))


@pytest.fixture
def ticket(services):
    with services.db.session() as session:
        firm, _ = enterprises.upsert(session, "湘西龙腾酒业有限公司")
        complaint, _ = tickets.file(services, session, description="园区道路施工围挡一个多月，大货车进不来",
                                    category="道路交通", source="wechat", enterprise_id=firm.id)
        return complaint.ticket_no


def test_every_command_before_migrate_says_to_migrate(cli_env, tmp_path):
    env = dict(cli_env, DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}")
    for done in _many(env, [("seed-demo",), ("complaints", "list"), ("meetings", "list", "--json")]):
        assert _refused(done) == MIGRATE_FIRST


def test_statuses_in_chinese_or_english_and_a_sentence_for_none(cli, cli_env, ticket):
    cli("complaints", "update", ticket, "--assign", "城建局")
    chinese, english, none, wrong = _many(cli_env, [
        ("complaints", "list", "--status", "已交办"), ("complaints", "list", "--status", "assigned", "--json"),
        ("complaints", "list", "--status", "办理中"), ("complaints", "list", "--status", "办结")])
    assert ticket in chinese.stdout and "已交办" in chinese.stdout and "assigned" not in chinese.stdout
    [row] = json.loads(english.stdout)
    assert row["status"] == "assigned" and row["source"] == "wechat"              # --json keeps the codes
    assert none.returncode == 0 and none.stdout.splitlines()[0] == "没有符合条件的工单"
    _refused(wrong, "没有“办结”这个状态", "已受理（received）", "办理中（in_progress）", code=2)


def test_update_is_strict_and_names_the_allowed_values(cli, cli_env, services, ticket):
    nothing, department, lone_category, category = _many(cli_env, [
        ("complaints", "update", ticket), ("complaints", "update", ticket, "--assign", "规划局"),
        ("complaints", "update", ticket, "--category", "园区服务"),
        ("complaints", "update", ticket, "--assign", "城建局", "--category", "路灯")])
    _refused(nothing, "没有要修改的内容", "--status", "--assign")
    _refused(department, "没有“规划局”这个承办部门", "城建局", "经发局")
    _refused(lone_category, "--category 要和 --assign 一起用")
    _refused(category, "没有“路灯”这个类别", "园区服务")
    with services.db.session() as session:
        complaint = store.by_ticket(session, ticket)
        assert complaint.department == "城建局" and complaint.status == "received" and len(complaint.events) == 1
    done = cli("complaints", "update", ticket, "--assign", "企业服务中心", "--category", "园区服务")
    assert done.stdout.strip() == (f"工单 {ticket} 已更新：交由企业服务中心办理，类别 道路交通 → 园区服务。"
                                   "当前状态：已交办。")
    with services.db.session() as session:
        complaint = store.by_ticket(session, ticket)
        [change] = [e for e in complaint.events if e.kind == "category"]
        assert change.data == {"from": "道路交通", "to": "园区服务"}
        entry = next(e for e in staff.audit_log(session) if e.action == "complaint.assign")
        assert entry.actor == f"cli:{getpass.getuser()}" and entry.target == ticket and "道路交通 → 园区服务" in entry.detail


def test_show_prints_park_time_and_words(cli, services, ticket):
    cli("complaints", "update", ticket, "--assign", "城建局", "--actor", "王科长")
    cli("complaints", "update", ticket, "--status", "办理中", "--public", "已联系施工方")
    with services.db.session() as session:
        complaint = store.by_ticket(session, ticket)
        filed = clock.to_local(complaint.created_at).strftime("%Y-%m-%d %H:%M")
    shown = cli("complaints", "show", ticket).stdout
    assert f"登记时间：{filed}" in shown and "来源：公众号" in shown and "状态：办理中" in shown
    assert "王科长  交办  城建局（已受理 → 已交办）" in shown
    assert "状态变更  已交办 → 办理中  公开  已联系施工方" in shown
    data = json.loads(cli("complaints", "show", ticket, "--json").stdout)
    assert data["status"] == "in_progress" and data["source"] == "wechat"


def test_not_found_and_bad_input_are_one_chinese_line(cli_env, tmp_path):
    outcomes = _many(cli_env, [
        ("broadcast", "status", "99"), ("broadcast", "failures", "99"), ("meetings", "show", "99"),
        ("meetings", "edit", "99", "--title", "x"), ("meetings", "attendees", "99"),
        ("enterprises", "import", "/missing.csv"), ("complaints", "show", "TS2099010100001"),
        ("complaints", "file", "--enterprise", "不存在的公司", "--text", "路灯坏了"),
        ("broadcast", "send", "--title", "通知", "--body", "内容", "--to", "topic:环保"),
        ("broadcast", "send", "--title", "通知", "--body", "内容", "--to", "科技"),
        ("users", "unlink", "nobody"), ("groups", "remove", "没有的群"),
    ])
    said = [_refused(done) for done in outcomes]
    assert said[0] == "错误：没有编号为 99 的广播"
    assert "没有编号为 99 的早茶会" in said[2] and "没有编号为 99 的早茶会" in said[3]
    assert said[5] == "错误：找不到文件 /missing.csv"
    assert "没有找到工单 TS2099010100001" in said[6] and "企业名录中没有「不存在的公司」" in said[7]
    assert "没有“环保”这个政策主题，可选：科技" in said[8] and "发送对象应为 all" in said[9]
    usage = _run(cli_env, "meetings", "create", "--title", "x")
    _refused(usage, "缺少必填参数：--starts-at、--venue、--capacity", code=2)


def test_meetings_speak_in_sentences_refuse_the_past_and_explain_capacity(cli, cli_env, services):
    created = cli("meetings", "create", "--title", "电子信息专场早茶会", "--starts-at", "2030-03-15T07:30",
                  "--venue", "管委会三楼", "--capacity", "5").stdout.strip()
    meeting_id = created.split()[-1]
    assert created.startswith("已创建早茶会「电子信息专场早茶会」：2030年03月15日") and meeting_id.isdigit()
    past = (clock.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    _refused(_run(cli_env, "meetings", "create", "--title", "昨天的会", "--starts-at", past, "--venue", "三楼",
                  "--capacity", "5"), "已经过去")
    with services.db.session() as session:
        meeting = meeting_store.get(session, int(meeting_id))
        for n in range(3):
            meetings.signup(services, session, meeting, users.get_or_create(session, "wechat", f"m-{n}"))
    said = _refused(_run(cli_env, "meetings", "edit", meeting_id, "--capacity", "1"))
    assert said == "错误：座位数不能改为 1：已有 3 个座位确认报名，座位数至少要 3"
    edited = cli("meetings", "edit", meeting_id, "--capacity", "6", "--status", "报名截止").stdout
    assert edited.startswith(f"早茶会 {meeting_id}「电子信息专场早茶会」已修改") and "座位 3/6，报名截止" in edited
    listed = cli("meetings", "list").stdout
    assert "报名截止" in listed and "closed" not in listed
    with services.db.session() as session:
        assert {e.action for e in staff.audit_log(session) if e.actor.startswith("cli:")} >= {"meeting.create", "meeting.edit"}


def test_a_broadcast_ends_with_its_id_and_is_audited(cli, cli_env, services):
    with services.db.session() as session:
        users.get_or_create(session, "wechat", "sub-0")
    sent = cli("broadcast", "send", "--title", "通知", "--body", "内容", "--to", "all").stdout.strip()
    broadcast_id = sent.split()[-1]
    assert sent.startswith("已登记广播「通知」，发往全部关注用户，共 1 位接收人") and broadcast_id.isdigit()
    status = cli("broadcast", "status", broadcast_id).stdout
    assert status.startswith(f"广播 {broadcast_id}「通知」：共 1 位接收人")
    with services.db.session() as session:
        [entry] = [e for e in staff.audit_log(session) if e.action == "broadcast.send"]
        assert entry.actor == f"cli:{getpass.getuser()}" and entry.target == broadcast_id


def test_stats_name_sources_and_statuses_in_words(cli, ticket):
    shown = cli("stats").stdout
    assert "公众号 1" in shown and "已受理 1" in shown and "wechat" not in shown and "received" not in shown


def test_empty_listings_say_so(cli_env):
    meetings_list, policies_list, groups_list, claims = _many(cli_env, [
        ("meetings", "list"), ("policies", "list"), ("groups", "list"), ("enterprises", "claims")])
    assert meetings_list.stdout.startswith("还没有早茶会")
    assert policies_list.stdout.startswith("政策库是空的")
    assert groups_list.stdout.startswith("还没有登记企业微信群")
    assert claims.stdout.strip() == "没有待审核的认领申请"
    assert json.loads(_run(cli_env, "meetings", "list", "--json").stdout) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = check()
            if found:
                return found
        except requests.RequestException:
            pass
        time.sleep(0.3)
    pytest.fail(f"{what}: not within {seconds} s")


def test_make_demo_runs_server_worker_and_fake_api_under_honcho(cli_env, services):
    """What `make demo` starts (Procfile.demo under honcho, with the Makefile's variables): the server answers,
    and a reply staff give on the CLI is pushed by the worker through the fake API."""
    honcho = Path(sys.executable).parent / "honcho"
    assert honcho.exists(), "honcho is pinned in requirements.txt"
    port, fake = _free_port(), _free_port()
    api = f"http://127.0.0.1:{fake}/cgi-bin/"
    env = dict(cli_env, BOT_HOST="127.0.0.1", BOT_PORT=str(port), FAKE_API_PORT=str(fake), SIMULATOR="1",
               WECHAT_API_BASE=api, WECOM_API_BASE=api, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    with services.db.session() as session:
        owner = users.get_or_create(session, "wechat", "sim-demo-owner", "赵总")
        ticket = tickets.file(services, session, description="园区西门道路塌陷", category="道路交通", source="wechat",
                              user_ref=owner.id)[0].ticket_no
    demo = subprocess.Popen([str(honcho), "start", "-f", "Procfile.demo"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()["status"] == "ok", "server")
        _wait_for(lambda: requests.get(f"http://127.0.0.1:{fake}/_calls", timeout=2).ok, "fake API")
        assert _run(env, "complaints", "update", ticket, "--reply", "已派人到现场查看").returncode == 0

        def pushed():
            calls = requests.get(f"http://127.0.0.1:{fake}/_calls", timeout=2).json()["calls"]
            return [c for c in calls if "已派人到现场查看" in json.dumps(c, ensure_ascii=False)]
        [call] = _wait_for(pushed, "the worker's push through the fake API")
        assert call["body"]["touser"] == "sim-demo-owner"
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        assert demo.wait(timeout=30) is not None           # one signal stops the three

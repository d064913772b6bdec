"""`python -m bot …` as an operator runs it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from storage import users

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run_cli(cli_env):
    env = cli_env

    def run(*args, stdin=None, check=True):
        done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)
        if not check:
            return done
        assert done.returncode == 0, done.stderr
        return done.stdout
    return run


def test_migrate_is_idempotent(run_cli):
    assert "数据库结构已是最新" in run_cli("migrate")
    assert "数据库结构已是最新" in run_cli("migrate")


def test_seed_demo_loads_once(run_cli):
    assert "演示数据已加载：企业 5 家、政策 17 条、早茶会 1 场" in run_cli("seed-demo")
    assert "此前已加载" in run_cli("seed-demo")
    names = [e["name"] for e in json.loads(run_cli("enterprises", "list", "--json"))]
    assert "武陵云科技有限公司" in names


def test_roster_import_creates_then_updates(run_cli, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeffname,credit_code,industry,tags,contact_name,contact_phone\n"
                      "湘西测试食品有限公司,91433100TEST00001X,食品加工,\"重点企业,规上企业\",李明,13800000000\n"
                      ",,,,,\n", encoding="utf-8")
    assert json.loads(run_cli("enterprises", "import", str(roster), "--json")) == \
        {"created": 1, "updated": 0, "skipped": 1}
    assert json.loads(run_cli("enterprises", "import", str(roster), "--json"))["updated"] == 1
    listed = json.loads(run_cli("enterprises", "list", "--json"))
    assert listed[0]["tags"] == ["规上企业", "重点企业"]


def test_staff_link_a_user_to_an_enterprise(run_cli, services):
    run_cli("seed-demo")
    linked = run_cli("users", "link", "openid-9", "武陵云科技有限公司", "--role", "staff")
    assert "已将 wechat:openid-9 关联到「武陵云科技有限公司」（已核实）" in linked
    with services.db.session() as session:
        user = users.find(session, "wechat", "openid-9")
        assert user.enterprise.name == "武陵云科技有限公司" and user.roles == ["staff"]


def test_healthz_reports_database_and_redis(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": True, "redis": True}


def test_staff_work_a_ticket_from_the_command_line(run_cli, tmp_path):
    run_cli("seed-demo")
    filed = run_cli("complaints", "file", "--enterprise", "湘西龙腾酒业有限公司", "--text",
                    "企业反映园区道路施工围挡一个多月，大货车进不来", "--source", "走访")
    ticket = filed.split()[-1]
    assert filed.startswith("已为「湘西龙腾酒业有限公司」登记诉求") and ticket.startswith("TS")
    listed = json.loads(run_cli("complaints", "list", "--json"))
    assert listed[0]["ticket"] == ticket and listed[0]["source"] == "走访" and listed[0]["category"] == "道路交通"
    run_cli("complaints", "update", ticket, "--assign", "城建局", "--actor", "王科长")
    run_cli("complaints", "update", ticket, "--note", "已电话联系施工方")
    run_cli("complaints", "update", ticket, "--status", "resolved", "--public", "围挡已缩减，货车可通行")
    shown = json.loads(run_cli("complaints", "show", ticket, "--json"))
    assert shown["status"] == "resolved" and shown["department"] == "城建局"
    assert [e["kind"] for e in shown["events"]][:3] == ["filed", "assigned", "status"]
    assert any(e["kind"] == "note" and not e["public"] for e in shown["events"])
    assert json.loads(run_cli("complaints", "list", "--status", "resolved", "--json"))[0]["ticket"] == ticket
    figures = json.loads(run_cli("stats", "--json"))
    assert figures["complaints"]["handled"] == 1 and figures["complaints"]["by_source"] == {"走访": 1}
    assert "处理并报送诉求1件" in run_cli("stats")
    out = tmp_path / "export.csv"
    assert "wrote 1 tickets" in run_cli("complaints", "export", "--since", "2020-01-01", "--format", "csv",
                                        "--out", str(out))
    assert out.read_bytes().startswith("\ufeff工单号".encode())


def test_an_impossible_change_is_refused_with_a_reason(run_cli):
    done = run_cli("complaints", "update", "TS2099010100001", "--status", "closed", check=False)
    assert done.returncode != 0 and "没有找到工单 TS2099010100001" in done.stderr
    run_cli("seed-demo")
    ticket = run_cli("complaints", "file", "--enterprise", "武陵云科技有限公司", "--text", "厂房漏雨").split()[-1]
    run_cli("complaints", "update", ticket, "--status", "resolved")
    done = run_cli("complaints", "update", ticket, "--status", "assigned", check=False)
    assert done.returncode != 0 and "resolved → assigned" in done.stderr and "工单不能从“已办结待评价”改为“已交办”" in done.stderr


def test_staff_run_a_breakfast_meeting_from_the_command_line(run_cli, client, settings, services):
    from helpers import OfficialAccountUser
    run_cli("seed-demo")
    meeting_id = run_cli("meetings", "create", "--title", "电子信息专场早茶会", "--starts-at", "2030-03-15T07:30",
                         "--venue", "管委会三楼", "--capacity", "1", "--signup-deadline", "2030-03-14T18:00").split()[-1]
    assert json.loads(run_cli("meetings", "list", "--json"))[0]["title"] == "电子信息专场早茶会"
    run_cli("meetings", "edit", meeting_id, "--status", "closed")    # only this one is open below
    run_cli("meetings", "edit", meeting_id, "--status", "open")
    demo = [m for m in json.loads(run_cli("meetings", "list", "--json")) if "演示" in m["title"]][0]
    run_cli("meetings", "edit", str(demo["id"]), "--status", "cancelled")
    OfficialAccountUser(client, settings, "openid-first").say("报名早茶会")
    OfficialAccountUser(client, settings, "openid-second").say("报名早茶会")
    attendees = json.loads(run_cli("meetings", "attendees", meeting_id, "--json"))
    assert [(a["user"], a["status"], a["position"]) for a in attendees] == \
        [("openid-first", "confirmed", 1), ("openid-second", "waitlisted", 1)]
    table = run_cli("meetings", "attendees", meeting_id, "--csv")
    assert table.startswith("\ufeff序号,姓名,企业,电话,状态,人数,未到场,想反映的问题")
    assert "已签到" in run_cli("meetings", "checkin", meeting_id, "openid-first")
    ticket = run_cli("meetings", "raise", meeting_id, "--enterprise", "武陵云科技有限公司", "--text",
                     "希望园区协调机房双路供电", "--assign", "经发局").split()[-1]
    shown = json.loads(run_cli("meetings", "show", meeting_id, "--json"))
    assert shown["tickets"] == [{"ticket": ticket, "enterprise": "武陵云科技有限公司", "status": "assigned",
                                 "description": "希望园区协调机房双路供电"}]
    assert "诉求 1 件，已交办 1 件" in run_cli("meetings", "show", meeting_id)
    assert "未到场 0 人" in run_cli("meetings", "finish", meeting_id)

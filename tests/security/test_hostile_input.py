"""Hostile input found by an attacker pass, each sent through the real entry point: YAML alias bombs
in a policy import, unencodable or NUL characters in channel JSON, a non-numeric CreateTime, NUL
bytes and over-long values in the console, the complaints pager's keyword arguments, and CLI
arguments that hung or ended in a traceback."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aibot_payloads import WeComRobotServer, text_message
from helpers import OfficialAccountUser, console_login, csrf
from payloads import oa_xml, plain_query, sign_group, wecom_encrypted
from sqlalchemy import text as sql_text

from bot.complaints import service as tickets
from storage import policies as policy_store

ROOT = Path(__file__).resolve().parent.parent.parent


def _bomb(levels: int = 5) -> str:
    """A few hundred bytes that a YAML loader following aliases expands 9**levels times."""
    lines = ['- title: &a ["哈哈哈哈哈哈"]']
    for n in range(1, levels + 1):
        anchor = "a" if n == 1 else f"a{n - 1}"
        lines.append(f"  t{n}: &a{n} [" + ", ".join([f"*{anchor}"] * 9) + "]")
    lines.append(f"  summary: *a{levels}")
    return "\n".join(lines) + "\n"


def _run(cli_env, *args: str, stdin: str | None = None, timeout: int = 60):
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=cli_env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL if stdin is None else None,
                          input=stdin)


def _one_line_error(done) -> None:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# (1) YAML alias bomb in a policy import ------------------------------------------------------------

def test_console_policy_import_refuses_yaml_aliases(client, accounts):
    console_login(client, "admin1", "admin-pass-1")
    upload = _bomb().encode()
    assert len(upload) < 600
    done = client.post("/admin/policies/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(upload), "p.yaml"), "csrf_token": csrf(client, "/admin/policies")})
    assert done.status_code == 302
    assert "锚点/别名" in client.get(done.headers["Location"]).get_data(as_text=True)
    with accounts.db.session() as session:
        assert not [p for p in policy_store.all_policies(session) if len(p.title) > 200 or len(p.summary) > 5000]


def test_console_policy_import_refuses_overlong_fields(client, accounts):
    console_login(client, "admin1", "admin-pass-1")
    upload = ("- title: " + "长" * 300 + "\n  summary: 好\n").encode()
    done = client.post("/admin/policies/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(upload), "p.yaml"), "csrf_token": csrf(client, "/admin/policies")})
    assert done.status_code == 302
    assert "太长" in client.get(done.headers["Location"]).get_data(as_text=True)
    with accounts.db.session() as session:
        assert not [p for p in policy_store.all_policies(session) if p.title.startswith("长长长")]


def test_cli_policy_import_refuses_yaml_aliases(cli_env, tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_bomb(), encoding="utf-8")
    done = _run(cli_env, "policies", "import", str(bomb))
    _one_line_error(done)
    assert "锚点/别名" in done.stderr


# (2) lone surrogates and NUL in channel JSON -------------------------------------------------------

@pytest.mark.parametrize("text", ['"\\ud800停电"', '"停\\u0000电"'])
def test_group_json_with_unencodable_or_nul_text_is_400(client, settings, text):
    body = json.dumps({"msg_id": "m-" + text[3:7], "group_id": "g1", "group_name": "群", "sender_id": "wx1",
                       "sender_name": "张三", "text": "X", "mentioned": True,
                       "timestamp": int(time.time())}).replace('"X"', text).encode()
    response = client.post("/group", data=body, headers=sign_group(settings.group_webhook_secret, body))
    assert response.status_code == 400, response.data


@pytest.mark.parametrize("content", ["\ud800停电", "停\x00电"])
def test_aibot_json_with_unencodable_or_nul_text_is_400(client, settings, content):
    robot = WeComRobotServer(settings.wecom_bot.token, settings.wecom_bot.aes_key)
    message = text_message("PLACEHOLDER")
    plain = json.dumps(message).replace("PLACEHOLDER", json.dumps(content)[1:-1]).encode()
    encrypt = robot.encrypt(plain)
    response = client.post(f"/wecom/aibot?{robot.query(encrypt)}", data=json.dumps({"encrypt": encrypt}).encode(),
                           content_type="application/json")
    assert response.status_code == 400, response.data


# (3) non-numeric CreateTime -------------------------------------------------------------------------

def test_wechat_non_numeric_create_time_is_400(client, settings):
    response = client.post(f"/wechat?{plain_query(settings.wechat.token)}", data=oa_xml("你好", create_time="abc"),
                           content_type="application/xml")
    assert response.status_code == 400, response.data


def test_wecom_non_numeric_create_time_is_400(client, settings):
    query, body, _ = wecom_encrypted(settings, oa_xml("你好", user="zhangsan", create_time="abc",
                                                      to=settings.wecom.corp_id, agent_id=settings.wecom.agent_id))
    response = client.post(f"/wecom?{query}", data=body, content_type="application/xml")
    assert response.status_code == 400, response.data


# (4) NUL bytes and over-long values in the console ---------------------------------------------------

def test_console_login_with_nul_in_username_is_400(client, accounts):
    page = client.get("/admin/login")
    token = csrf(client)
    response = client.post("/admin/login", data={"username": "adm\x00in", "password": "x", "csrf_token": token})
    assert response.status_code == 400 and "不允许的字符" in response.get_data(as_text=True)
    assert page.status_code == 200


@pytest.mark.parametrize("path", ["/admin/complaints?q=%00", "/admin/users?q=%00", "/admin/complaints/TS%00",
                                  "/admin/complaints?status=%00x"])
def test_console_pages_with_nul_in_the_url_are_400(client, accounts, path):
    console_login(client, "admin1", "admin-pass-1")
    response = client.get(path)
    assert response.status_code == 400 and "不允许的字符" in response.get_data(as_text=True)


def test_console_form_with_nul_is_400(client, accounts):
    console_login(client, "admin1", "admin-pass-1")
    response = client.post("/admin/meetings/new", data={"title": "早茶\x00会", "venue": "园区", "capacity": "10",
                                                          "starts_at": "2030-01-01T08:00",
                                                          "csrf_token": csrf(client, "/admin/meetings/new")})
    assert response.status_code == 400 and "不允许的字符" in response.get_data(as_text=True)


def test_meeting_capacity_out_of_range_is_refused(client, accounts):
    console_login(client, "admin1", "admin-pass-1")
    response = client.post("/admin/meetings/new", data={"title": "早茶会", "venue": "园区", "capacity": "99999999999",
                                                          "starts_at": "2030-01-01T08:00",
                                                          "csrf_token": csrf(client, "/admin/meetings/new")})
    assert response.status_code == 400 and "座位数不能大于" in response.get_data(as_text=True)


def test_a_number_the_database_cannot_hold_is_400_not_500(client, accounts):
    console_login(client, "admin1", "admin-pass-1")
    response = client.get("/admin/meetings/99999999999999999999999")
    assert response.status_code in (400, 404), response.status_code


# (5) the complaints pager with url_for's own keywords in the query -------------------------------------

@pytest.mark.parametrize("query", ["endpoint=x", "_method=POST", "_external=1&status=received"])
def test_complaints_pager_ignores_unknown_arguments(client, accounts, query):
    with accounts.db.session() as session:
        for n in range(51):      # more than one page, so the pager's links are drawn
            tickets.file(accounts, session, description=f"路灯坏了 {n}", category="供电", source="电话")
    console_login(client, "admin1", "admin-pass-1")
    response = client.get(f"/admin/complaints?{query}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "下一页" in body and "endpoint=" not in body and "_method" not in body


# (6) CLI arguments that hung or ended in a traceback ----------------------------------------------------

def test_cli_extension_beyond_the_cap_is_refused_at_once(cli_env, accounts):
    with accounts.db.session() as session:
        ticket = tickets.file(accounts, session, description="路灯坏了", category="供电", source="电话")[0].ticket_no
    done = _run(cli_env, "complaints", "update", ticket, "--extend", "100000000", "--reason", "r", timeout=60)
    _one_line_error(done)
    assert "60" in done.stderr


@pytest.mark.parametrize("args", [
    ("meetings", "show", "99999999999999999999999"),
    ("broadcast", "status", "99999999999999999999999"),
    ("stats", "--since", "0001-01-01"),
    ("enterprises", "import", "/nonexistent.csv"),
    ("enterprises", "import", "/tmp"),
    ("staff", "add", "hostile-x", "--role", "admin"),
])
def test_cli_hostile_arguments_end_in_one_line(cli_env, accounts, args):
    _one_line_error(_run(cli_env, *args))



def test_a_megabyte_of_chat_text_is_kept_to_a_page(client, settings, services):
    """Attacker pass, session 9: a signed callback of ~960 KB of text was filed whole — its ticket page grew to
    334 KB. A message's text is kept to its first 4,000 characters everywhere (stored, filed, shown)."""
    text = "西区停电三天了，" + "厂区生产全部停滞" * 40_000
    assert "已登记" in OfficialAccountUser(client, settings, "o-big-1").say(text)
    with services.db.session() as session:
        lengths = session.execute(sql_text(
            "SELECT length(text) FROM inbound_messages UNION ALL SELECT length(description) FROM complaints "
            "UNION ALL SELECT length(text) FROM complaint_events")).scalars().all()
    assert lengths and max(lengths) <= 4000

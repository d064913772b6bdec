"""The staff console: login with CSRF and lock-out, roles, dashboard, complaints queue and actions."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import console_login, csrf

from bot import clock
from bot.complaints import service as tickets
from storage import complaints as store
from storage import staff

ROOT = Path(__file__).resolve().parent.parent


def _file(services, text, category):
    with services.db.session() as session:
        return tickets.file(services, session, description=text, category=category, source="电话")[0].ticket_no


def test_pages_need_aconsole_login(client):
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/complaints").headers["Location"].startswith("/admin/login")


def test_login_needs_the_csrf_token(client, accounts):
    response = client.post("/admin/login", data={"username": "admin1", "password": "admin-pass-1"})
    assert response.status_code == 400


def test_login_and_logout(client, accounts):
    assert console_login(client, "admin1", "admin-pass-1").status_code == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert "本季度" in page and "受理" in page
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    assert client.get("/admin/").status_code == 302


def test_five_failures_lock_the_account_out(client, accounts):
    for _ in range(5):
        assert console_login(client, "admin1", "wrong").status_code == 401
    assert console_login(client, "admin1", "admin-pass-1").status_code == 429


def test_queue_filters_and_staff_see_only_their_department(client, accounts):
    power = _file(accounts, "西区停电三天", "供电")          # 经发局
    road = _file(accounts, "门口道路坑洼", "道路交通")       # 城建局
    console_login(client, "admin1", "admin-pass-1")
    page = client.get("/admin/complaints").get_data(as_text=True)
    assert power in page and road in page
    assert road not in client.get("/admin/complaints?category=供电").get_data(as_text=True)
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    console_login(client, "power", "power-pass-1")
    page = client.get("/admin/complaints").get_data(as_text=True)
    assert power in page and road not in page
    assert client.get(f"/admin/complaints/{road}").status_code == 404


def test_staff_work_a_ticket_and_every_change_is_audited(client, accounts):
    ticket = _file(accounts, "西区停电三天", "供电")
    console_login(client, "power", "power-pass-1")
    token = csrf(client, f"/admin/complaints/{ticket}")
    for data in ({"action": "reply", "text": "供电所已到场抢修"}, {"action": "note", "text": "内部：变压器老化"},
                 {"action": "status", "status": "resolved", "text": "已恢复供电"}):
        assert client.post(f"/admin/complaints/{ticket}", data=dict(data, csrf_token=token)).status_code == 302
    with accounts.db.session() as session:
        complaint = store.by_ticket(session, ticket)
        assert complaint.status == "resolved"
        assert [e.kind for e in complaint.events][-3:] == ["reply", "note", "status"]
        assert {e.action for e in staff.audit_log(session)} >= {"login", "complaint.reply", "complaint.status"}
    page = client.get(f"/admin/complaints/{ticket}").get_data(as_text=True)
    assert "供电所已到场抢修" in page and "内部：变压器老化" in page


def test_a_viewer_cannot_change_anything(client, accounts):
    ticket = _file(accounts, "西区停电三天", "供电")
    console_login(client, "reader", "reader-pass-1")
    assert ticket in client.get(f"/admin/complaints/{ticket}").get_data(as_text=True)
    response = client.post(f"/admin/complaints/{ticket}", data={"action": "note", "text": "x",
                                                                "csrf_token": csrf(client, "/admin/")})
    assert response.status_code == 403


def test_staff_add_on_the_command_line(cli_env, services):
    done = subprocess.run([sys.executable, "-m", "bot", "staff", "add", "wang", "--role", "staff",
                           "--department", "城建局", "--password-stdin"], cwd=ROOT, env=cli_env,
                          input="wang-secret-1\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with services.db.session() as session:
        assert staff.check_password(session, "wang", "wang-secret-1").department == "城建局"
        assert staff.check_password(session, "wang", "nope") is None


def test_broadcast_compose_preview_confirm_and_progress(client, accounts, fake_api):
    with accounts.db.session() as session:
        from storage import users
        for openid in ("fan-1", "fan-2"):
            users.seen(session, "wechat", openid)
    console_login(client, "admin1", "admin-pass-1")
    token = csrf(client, "/admin/broadcasts")
    form = {"title": "研发补助申报通知", "body": "请于月底前申报", "url": "", "target": "all", "csrf_token": token}
    preview = client.post("/admin/broadcasts/preview", data=form).get_data(as_text=True)
    assert "将向 <b>2</b> 位接收人" in preview
    assert not [c for c in fake_api.calls if c["path"] == "/cgi-bin/message/custom/send"]   # nothing sent yet
    response = client.post("/admin/broadcasts", data=form)
    assert response.status_code == 302
    status = client.get(response.headers["Location"] + "/status").get_json()
    assert status["total"] == 2 and status["sent"] == 2
    assert sorted(c["body"]["touser"] for c in fake_api.calls if c["path"] == "/cgi-bin/message/custom/send") == \
        ["fan-1", "fan-2"]
    assert "研发补助申报通知" in client.get("/admin/broadcasts").get_data(as_text=True)


def test_a_viewer_cannot_send_a_broadcast(client, accounts):
    console_login(client, "reader", "reader-pass-1")
    token = csrf(client, "/admin/broadcasts")
    response = client.post("/admin/broadcasts", data={"title": "t", "body": "b", "target": "all", "csrf_token": token})
    assert response.status_code == 403


def test_meeting_roster_check_in_and_export(client, settings, accounts):
    from datetime import timedelta

    from helpers import OfficialAccountUser

    from bot.meetings import service as meetings
    start = clock.now() + timedelta(days=3)
    with accounts.db.session() as session:
        meeting_id = meetings.create(session, title="电子信息早茶会", starts_at=start, venue="管委会", capacity=1).id
    OfficialAccountUser(client, settings, "m-1").say("报名早茶会")
    OfficialAccountUser(client, settings, "m-2").say("报名早茶会")
    console_login(client, "power", "power-pass-1")
    page = client.get(f"/admin/meetings/{meeting_id}").get_data(as_text=True)
    assert "m-1" in page and "候补第1位" in page
    with accounts.db.session() as session:
        from storage import meetings as store
        first = store.roster(session, meeting_id)[0].id
    token = csrf(client, f"/admin/meetings/{meeting_id}")
    assert client.post(f"/admin/meetings/{meeting_id}/checkin/{first}", data={"csrf_token": token}).status_code == 302
    assert "已签到" in client.get(f"/admin/meetings/{meeting_id}").get_data(as_text=True)
    exported = client.get(f"/admin/meetings/{meeting_id}/attendees.csv")
    assert exported.data.startswith("\ufeff序号,姓名".encode()) and "已签到".encode() in exported.data
    assert "电子信息早茶会" in client.get("/admin/meetings").get_data(as_text=True)


def test_a_ticket_its_owner_took_back_shows_so_in_its_timeline(client, accounts):
    ticket = _file(accounts, "东区3号路路灯坏了", "道路交通")
    with accounts.db.session() as session:
        assert tickets.withdraw(accounts, session, store.by_ticket(session, ticket), "user", "搞错了，路灯是好的，撤销吧")
    console_login(client, "admin1", "admin-pass-1")
    page = client.get(f"/admin/complaints/{ticket}").get_data(as_text=True)
    assert "用户撤回" in page and "已受理 → 已办结" in page and "搞错了，路灯是好的" in page

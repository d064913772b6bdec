"""Console pages beyond the queue: dashboard charts, filing on behalf, merging, export, policies,
meeting create/edit, the roster, users, staff accounts (admin only), the audit log."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from helpers import OfficialAccountUser, console_login, csrf

from bot import clock
from bot.chat.message import Message
from bot.complaints import service as tickets
from bot.meetings import service as meetings
from bot.policies import service as policies
from storage import broadcasts as broadcast_store
from storage import complaints as store
from storage import enterprises, messages, staff, users
from storage import meetings as meeting_store
from storage import policies as policy_store


def _post(client, path, data, page=None, **kwargs):
    return client.post(path, data=dict(data, csrf_token=csrf(client, page or path)), **kwargs)


def test_dashboard_draws_charts_from_the_vendored_library(client, accounts):
    with accounts.db.session() as session:
        tickets.file(accounts, session, description="西区停电", category="供电", source="电话")
        tickets.file(accounts, session, description="门口道路坑洼", category="道路交通", source="电话")
        tickets.file(accounts, session, description="东门路灯不亮", category="道路交通", source="走访")
    console_login(client, "reader", "reader-pass-1")
    page = client.get("/admin/").get_data(as_text=True)
    assert "/static/vendor/chart-4.6.1.umd.min.js" in page and "https://" not in page.split("<body>")[0]
    assert '"category": [["道路交通", 2], ["供电", 1]]' in page
    assert '"filed": 3' in page                      # this week's point of the weekly chart
    library = client.get("/static/vendor/chart-4.6.1.umd.min.js")
    assert library.status_code == 200 and b"Chart.js v4.6.1" in library.data[:200]


def test_staff_file_on_behalf_of_an_enterprise_and_a_repeat_is_merged(client, accounts):
    with accounts.db.session() as session:
        enterprises.upsert(session, "云岭精密制造有限公司")
    console_login(client, "power", "power-pass-1")
    form = {"enterprise": "云岭精密制造有限公司", "kind": "诉求", "category": "供电", "source": "电话",
            "phone": "13800001111", "location": "西区3号厂房", "description": "西区3号厂房停电两天，生产线停了"}
    first = _post(client, "/admin/complaints/new", form)
    assert first.status_code == 302
    ticket = first.headers["Location"].rsplit("/", 1)[1]
    again = _post(client, "/admin/complaints/new", dict(form, description="西区3号厂房又停电两天了，生产线停了"))
    assert again.headers["Location"].endswith(ticket)          # the same matter told twice: one ticket
    with accounts.db.session() as session:
        complaint = store.by_ticket(session, ticket)
        assert complaint.enterprise.name == "云岭精密制造有限公司" and complaint.source == "电话"
        assert complaint.repeat_count == 1 and complaint.contact_phone == "13800001111"
    unknown = _post(client, "/admin/complaints/new", dict(form, enterprise="不存在的公司"), page="/admin/complaints/new")
    assert unknown.status_code == 400 and "企业名录中没有" in unknown.get_data(as_text=True)


def test_staff_merge_a_duplicate_and_the_owner_is_told(client, settings, accounts, fake_api):
    owner = OfficialAccountUser(client, settings, "merge-owner")
    owner.say("投诉：园区东门的路灯坏了一个月，晚上很危险")
    with accounts.db.session() as session:
        duplicate = store.of_owner(session, None, users.find(session, "wechat", "merge-owner").id)[0].ticket_no
        target = tickets.file(accounts, session, description="东门一带路灯全部不亮", category="道路交通",
                              source="12345")[0].ticket_no
    console_login(client, "admin1", "admin-pass-1")
    response = _post(client, f"/admin/complaints/{duplicate}", {"action": "merge", "into": target.lower()})
    assert response.status_code == 302
    with accounts.db.session() as session:
        merged, into = store.by_ticket(session, duplicate), store.by_ticket(session, target)
        assert merged.merged_into == target and merged.status == "closed" and into.repeat_count == 1
    assert "已并入" in client.get(f"/admin/complaints/{duplicate}").get_data(as_text=True)
    pushed = [c["body"]["text"]["content"] for c in fake_api.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert any(duplicate in text and target in text and "并入" in text for text in pushed)
    assert "已并入" in owner.say(f"查询 {duplicate}")
    again = _post(client, f"/admin/complaints/{target}", {"action": "merge", "into": target})
    assert again.status_code == 302
    assert "不能把工单并入它自己" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_export_from_the_console_and_a_scoped_staff_member_exports_only_their_tickets(client, accounts):
    with accounts.db.session() as session:
        power = tickets.file(accounts, session, description="西区停电", category="供电", source="电话")[0].ticket_no
        road = tickets.file(accounts, session, description="道路坑洼", category="道路交通", source="电话")[0].ticket_no
    console_login(client, "power", "power-pass-1")
    exported = client.get("/admin/complaints/export?format=csv")
    assert exported.data.startswith("\ufeff工单号".encode()) and power.encode() in exported.data
    assert road.encode() not in exported.data
    excel = client.get("/admin/complaints/export?format=xlsx")
    assert excel.data[:2] == b"PK" and client.get("/admin/complaints/export?since=yesterday").status_code == 400
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    unknown = client.get("/admin/complaints/export?format=../../config.yaml")    # attacker pass, session 9
    assert unknown.status_code == 400 and "csv 或 xlsx" in unknown.get_data(as_text=True)


def test_policies_create_edit_import_and_expire_change_what_the_bot_answers(client, settings, accounts):
    console_login(client, "admin1", "admin-pass-1")    # the policy base is park-wide: not a scoped account's
    form = {"title": "园区光伏屋顶补贴", "level": "园区", "payout_mode": "依申请", "topics": ["产业"],
            "summary": "企业建设屋顶分布式光伏，按装机容量给予一次性补贴", "amount": "每千瓦200元",
            "contact": "园区经发局 0871-12345678"}
    assert _post(client, "/admin/policies/new", form).status_code == 302
    asker = OfficialAccountUser(client, settings, "pv-asker")
    assert "园区光伏屋顶补贴" in asker.say("屋顶光伏有补贴吗")
    with accounts.db.session() as session:
        policy_id = policy_store.by_title(session, "园区光伏屋顶补贴").id
    edited = _post(client, f"/admin/policies/{policy_id}/edit", dict(form, amount="每千瓦300元",
                                                                    rule_industries_any="制造，新能源"))
    assert edited.status_code == 302
    with accounts.db.session() as session:
        assert policy_store.get(session, policy_id).rules == {"industries_any": ["制造", "新能源"]}
    assert "园区光伏屋顶补贴" in client.get("/admin/policies?q=光伏").get_data(as_text=True)
    assert 'value="每千瓦300元"' in client.get(f"/admin/policies/{policy_id}/edit").get_data(as_text=True)
    clash = _post(client, "/admin/policies/new", form, page="/admin/policies/new")
    assert clash.status_code == 400 and "已有同名政策" in clash.get_data(as_text=True)
    upload = "title,summary,topics,payout_mode\n园区储能补贴,新建储能电站按容量补贴,产业,依申请\n"
    imported = _post(client, "/admin/policies/import", {"file": (io.BytesIO(upload.encode("utf-8-sig")), "p.csv")},
                     page="/admin/policies", content_type="multipart/form-data")
    assert "新增 1 条" in client.get(imported.headers["Location"]).get_data(as_text=True)
    bad = _post(client, "/admin/policies/import", {"file": (io.BytesIO(b"- title: [unclosed"), "p.yaml")},
                page="/admin/policies", content_type="multipart/form-data")
    assert "未导入" in client.get(bad.headers["Location"]).get_data(as_text=True)
    assert _post(client, f"/admin/policies/{policy_id}/expire", {}, page="/admin/policies").status_code == 302
    assert "园区光伏屋顶补贴" not in asker.say("屋顶光伏有补贴吗")
    with accounts.db.session() as session:
        assert {e.action for e in staff.audit_log(session)} >= {"policy.create", "policy.edit", "policy.import",
                                                                  "policy.expire"}


def test_a_viewer_cannot_touch_policies(client, accounts):
    console_login(client, "reader", "reader-pass-1")
    with accounts.db.session() as session:
        policies.import_records(accounts, session, [{"title": "测试政策", "summary": "内容"}])
    assert "测试政策" in client.get("/admin/policies").get_data(as_text=True)
    assert client.get("/admin/policies/new").status_code == 403
    assert _post(client, "/admin/policies/1/expire", {}, page="/admin/policies").status_code == 403


def test_meeting_created_in_the_console_takes_signups_and_more_seats_promote_the_waitlist(client, settings, accounts,
                                                                                         fake_api):
    console_login(client, "power", "power-pass-1")
    start = (clock.now() + timedelta(days=5)).replace(hour=8, minute=30)
    form = {"title": "新能源企业早茶会", "venue": "管委会三楼", "theme": "新能源", "capacity": "1",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"), "per_enterprise_limit": "2"}
    created = _post(client, "/admin/meetings/new", form)
    assert created.status_code == 302
    meeting_id = int(created.headers["Location"].rsplit("/", 1)[1])
    first, second = (OfficialAccountUser(client, settings, name) for name in ("tea-1", "tea-2"))
    assert "新能源企业早茶会" in first.say("报名早茶会")
    assert "候补" in second.say("报名早茶会")
    bad = _post(client, f"/admin/meetings/{meeting_id}/edit", dict(form, capacity="0"))
    assert bad.status_code == 400 and "座位数不能小于 1" in bad.get_data(as_text=True)
    edited = _post(client, f"/admin/meetings/{meeting_id}/edit", dict(form, capacity="2", status="open"))
    assert "1 位已转为确认" in client.get(edited.headers["Location"]).get_data(as_text=True)
    with accounts.db.session() as session:
        assert [s.status for s in meeting_store.roster(session, meeting_id)] == ["confirmed", "confirmed"]
    pushed = [c["body"]["text"]["content"] for c in fake_api.calls if c["path"] == "/cgi-bin/message/custom/send"
              and c["body"]["touser"] == "tea-2"]
    assert pushed and "新能源企业早茶会" in pushed[-1]


def test_roster_import_tags_and_linking_users(client, settings, accounts):
    console_login(client, "power", "power-pass-1")
    roster = "name,credit_code,industry,tags\n滇池生物科技有限公司,91530100MA6N000001,生物医药,专精特新\n"
    response = _post(client, "/admin/enterprises/import",
                     {"file": (io.BytesIO(roster.encode("utf-8-sig")), "roster.csv")}, page="/admin/enterprises",
                     content_type="multipart/form-data")
    assert "新增 1 家" in client.get(response.headers["Location"]).get_data(as_text=True)
    not_utf8 = _post(client, "/admin/enterprises/import", {"file": (io.BytesIO("名称\n".encode("gbk")), "r.csv")},
                     page="/admin/enterprises", content_type="multipart/form-data")
    assert "UTF-8" in client.get(not_utf8.headers["Location"]).get_data(as_text=True)
    with accounts.db.session() as session:
        firm = enterprises.by_name(session, "滇池生物科技有限公司")
    _post(client, f"/admin/enterprises/{firm.id}/tags", {"tags": "专精特新，高新技术企业"}, page="/admin/enterprises")
    OfficialAccountUser(client, settings, "bio-owner").say("你好")
    with accounts.db.session() as session:
        assert enterprises.get(session, firm.id).tags == ["专精特新", "高新技术企业"]
        user_ref = users.find(session, "wechat", "bio-owner").id
    linked = _post(client, f"/admin/users/{user_ref}/link", {"enterprise": "滇池生物科技有限公司"}, page="/admin/users")
    assert linked.status_code == 403       # a member sees the firm's tickets of every department: not for 经发局 staff
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    console_login(client, "admin1", "admin-pass-1")
    _post(client, f"/admin/users/{user_ref}/link", {"enterprise": "滇池生物科技有限公司"}, page="/admin/users")
    with accounts.db.session() as session:
        assert users.get(session, user_ref).enterprise.name == "滇池生物科技有限公司"
    assert "bio-owner" in client.get("/admin/users?q=滇池").get_data(as_text=True)


def test_staff_accounts_are_for_admins_only(client, accounts):
    console_login(client, "power", "power-pass-1")
    assert client.get("/admin/staff").status_code == 403 and client.get("/admin/audit").status_code == 403
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    console_login(client, "admin1", "admin-pass-1")
    assert _post(client, "/admin/staff", {"username": "li.na", "password": "short", "role": "staff"}).status_code == 302
    assert "密码至少 8 位" in client.get("/admin/staff").get_data(as_text=True)
    _post(client, "/admin/staff", {"username": "li.na", "password": "li-na-pass-1", "role": "staff",
                                   "department": "城建局"})
    with accounts.db.session() as session:
        account = staff.by_username(session, "li.na")
        assert account.department == "城建局" and staff.check_password(session, "li.na", "li-na-pass-1")
        admin_id = staff.by_username(session, "admin1").id
    _post(client, f"/admin/staff/{account.id}", {"role": "staff", "department": "城建局", "active": "0"},
          page="/admin/staff")
    refused = _post(client, f"/admin/staff/{admin_id}", {"role": "viewer", "active": "1"}, page="/admin/staff")
    assert "不能停用自己" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "staff.update" in client.get("/admin/audit").get_data(as_text=True)
    other = client.application.test_client()
    assert console_login(other, "li.na", "li-na-pass-1").status_code == 401     # deactivated


def test_every_console_page_renders_for_every_role(client, accounts):
    with accounts.db.session() as session:
        meeting_id = meetings.create(session, title="测试早茶会", venue="管委会", capacity=5,
                                     starts_at=clock.now() + timedelta(days=2)).id
    pages = ["/admin/", "/admin/complaints", "/admin/policies", "/admin/broadcasts", "/admin/meetings",
             f"/admin/meetings/{meeting_id}", "/admin/enterprises", "/admin/users"]
    for username, password in (("admin1", "admin-pass-1"), ("power", "power-pass-1"), ("reader", "reader-pass-1")):
        console_login(client, username, password)
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (username, path)
            assert 'name="viewport"' in response.get_data(as_text=True)
        client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})


def _console_posts(app) -> list[str]:
    """Every console route that changes something, with sample ids filled in."""
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and "POST" in rule.methods and rule.endpoint not in (
                "admin.login", "admin.logout", "admin.own_password"):     # everyone signs out and sets their own
            paths.append(re.sub(r"<(?:int:)?(\w+)>", lambda m: "TS2026010100001" if m.group(1) == "ticket" else "1",
                                rule.rule))
    return sorted(set(paths))


def test_a_viewer_gets_403_on_every_change_and_staff_on_every_admin_page(client, accounts):
    posts = _console_posts(client.application)
    assert len(posts) >= 15                                  # the list is read from the app itself
    console_login(client, "reader", "reader-pass-1")
    token = csrf(client, "/admin/")
    for path in posts:
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    client.post("/admin/logout", data={"csrf_token": token})
    console_login(client, "power", "power-pass-1")
    token = csrf(client, "/admin/")
    for path in ("/admin/staff", "/admin/staff/1"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    for path in ("/admin/staff", "/admin/audit"):
        assert client.get(path).status_code == 403, path


def test_console_errors_are_chinese_pages(client, accounts):
    console_login(client, "power", "power-pass-1")
    missing = client.get("/admin/meetings/999")
    assert missing.status_code == 404 and "没有找到" in missing.get_data(as_text=True)
    forbidden = client.get("/admin/staff")
    assert forbidden.status_code == 403 and "仅管理员可用" in forbidden.get_data(as_text=True)
    scoped = _post(client, "/admin/policies/import", {}, page="/admin/policies")
    assert scoped.status_code == 403 and "不限部门" in scoped.get_data(as_text=True)
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    console_login(client, "admin1", "admin-pass-1")
    huge = client.post("/admin/policies/import", data={"file": (io.BytesIO(b"x" * (2 << 20)), "p.csv"),
                                                        "csrf_token": csrf(client, "/admin/policies")},
                       content_type="multipart/form-data")
    assert huge.status_code == 413 and "太大" in huge.get_data(as_text=True)
    assert _post(client, "/admin/policies/import", {}, page="/admin/policies").status_code == 302
    assert "请选择要导入的文件" in client.get("/admin/policies").get_data(as_text=True)


def test_the_queue_pages_and_searches_by_enterprise_in_the_database(client, accounts):
    with accounts.db.session() as session:
        firm = enterprises.upsert(session, "云岭精密制造有限公司")[0]
        for n in range(54):
            tickets.file(accounts, session, description=f"第{n}号路灯不亮", category="道路交通", source="电话",
                         today=clock.today() - timedelta(days=30) if n == 0 else None)
        special = tickets.file(accounts, session, description="厂区停电", category="供电", source="走访",
                               enterprise_id=firm.id)[0].ticket_no
    console_login(client, "admin1", "admin-pass-1")
    first = client.get("/admin/complaints").get_data(as_text=True)
    assert "共 55 件" in first and "第 1 / 2 页" in first and first.count("/admin/complaints/TS") == 50
    second = client.get("/admin/complaints?page=2").get_data(as_text=True)
    assert second.count("/admin/complaints/TS") == 5 and "上一页" in second
    found = client.get("/admin/complaints?q=云岭").get_data(as_text=True)
    assert "共 1 件" in found and special in found
    assert "共 0 件" in client.get("/admin/complaints?q=%25").get_data(as_text=True)   # % is a character
    assert "共 1 件" in client.get("/admin/complaints?overdue=1").get_data(as_text=True)
    assert "共 1 件" in client.get("/admin/complaints?source=走访&category=供电").get_data(as_text=True)


def test_after_the_meeting_staff_record_no_shows_and_file_what_was_raised(client, settings, accounts):
    with accounts.db.session() as session:
        enterprises.upsert(session, "滇池生物科技有限公司")
        meeting_id = meetings.create(session, title="生物医药早茶会", venue="管委会", capacity=5,
                                     starts_at=clock.now() + timedelta(days=1)).id
    OfficialAccountUser(client, settings, "absent-1").say("报名早茶会")
    console_login(client, "power", "power-pass-1")
    page = f"/admin/meetings/{meeting_id}"
    raised = _post(client, f"{page}/raise", {"enterprise": "滇池生物科技有限公司", "text": "希望协调解决厂区门口停电问题"},
                   page=page)
    ticket = re.search(r"TS\d{13}", client.get(raised.headers["Location"]).get_data(as_text=True)).group(0)
    _post(client, f"{page}/finish", {}, page=page)
    shown = client.get(page).get_data(as_text=True)
    assert ticket in shown and "已举行" in shown and "未到场" in shown
    with accounts.db.session() as session:
        complaint = store.by_ticket(session, ticket)
        assert (complaint.source, complaint.meeting_id, complaint.category) == ("早茶会", meeting_id, "供电")
        assert meeting_store.roster(session, meeting_id)[0].no_show


def test_the_dashboard_reports_an_earlier_quarter(client, accounts):
    from datetime import datetime

    from bot.admin.dashboard import quarters
    previous, start, _end = quarters(clock.today())[1]
    with accounts.db.session() as session:
        old = tickets.file(accounts, session, description="上季度的停电问题", category="供电", source="电话")[0]
        old.created_at = datetime.combine(start, datetime.min.time()) + timedelta(days=3)
    console_login(client, "reader", "reader-pass-1")
    now = client.get("/admin/").get_data(as_text=True)
    assert "本季度" in now and '"category": []' in now
    earlier = client.get(f"/admin/?quarter={previous}").get_data(as_text=True)
    assert f"{previous[:4]}年第{previous[5]}季度" in earlier and '"category": [["供电", 1]]' in earlier
    assert "处理并报送诉求1件" in earlier


def test_the_console_shows_park_time_not_utc(client, accounts):
    from datetime import datetime
    with accounts.db.session() as session:
        complaint = tickets.file(accounts, session, description="夜里停电", category="供电", source="电话")[0]
        complaint.events[0].at = datetime(2026, 3, 1, 17, 30)          # stored UTC: 3月2日 01:30 in the park
        ticket = complaint.ticket_no
    console_login(client, "reader", "reader-pass-1")
    assert "03-02 01:30" in client.get(f"/admin/complaints/{ticket}").get_data(as_text=True)


def test_pages_name_a_broadcasts_recipients_and_a_messages_kind_in_words(client, accounts):
    with accounts.db.session() as session:
        broadcast_store.create(session, "新政策", "正文", "", "topic:科技", "staff", [])
        user_ref = users.seen(session, "wechat", "o-image-sender")
        message_id = messages.record(session, Message(channel="wechat", user_id="o-image-sender", msg_type="image",
                                                      dedupe_key="img-1"), user_ref)
        messages.save_outcome(session, message_id, None, None, "", messages.FAILED, "RuntimeError")
    console_login(client, "admin1", "admin-pass-1")
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "订阅「科技」的用户" in dashboard and "topic:科技" not in dashboard
    waiting = client.get("/admin/unhandled").get_data(as_text=True)
    assert "（图片）" in waiting and "（image）" not in waiting

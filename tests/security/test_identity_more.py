"""Department-scoped staff escaping their scope (attacker pass on issue #11).

A staff account scoped to one department could mint itself an invitation code for any enterprise
(and so read that firm's tickets in the chat), decide membership claims, and read every user's
failed message on 未处理消息. Those now need an admin (codes, claims) or an unscoped account (queue).
"""
from __future__ import annotations

import re

from helpers import OfficialAccountUser, console_login, csrf

from bot import clock, demo
from storage import broadcasts as broadcast_store
from storage import enterprises
from storage import policies as policy_store

VICTIM = "武陵云科技有限公司"


def _post(client, path, data, page):
    return client.post(path, data=dict(data, csrf_token=csrf(client, page)))


def test_department_staff_cannot_issue_themselves_an_invitation_code(client, settings, accounts):
    with accounts.db.session() as session:
        demo.seed(session)
        enterprise_id = enterprises.by_name(session, VICTIM).id
    page = f"/admin/enterprises/{enterprise_id}"
    console_login(client, "power", "power-pass-1")
    refused = _post(client, f"{page}/invites", {"days": "7", "uses": "1"}, page)
    assert refused.status_code == 403
    assert not re.search(r"YQ-[A-Z0-9]{4}-[A-Z0-9]{4}", refused.get_data(as_text=True))
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    console_login(client, "admin1", "admin-pass-1")
    made = _post(client, f"{page}/invites", {"days": "7", "uses": "1"}, page)
    invite_id = re.search(r'action="/admin/invites/(\d+)/revoke"', client.get(page).get_data(as_text=True)).group(1)
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    console_login(client, "power", "power-pass-1")
    assert _post(client, f"/admin/invites/{invite_id}/revoke", {}, page).status_code == 403
    code = re.search(r'id="new-code">(YQ-[A-Z0-9-]+)<', made.get_data(as_text=True)).group(1)
    assert "无效" not in OfficialAccountUser(client, settings, "still-valid").say(f"绑定企业 {code}")


def test_department_staff_cannot_decide_claims(client, settings, accounts):
    with accounts.db.session() as session:
        demo.seed(session)
    claimant = OfficialAccountUser(client, settings, "claimant-9")
    claimant.say("绑定企业 武陵云科技")
    claimant.say("是")
    console_login(client, "admin1", "admin-pass-1")
    claim_id = re.search(r'action="/admin/claims/(\d+)"',
                         client.get("/admin/claims").get_data(as_text=True)).group(1)
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    console_login(client, "power", "power-pass-1")
    assert _post(client, f"/admin/claims/{claim_id}", {"action": "approve"}, "/admin/claims").status_code == 403
    assert "待审核" in client.get("/admin/claims").get_data(as_text=True)


def test_department_staff_cannot_read_or_act_on_unhandled_messages(client, accounts):
    console_login(client, "power", "power-pass-1")
    assert client.get("/admin/unhandled").status_code == 403
    token = csrf(client, "/admin/")
    assert client.post("/admin/unhandled/1/retry", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/unhandled/1/resolve", data={"csrf_token": token, "note": "x"}).status_code == 403
    client.post("/admin/logout", data={"csrf_token": token})
    console_login(client, "reader", "reader-pass-1")
    assert client.get("/admin/unhandled").status_code == 200


def _users_link(client, settings, accounts, openid):
    """The console's users page: the link form's action for the WeChat user `openid`."""
    OfficialAccountUser(client, settings, openid).say("你好")
    with accounts.db.session() as session:
        demo.seed(session)
    page = client.get(f"/admin/users?q={openid}").get_data(as_text=True)
    return re.search(r'action="(/admin/users/\d+/link)', page).group(1)


def test_department_staff_cannot_link_a_wechat_user_to_an_enterprise(client, settings, accounts):
    """Attacker pass, session 9: a 经发局 account linked its own WeChat user to another firm on 用户管理 and then
    read that firm's tickets of every department in the chat ("查询 TS…"), and could unlink real members."""
    with accounts.db.session() as session:
        demo.seed(session)
    console_login(client, "power", "power-pass-1")
    action = _users_link(client, settings, accounts, "o-spy-2")
    refused = _post(client, action, {"enterprise": VICTIM}, "/admin/users")
    assert refused.status_code == 403
    reply = OfficialAccountUser(client, settings, "o-spy-2").say("我的诉求")
    assert VICTIM not in reply and "贵公司" not in reply          # still nobody's member
    assert _post(client, action, {"enterprise": ""}, "/admin/users").status_code == 403   # nor unlink anyone
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    console_login(client, "admin1", "admin-pass-1")
    assert _post(client, action, {"enterprise": VICTIM}, "/admin/users").status_code == 302


def test_department_staff_cannot_broadcast_to_everyone_or_change_the_policy_base(client, settings, accounts):
    """Attacker pass, session 9: a 经发局 account queued a broadcast to every follower and took a park-wide
    policy down. Both reach every owner, not one department's: admins and unscoped accounts only."""
    with accounts.db.session() as session:
        demo.seed(session)
        policy_id = policy_store.by_title(session, "创业担保贷款及贴息（演示）").id
    console_login(client, "power", "power-pass-1")
    sent = _post(client, "/admin/broadcasts", {"title": "t", "body": "b", "url": "", "target": "all"},
                 "/admin/broadcasts")
    assert sent.status_code == 403
    assert _post(client, f"/admin/policies/{policy_id}/expire", {}, "/admin/policies").status_code == 403
    with accounts.db.session() as session:
        assert broadcast_store.recent(session) == []
        assert policy_store.row(session, policy_id).is_current(clock.today())

"""Department-scoped staff escaping their scope (attacker pass on issue #11).

A staff account scoped to one department could mint itself an invitation code for any enterprise
(and so read that firm's tickets in the chat), decide membership claims, and read every user's
failed message on 未处理消息. Those now need an admin (codes, claims) or an unscoped account (queue).
"""
from __future__ import annotations

import re

from helpers import OfficialAccountUser, console_login, csrf

from bot import demo
from storage import enterprises

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

"""Small drivers that talk to the app through its real HTTP entry points."""
from __future__ import annotations

import re

from payloads import group_json, oa_event, oa_xml, plain_query, reply_content


class OfficialAccountUser:
    """A WeChat user typing into the Official Account."""

    def __init__(self, client, settings, user: str = "openid-1"):
        self.client, self.settings, self.user = client, settings, user

    def post(self, xml: str, **query):
        return self.client.post(f"/wechat?{plain_query(self.settings.wechat.token, **query)}",
                                data=xml.encode("utf-8"), content_type="text/xml")

    def say(self, text: str, msg_id: str | None = None) -> str | None:
        response = self.post(oa_xml(text, user=self.user, msg_id=msg_id))
        assert response.status_code == 200, response.data
        return reply_content(response.get_data(as_text=True))

    def event(self, name: str, **fields) -> str | None:
        response = self.post(oa_event(name, user=self.user, **fields))
        assert response.status_code == 200, response.data
        return reply_content(response.get_data(as_text=True))


class GroupMember:
    def __init__(self, client, settings, name: str = "张三", sender_id: str = "wxid-zhang"):
        self.client, self.settings, self.name, self.sender_id = client, settings, name, sender_id

    def say(self, text: str, mentioned: bool = False, **extra):
        body, headers = group_json(self.settings.group_webhook_secret, text, mentioned=mentioned,
                                   sender_id=self.sender_id, sender_name=self.name, **extra)
        response = self.client.post("/group", data=body, headers=headers)
        assert response.status_code == 200, response.data
        return response.get_json()["reply"]


def csrf(client, path: str = "/admin/login") -> str:
    """The CSRF token of a console page's forms."""
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def console_login(client, username: str, password: str):
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": csrf(client)})

"""Issue #11 (4, 11): the channel endpoints.

- The URL check echoed `echostr` as text/html: a script in it ran in the browser of logged-in staff.
- Plaintext callbacks were accepted although the account was set to safe mode (AES only).
- /group: deeply nested JSON was a 500, a body without `timestamp` skipped the replay window, and
  fields of the wrong type went through.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from payloads import (
    group_json,
    oa_encrypted,
    oa_xml,
    plain_query,
    reply_content,
    sign_group,
    wecom_echostr_query,
)
from sqlalchemy import func, select

from storage import messages
from storage.models import InboundMessage

SCRIPT = "<script>fetch('/admin/accounts',{method:'POST'})</script>"


def _assert_plain_echo(response, echostr: str) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data(as_text=True) == echostr


def test_official_account_url_check_echoes_a_script_as_plain_text(client, settings):
    response = client.get(f"/wechat?{plain_query(settings.wechat.token, echostr=SCRIPT)}")
    _assert_plain_echo(response, SCRIPT)


def test_wecom_url_check_echoes_a_script_as_plain_text(client, settings):
    _assert_plain_echo(client.get(f"/wecom?{wecom_echostr_query(settings, SCRIPT)}"), SCRIPT)


def _with_mode(make_app, settings, mode: str):
    return make_app(wechat=replace(settings.wechat, encrypt_mode=mode)).test_client()


def _plaintext(client, settings, text="菜单", user="openid-plain"):
    return client.post(f"/wechat?{plain_query(settings.wechat.token)}", data=oa_xml(text, user=user).encode(),
                       content_type="text/xml")


def _encrypted(client, settings, text="菜单", user="openid-aes"):
    query, body, crypto = oa_encrypted(settings, oa_xml(text, user=user))
    return client.post(f"/wechat?{query}", data=body.encode(), content_type="text/xml"), crypto


def test_safe_mode_refuses_plaintext_callbacks(make_app, settings):
    client = _with_mode(make_app, settings, "safe")
    forged = _plaintext(client, settings)
    assert forged.status_code == 403
    assert forged.get_data(as_text=True) == "403 plaintext callbacks are refused: the account is in safe mode"
    answer, crypto = _encrypted(client, settings)
    assert answer.status_code == 200
    assert "园区联企助手" in reply_content(crypto.decrypt_message(answer.get_data(as_text=True),
                                                              *_reply_signature(answer.get_data(as_text=True))))
    services = client.application.extensions["bot"]
    with services.db.session() as session:
        assert messages.count(session, "wechat") == 1          # only the encrypted one was taken


def _reply_signature(xml: str):
    from defusedxml import ElementTree
    root = ElementTree.fromstring(xml)
    return root.findtext("MsgSignature"), root.findtext("TimeStamp"), root.findtext("Nonce")


def test_plain_mode_refuses_encrypted_callbacks(make_app, settings):
    client = _with_mode(make_app, settings, "plain")
    answer, _ = _encrypted(client, settings)
    assert answer.status_code == 403
    assert "园区联企助手" in reply_content(_plaintext(client, settings).get_data(as_text=True))


def test_compatible_mode_takes_both(make_app, settings):
    client = _with_mode(make_app, settings, "compatible")
    assert _plaintext(client, settings).status_code == 200
    assert _encrypted(client, settings)[0].status_code == 200


def test_the_shipped_config_is_compatible(settings):
    assert settings.wechat.encrypt_mode == "compatible"


def _post_group(client, settings, body: bytes):
    return client.post("/group", data=body, headers=sign_group(settings.group_webhook_secret, body))


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_deeply_nested_group_json_is_400(client, settings, depth):
    nested = b'{"msg_id": 1, "group_id": "g", "sender_id": "s", "text": ' + b"[" * depth + b"]" * depth + b"}"
    response = _post_group(client, settings, nested)
    assert response.status_code == 400
    assert response.get_json()["error"] == "JSON nested too deeply"
    bare = _post_group(client, settings, b"[" * depth + b"]" * depth)
    assert bare.status_code == 400


def _group_payload(**changes) -> bytes:
    payload = dict(msg_id="m-1", group_id="group-1", group_name="联企一群", sender_id="wxid-1", sender_name="张三",
                   text="菜单", mentioned=True, timestamp=int(time.time()))
    payload.update(changes)
    return json.dumps({k: v for k, v in payload.items() if v is not ...}, ensure_ascii=False).encode()


def test_group_body_without_timestamp_is_400_while_the_replay_window_is_on(client, settings, services):
    response = _post_group(client, settings, _group_payload(timestamp=...))
    assert response.status_code == 400
    assert response.get_json()["error"] == "field timestamp missing or not an integer"
    with services.db.session() as session:
        assert messages.count(session, "group") == 0


def test_group_body_without_timestamp_is_taken_when_the_window_is_off(make_app, settings):
    client = make_app(timestamp_window_s=0).test_client()
    response = _post_group(client, settings, _group_payload(timestamp=...))
    assert response.status_code == 200 and response.get_json()["reply"]


@pytest.mark.parametrize("timestamp", ["now", str(int(time.time())), 1.7e9, True, None, [1]])
def test_group_timestamp_that_is_not_an_integer_is_400(client, settings, timestamp):
    response = _post_group(client, settings, _group_payload(timestamp=timestamp))
    assert response.status_code == 400
    assert response.get_json()["error"] == "field timestamp missing or not an integer"


def test_stale_group_timestamp_is_still_a_replay(client, settings):
    assert _post_group(client, settings, _group_payload(timestamp=int(time.time()) - 3600)).status_code == 403


@pytest.mark.parametrize("field, value", [
    ("text", 5), ("text", ["菜单"]), ("text", {"a": 1}), ("sender_id", 1), ("group_id", None),
    ("sender_name", {"nick": "张三"}), ("group_name", ["一群"]), ("sender_name", 12),
    ("mentioned", "true"), ("mentioned", 1), ("msg_id", 1.5), ("msg_id", [1]),
])
def test_group_fields_of_the_wrong_type_are_400(client, settings, services, field, value):
    response = _post_group(client, settings, _group_payload(**{field: value}))
    assert response.status_code == 400
    assert field in response.get_json()["error"]
    with services.db.session() as session:
        assert messages.count(session, "group") == 0


def test_a_well_formed_group_message_still_gets_its_answer(client, settings):
    body, headers = group_json(settings.group_webhook_secret, "菜单", mentioned=True)
    response = client.post("/group", data=body, headers=headers)
    assert response.status_code == 200 and "园区联企助手" in response.get_json()["reply"]


def test_a_signed_url_seen_once_cannot_carry_another_body(client, settings, services):
    """Found by the attacker pass: the plaintext signature covers timestamp and nonce, not the body, so a
    signed query copied from an access log carried a forged message as another follower within 300 s."""
    query = plain_query(settings.wechat.token)
    genuine = oa_xml("你好", user="openid-genuine")
    first = client.post(f"/wechat?{query}", data=genuine, content_type="text/xml")
    assert first.status_code == 200
    retry = client.post(f"/wechat?{query}", data=genuine, content_type="text/xml")
    assert retry.status_code == 200 and reply_content(retry.data) == reply_content(first.data)
    forged = client.post(f"/wechat?{query}", data=oa_xml("我的诉求", user="openid-victim"), content_type="text/xml")
    assert forged.status_code == 403
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)
                              .where(InboundMessage.text == "我的诉求")) == 0

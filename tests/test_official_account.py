"""The Official Account callback: handshake, every message type, safe mode, hostile input."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from defusedxml import ElementTree
from helpers import OfficialAccountUser
from payloads import cdata, oa_encrypted, oa_xml, plain_query, reply_content

from storage import messages, users

VECTORS = Path(__file__).resolve().parent / "data/wechat-vectors"   # WeChat's published samples


def test_handshake_echoes_echostr_for_a_valid_signature(client, settings):
    response = client.get(f"/wechat?{plain_query(settings.wechat.token, echostr='hello123')}")
    assert response.status_code == 200
    assert response.data == b"hello123"


def test_forged_signature_is_403(client, settings):
    query = plain_query("not-the-token", echostr="x")
    assert client.get(f"/wechat?{query}").status_code == 403
    assert client.post(f"/wechat?{query}", data=oa_xml("你好").encode()).status_code == 403


def test_stale_timestamp_is_a_replay(client, settings):
    old = str(int(time.time()) - 3600)
    response = client.get(f"/wechat?{plain_query(settings.wechat.token, timestamp=old, echostr='x')}")
    assert response.status_code == 403


def test_upstream_signature_vectors_with_the_window_off(make_app):
    vectors = VECTORS / "crypto"
    good = json.loads((vectors / "plain_signature_ok.json").read_text())
    bad = json.loads((vectors / "plain_signature_bad.json").read_text())
    app = make_app(timestamp_window_s=0)
    from dataclasses import replace
    settings = app.extensions["bot"].settings
    app.extensions["bot"].settings = replace(settings, wechat=replace(settings.wechat, token=good["token"]))
    client = app.test_client()
    for vector, status in ((good, 200), (bad, 403)):
        query = f"signature={vector['signature']}&timestamp={vector['timestamp']}&nonce={vector['nonce']}&echostr=ok"
        assert client.get(f"/wechat?{query}").status_code == status


def test_text_message_is_stored_and_answered(client, settings, services):
    reply = OfficialAccountUser(client, settings).say("你能干什么")
    assert "园区联企助手" in reply
    with services.db.session() as session:
        assert messages.count(session, "wechat") == 1
        user = users.find(session, "wechat", "openid-1")
        assert user is not None and user.last_inbound_at is not None


@pytest.mark.parametrize("name", sorted(p.name for p in (VECTORS / "messages").glob("*.xml")) )
def test_every_upstream_message_sample_gets_a_clean_answer(client, settings, name):
    xml = (VECTORS / "messages" / name).read_text()
    response = OfficialAccountUser(client, settings).post(xml)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    if body != "success":
        assert ElementTree.fromstring(body).findtext("MsgType") == "text"


def test_voice_uses_the_recognised_text(client, settings):
    xml = oa_xml(msg_type="voice", MediaId="m1", Format="amr", Recognition="怎么用你")
    reply = reply_content(OfficialAccountUser(client, settings).post(xml).get_data(as_text=True))
    assert "园区联企助手" in reply


def test_image_is_acknowledged(client, settings):
    xml = oa_xml(msg_type="image", PicUrl="http://example.invalid/p.jpg", MediaId="m2")
    reply = reply_content(OfficialAccountUser(client, settings).post(xml).get_data(as_text=True))
    assert "图片" in reply


def test_subscribe_welcomes_and_unsubscribe_stops_pushes(client, settings, services):
    user = OfficialAccountUser(client, settings, "openid-sub")
    assert "欢迎关注" in user.event("subscribe")
    assert user.event("unsubscribe") is None
    with services.db.session() as session:
        assert users.find(session, "wechat", "openid-sub").followed is False


def test_menu_clicks_act_like_typing_the_item(client, settings):
    user = OfficialAccountUser(client, settings)
    assert "园区联企助手" in user.event("CLICK", EventKey="MENU_HELP")
    assert "描述一下遇到的问题" in user.event("CLICK", EventKey="MENU_COMPLAINT")   # starts the guided flow
    assert "已取消" in user.say("取消")
    assert "没有办理中的诉求" in user.event("CLICK", EventKey="MENU_STATUS")
    assert "工作人员" in user.event("CLICK", EventKey="MENU_HUMAN")


def test_safe_mode_reply_is_encrypted(client, settings):
    query, body, crypto = oa_encrypted(settings, oa_xml("帮助"))
    response = client.post(f"/wechat?{query}", data=body.encode(), content_type="text/xml")
    assert response.status_code == 200
    envelope = response.get_data(as_text=True)
    assert "<Encrypt>" in envelope and "园区" not in envelope
    root = ElementTree.fromstring(envelope)
    plain = crypto.decrypt_message(envelope, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                                   root.findtext("Nonce"))
    assert "园区联企助手" in reply_content(plain)


def test_compatible_mode_uses_the_encrypted_copy(client, settings):
    query, body, _ = oa_encrypted(settings, oa_xml("帮助"))
    compatible = body.replace("<Encrypt>", f"<MsgType>{cdata('text')}</MsgType><Content>{cdata('转人工')}</Content><Encrypt>")
    response = client.post(f"/wechat?{query}", data=compatible.encode(), content_type="text/xml")
    assert response.status_code == 200
    assert "<Encrypt>" in response.get_data(as_text=True)


def test_upstream_aes_vector_decrypts_to_the_test_message(make_app):
    vector = json.loads((VECTORS / "crypto/aes_decrypt_text.json").read_text())
    body = (VECTORS / "crypto/aes_decrypt_text.request.xml").read_text()
    app = make_app(timestamp_window_s=0)
    from dataclasses import replace
    services = app.extensions["bot"]
    services.settings = replace(services.settings, wechat=replace(
        services.settings.wechat, token=vector["token"], aes_key=vector["encoding_aes_key"],
        app_id=vector["receive_id"]))
    query = (f"signature={vector['derived_plain_signature']}&timestamp={vector['timestamp']}&nonce={vector['nonce']}"
             f"&encrypt_type=aes&msg_signature={vector['msg_signature']}")
    response = app.test_client().post(f"/wechat?{query}", data=body.encode(), content_type="text/xml")
    assert response.status_code == 200
    with services.db.session() as session:
        assert users.find(session, "wechat", "messense") is not None
    tampered = query.replace(vector["nonce"], "461056295")
    assert app.test_client().post(f"/wechat?{tampered}", data=body.encode()).status_code == 403


def test_cdata_terminator_and_control_characters_do_not_break_the_reply(client, settings, services):
    text = "绑定企业 ]]><evil/>\x01\x02武陵云"
    response = OfficialAccountUser(client, settings).post(oa_xml(text))
    assert response.status_code == 200
    reply = reply_content(response.get_data(as_text=True))
    assert reply and "]]><evil/>" in reply   # the user's text survives, escaped


@pytest.mark.parametrize("body,status", [
    (b"<xml><Content>unclosed", 400),
    (b"not xml at all", 400),
    (b"\xff\xfe\xfa", 400),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>', 400),
    (b'<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>', 400),
    (b"<root><Content>x</Content></root>", 400),
    (b"<xml><MsgType>text</MsgType></xml>", 400),
    (b"", 400),
])
def test_hostile_or_malformed_xml_is_4xx(client, settings, body, status):
    response = client.post(f"/wechat?{plain_query(settings.wechat.token)}", data=body, content_type="text/xml")
    assert response.status_code == status
    assert b"Traceback" not in response.data


def test_oversized_body_is_413(client, settings):
    huge = oa_xml("很长" * 600_000).encode()
    response = client.post(f"/wechat?{plain_query(settings.wechat.token)}", data=huge, content_type="text/xml")
    assert response.status_code == 413


def test_long_text_still_gets_a_reply_within_limits(client, settings):
    reply = OfficialAccountUser(client, settings).say("停电" * 20000)
    assert reply is not None and len(reply.encode()) <= 2048

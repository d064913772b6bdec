"""The WeCom app callback: URL verification and encrypted messages."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

from defusedxml import ElementTree
from payloads import oa_xml, reply_content, wecom_encrypted

VECTORS = Path(__file__).resolve().parent / "data/wechat-vectors"   # WeChat's published samples


def _with_vector(app, vector):
    services = app.extensions["bot"]
    services.settings = replace(services.settings, wecom=replace(
        services.settings.wecom, token=vector["token"], aes_key=vector["encoding_aes_key"],
        corp_id=vector["receive_id"]))
    return app.test_client()


def _verify_query(vector):
    return urlencode({k: vector[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")})


def test_url_verification_returns_the_decrypted_echostr(make_app):
    vector = json.loads((VECTORS / "crypto/wecom_verify_url_ok.json").read_text())
    client = _with_vector(make_app(timestamp_window_s=0), vector)
    response = client.get(f"/wecom?{_verify_query(vector)}")
    assert response.status_code == 200
    assert response.data.decode() == vector["expected_plaintext"]


def test_url_verification_with_a_wrong_nonce_is_403(make_app):
    vector = json.loads((VECTORS / "crypto/wecom_verify_url_bad_nonce.json").read_text())
    client = _with_vector(make_app(timestamp_window_s=0), vector)
    assert client.get(f"/wecom?{_verify_query(vector)}").status_code == 403


def test_upstream_encrypted_message_is_accepted(make_app):
    vector = json.loads((VECTORS / "crypto/aes_decrypt_text.json").read_text())
    body = (VECTORS / "crypto/aes_decrypt_text.request.xml").read_text()
    client = _with_vector(make_app(timestamp_window_s=0), vector)
    query = urlencode({k: vector[k] for k in ("msg_signature", "timestamp", "nonce")})
    response = client.post(f"/wecom?{query}", data=body.encode(), content_type="text/xml")
    assert response.status_code == 200
    assert "<Encrypt>" in response.get_data(as_text=True)


def test_encrypted_message_gets_an_encrypted_answer(client, settings):
    query, body, crypto = wecom_encrypted(settings, oa_xml("菜单", user="zhangsan", agent_id="1000002"))
    response = client.post(f"/wecom?{query}", data=body.encode(), content_type="text/xml")
    assert response.status_code == 200
    envelope = response.get_data(as_text=True)
    root = ElementTree.fromstring(envelope)
    plain = crypto.decrypt_message(envelope, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                                   root.findtext("Nonce"))
    assert "园区联企助手" in reply_content(plain)


def test_forged_wecom_signature_is_403(client, settings):
    query, body, _ = wecom_encrypted(settings, oa_xml("菜单", agent_id="1"))
    forged = query.replace("msg_signature=", "msg_signature=0")
    assert client.post(f"/wecom?{forged}", data=body.encode()).status_code == 403


def test_wecom_without_encrypt_is_400(client, settings):
    assert client.post("/wecom?msg_signature=x&timestamp=1&nonce=1", data=oa_xml("hi").encode()).status_code == 400

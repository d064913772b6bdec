"""A pending question survives a restart, and a ticket resolved outside the chat keeps its 30-day
rating window (issue 12: both broke while flows registered themselves on the first chat message)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests
from helpers import OfficialAccountUser
from payloads import oa_xml, plain_query, reply_content

from bot import create_app
from storage import complaints as store
from storage import enterprises, identity, users

ROOT = Path(__file__).resolve().parent.parent
OWNER = "openid-restart"


def _cli(env, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _verified_owner(services) -> None:
    """A verified member of an enterprise with a known phone: filing asks nothing more, so the rating
    question is the one pending once the ticket is resolved."""
    with services.db.session() as session:
        enterprise, _ = enterprises.upsert(session, "湘西龙腾酒业有限公司")
        user = users.get_or_create(session, "wechat", OWNER, "龙总")
        user.phone = "13800001111"
        identity.staff_link(session, user, enterprise, "test")
        session.commit()


def _file_and_resolve_from_the_cli(client, settings, services, cli_env) -> str:
    _verified_owner(services)
    owner = OfficialAccountUser(client, settings, OWNER)
    reply = owner.say("我们厂门口的路灯坏了一个星期了，晚上下班很不安全，在西区纬二路")
    with services.db.session() as session:
        ticket = store.listing(session)[0].ticket_no
    assert ticket in reply
    _cli(cli_env, "complaints", "update", ticket, "--status", "resolved", "--public", "路灯已修好")
    return ticket


@pytest.mark.e2e
def test_a_rating_sent_to_a_freshly_started_server_is_taken(client, settings, services, cli_env,
                                                           running_server):
    """Resolved from the CLI, then a new `python -m bot serve` process: "5" is the rating, not a menu."""
    ticket = _file_and_resolve_from_the_cli(client, settings, services, cli_env)
    response = requests.post(f"{running_server}/wechat?{plain_query(settings.wechat.token)}",
                             data=oa_xml("5", user=OWNER).encode(), headers={"Content-Type": "text/xml"}, timeout=30)
    assert response.status_code == 200
    answer = reply_content(response.text)
    assert "感谢您的评价" in answer and ticket in answer
    with services.db.session() as session:
        complaint = store.by_ticket(session, ticket)
        assert complaint.status == "closed" and complaint.rating == 5


def test_a_ticket_resolved_from_the_cli_waits_thirty_days_for_its_rating(client, settings, services, cli_env):
    _file_and_resolve_from_the_cli(client, settings, services, cli_env)
    keys = [k for k in services.redis.scan_iter(match=f"conv:wechat:*:{OWNER}")]
    assert len(keys) == 1
    days_left = services.redis.ttl(keys[0]) / 86400
    assert days_left > 29, f"the rating window is {days_left:.3f} days"


def test_a_fresh_app_answers_a_pending_question_it_did_not_ask(client, settings, services, cli_env):
    """A second app in this process (as after a restart) takes the rating the first one's ticket asked for."""
    ticket = _file_and_resolve_from_the_cli(client, settings, services, cli_env)
    fresh = create_app(settings=settings).test_client()   # the database and Redis as they are
    answer = OfficialAccountUser(fresh, settings, OWNER).say("非常满意")
    assert "感谢您的评价" in answer and ticket in answer

"""Configuration sections are typed and validated once; every key does what config.yaml says."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import OfficialAccountUser

from bot.config import ConfigError, load_settings
from storage import meetings as meeting_store
from storage import messages
from tests.configs import write_config

ROOT = Path(__file__).resolve().parent.parent


def _load(tmp_path, changes: dict):
    return load_settings(write_config(tmp_path / "c.yaml", changes), environ={"BOT_ENV": "test"}, var_dir=tmp_path)


@pytest.mark.parametrize("changes, named", [
    ({"meetings": {"reminder_lead_hours": -1}}, "meetings.reminder_lead_hours"),
    ({"meetings": {"per_enterprise_limit": 1.5}}, "meetings.per_enterprise_limit"),
    ({"meetings": {"per_enterprise_limt": 2}}, "meetings.per_enterprise_limt"),
    ({"broadcasts": {"batch_size": "many"}}, "broadcasts.batch_size"),
    ({"broadcasts": {"backoff_s": "5,30"}}, "broadcasts.backoff_s"),
    ({"broadcasts": {"rate_limits": {"wechat_per_second": "fast"}}}, "broadcasts.rate_limits"),
    ({"intent_threshold": 2}, "intent_threshold"),
])
def test_a_wrong_value_is_refused_at_start_with_its_name(tmp_path, changes, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        _load(tmp_path, changes)


def test_the_shipped_sections_load_typed(tmp_path):
    settings = _load(tmp_path, {})
    assert settings.meetings.per_enterprise_limit == 2 and settings.meetings.reminder_lead_hours == 24
    assert settings.broadcasts.backoff_s == (5, 30, 120, 600) and settings.broadcasts.rate_limits["wecom_group_per_minute"] == 20
    assert settings.intent_threshold is None   # the model's own threshold


def test_a_configured_intent_threshold_overrides_the_models(make_app, settings, services):
    """At 1.0 nothing is certain enough: a clear policy question is kept as "other" (offered, not answered)."""
    client = make_app(intent_threshold=1.0).test_client()
    OfficialAccountUser(client, settings, "openid-threshold").say("研发费用加计扣除政策怎么申请啊", msg_id="7001")
    with services.db.session() as session:
        assert messages.find(session, "wechat", "7001").intent == "other"
    client = make_app().test_client()
    OfficialAccountUser(client, settings, "openid-threshold").say("研发费用加计扣除政策怎么申请啊", msg_id="7002")
    with services.db.session() as session:
        assert messages.find(session, "wechat", "7002").intent == "policy.query"


def test_a_new_meeting_takes_the_configured_seats_per_enterprise(cli_env, services, tmp_path):
    config = write_config(tmp_path / "limit.yaml", {"meetings": {"per_enterprise_limit": 3}}, base=Path(cli_env["BOT_CONFIG"]))
    done = subprocess.run([sys.executable, "-m", "bot", "meetings", "create", "--title", "乡情湘味政企早茶会",
                           "--starts-at", "2099-03-01T07:30", "--venue", "园区会议室", "--capacity", "20"],
                          cwd=ROOT, env=dict(cli_env, BOT_CONFIG=str(config)), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with services.db.session() as session:
        [meeting] = meeting_store.all_meetings(session)
        assert meeting.per_enterprise_limit == 3

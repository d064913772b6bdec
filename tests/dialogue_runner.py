"""Runs the owner-side conversations of tests/dialogues/*.yaml through the real HTTP entry points.

A conversation is set up with storage.* calls (roster, the user linked, tickets back-dated, a meeting
with so many seats left, the demo policies), then each turn is sent as the platform sends it:

  - channel wechat: a signed Official Account XML callback (a fresh nonce each time, tests/payloads.py);
    the reply is the passive reply plus every push to that openid the fake WeChat API received meanwhile;
  - channel group: an encrypted callback of the WeCom intelligent robot (/wecom/aibot, tests/aibot_payloads.py)
    from the turn's sender in the conversation's group chat; the reply is the stream answer (plus the
    markdown posted to the callback's response_url when the answer came late). WeCom delivers a group
    message to the robot only when it is @-mentioned, so a `mention: false` turn goes through the one
    entry point that carries unmentioned group messages, the JSON group bridge (POST /group);
  - event restart: a new app on the same settings (the database and Redis keep everything);
  - event staff_resolves_last_ticket: the ticket resolved by the service `complaints update --status
    resolved` calls.

After a turn its `expect` is checked: reply_has / reply_lacks on the text as sent, `state` read from the
database with storage.* functions. The first mismatch fails the conversation with its transcript.

How the format's words are read:
  - a user or sender with `verified: true` is linked by staff (identity.staff_link); with an enterprise
    but not verified, they have a pending claim to it (identity.file_claim), as "绑定企业" leaves them;
  - tickets / last_ticket: what the person owns (storage.complaints.of_owner: their verified enterprise's
    tickets and their own); last_ticket is the one filed or touched (merged into, resolved…) last; its
    `enterprise` is the verified one, else the name an unverified filer gave (claimed_enterprise);
  - signups.confirmed: confirmed seats of the person's verified enterprise (of the person without one);
  - subscriptions: the person's active topics ("全部" for everything), 0 for none;
  - setup.meeting: one open meeting next week, capacity 10 (or more), the seats not left taken by someone
    else; each enterprise may bring 2 (config.yaml's default); setup.policies demo: the demo policy file.

With DIALOGUE_REPORT=FILE every conversation's outcome and transcript is appended to FILE (JSON lines).
"""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from aibot_payloads import WeComRobotServer, text_message
from helpers import GroupMember, OfficialAccountUser

from bot import create_app

# The only bot services the runner calls (the lead is moving bot/ into packages: fix these lines only).
from bot.complaints import service as ticket_service
from bot.policies import service as policy_service
from storage import aibot_replies, complaints, enterprises, identity, meetings, messages, policies, users
from storage.models import Enterprise, utcnow

DIALOGUES = Path(__file__).resolve().parent / "dialogues"
KNOWN_FAILURES = DIALOGUES / "known_failures.txt"
PARK_TZ = ZoneInfo("Asia/Shanghai")
ACTOR = "dialogue-test"
WECHAT_PUSH_PATHS = ("/cgi-bin/message/custom/send", "/cgi-bin/message/template/send")
AIBOT_RESPONSE_PATH = "/cgi-bin/aibot/response"
LATE_ANSWER_WAIT_S = 30.0

# --- the format ---

CONVERSATION_KEYS = {"name", "about", "channel", "group_id", "user", "setup", "turns"}
PERSON_KEYS = {"id", "name", "enterprise", "verified", "phone"}
SETUP_KEYS = {"meeting", "tickets", "policies"}
TICKET_KEYS = {"text", "category", "status", "days_ago"}
TURN_KEYS = {"say", "event", "expect", "sender", "mention"}
EVENTS = {"restart", "staff_resolves_last_ticket"}
EXPECT_KEYS = {"reply_has", "reply_lacks", "state"}
STATE_KEYS = {"tickets", "last_ticket", "subscriptions", "signups"}
LAST_TICKET_KEYS = {"category", "status", "enterprise", "text_has"}


class FormatError(ValueError):
    """A conversation the runner cannot read: a typo in a key, a missing field."""


def _keys(where: str, data, allowed: set[str], required: set[str] = frozenset()) -> None:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: expected a mapping, got {data!r}")
    if unknown := set(data) - allowed:
        raise FormatError(f"{where}: unknown key(s) {sorted(unknown)}")
    if missing := set(required) - set(data):
        raise FormatError(f"{where}: missing key(s) {sorted(missing)}")


def validate(conv: dict) -> None:
    name = conv.get("name", "?")
    _keys(name, conv, CONVERSATION_KEYS, {"name", "channel", "turns"})
    if conv["channel"] not in ("wechat", "group"):
        raise FormatError(f"{name}: channel must be wechat or group")
    if conv["channel"] == "wechat":
        _keys(f"{name}.user", conv.get("user"), PERSON_KEYS, {"id"})
    elif "user" in conv:
        _keys(f"{name}.user", conv["user"], PERSON_KEYS, {"id"})
    setup = conv.get("setup") or {}
    _keys(f"{name}.setup", setup, SETUP_KEYS)
    if "meeting" in setup:
        _keys(f"{name}.setup.meeting", setup["meeting"], {"seats_left"}, {"seats_left"})
    if setup.get("policies", "demo") != "demo":
        raise FormatError(f"{name}.setup.policies: only `demo` is known")
    for ticket in setup.get("tickets") or []:
        _keys(f"{name}.setup.tickets[]", ticket, TICKET_KEYS, {"text", "category", "status"})
    if setup.get("tickets") and "user" not in conv:
        raise FormatError(f"{name}: setup.tickets need a `user` to own them")
    for n, turn in enumerate(conv["turns"], 1):
        where = f"{name}.turns[{n}]"
        _keys(where, turn, TURN_KEYS)
        if ("say" in turn) == ("event" in turn):
            raise FormatError(f"{where}: a turn has either `say` or `event`")
        if "event" in turn and turn["event"] not in EVENTS:
            raise FormatError(f"{where}: unknown event {turn['event']!r}")
        if "say" in turn and conv["channel"] == "group":
            _keys(f"{where}.sender", turn.get("sender"), PERSON_KEYS, {"id"})
        expect = turn.get("expect") or {}
        _keys(f"{where}.expect", expect, EXPECT_KEYS)
        state = expect.get("state") or {}
        _keys(f"{where}.expect.state", state, STATE_KEYS)
        if "last_ticket" in state:
            _keys(f"{where}.expect.state.last_ticket", state["last_ticket"], LAST_TICKET_KEYS)
        if "signups" in state:
            _keys(f"{where}.expect.state.signups", state["signups"], {"confirmed"}, {"confirmed"})


@dataclass
class Conversation:
    name: str
    file: str
    data: dict = field(repr=False)


def load_all() -> list[Conversation]:
    found: list[Conversation] = []
    for path in sorted(DIALOGUES.glob("*.yaml")):
        for conv in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            found.append(Conversation(str(conv.get("name")), path.name, conv))
    return found


def load_known_failures(path: Path = KNOWN_FAILURES) -> dict[str, str]:
    """{name: reason}: one name a line; a `# reason` line gives the reason of the names below it,
    a trailing `# …` on a name line its own. Duplicates are an error."""
    known: dict[str, str] = {}
    if not path.exists():
        return known
    reason = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            reason = line.lstrip("#").strip()
            continue
        name, _, own = line.partition("#")
        name = name.strip()
        if name in known:
            raise FormatError(f"{path.name}: {name} is listed twice")
        known[name] = own.strip() or reason
    return known


# --- running one conversation ---

class Mismatch(AssertionError):
    pass


def _strings(items) -> list[str]:
    return [str(item) for item in (items or [])]


def _person_key(person: dict) -> str:
    return str(person["id"])


class Runner:
    def __init__(self, conv: dict, make_app, settings, fake_api):
        validate(conv)
        self.conv, self.settings, self.fake_api = conv, settings, fake_api
        self.name = conv["name"]
        self.channel = conv["channel"]
        self.group_id = str(conv.get("group_id") or f"grp_{self.name}")
        self.app = make_app()          # a clean database and Redis
        self.robot = WeComRobotServer(settings.wecom_bot.token, settings.wecom_bot.aes_key)
        self.transcript: list[str] = []
        self.people: dict[str, dict] = {}     # id → the person's description (user and senders)

    # the app and its services (a restart replaces both)
    @property
    def services(self):
        return self.app.extensions["bot"]

    def run(self) -> None:
        self._setup()
        for n, turn in enumerate(self.conv["turns"], 1):
            if "event" in turn:
                reply, person = self._event(turn["event"]), self.conv.get("user")
                self.transcript.append(f"[{n}] <{turn['event']}>" + (f"\n    → {reply}" if reply else ""))
            else:
                reply, person = self._say(turn)
                who = f"{turn['sender'].get('name', turn['sender']['id'])}" if "sender" in turn else "用户"
                at = "" if turn.get("mention", True) or self.channel != "group" else " (未@)"
                self.transcript.append(f"[{n}] {who}{at}: {turn['say']}\n    → {reply}")
            self._check(n, turn.get("expect") or {}, reply, person)

    def fail(self, n: int, why: str) -> None:
        raise Mismatch(f"{self.name}: turn {n}: {why}\n--- transcript ---\n" + "\n".join(self.transcript))

    # --- setup ---

    def _setup(self) -> None:
        setup = self.conv.get("setup") or {}
        people = []
        if self.conv.get("user"):
            people.append(self.conv["user"])
        people += [t["sender"] for t in self.conv["turns"] if "sender" in t]
        with self.services.db.session() as session:
            known = set(enterprises.names(session))
            session.add_all([Enterprise(name=name, industry="", tags=[], contacts=[], profile={})
                             for name in roster_names() if name not in known])
            session.flush()
            for person in people:
                self._person(session, person, self._channels_of(person))
            if setup.get("policies") == "demo":
                policy_service.seed_demo(self.services, session)
            if "meeting" in setup:
                self._meeting(session, int(setup["meeting"]["seats_left"]))
            for ticket in setup.get("tickets") or []:
                self._ticket(session, ticket)

    def _channels_of(self, person: dict) -> set[str]:
        """The channels this person writes on: wechat, or in a group the robot (wecom) and, for unmentioned
        messages, the group bridge (group)."""
        if self.channel == "wechat":
            return {"wechat"}
        found = set()
        for turn in self.conv["turns"]:
            if "sender" in turn and str(turn["sender"]["id"]) == str(person["id"]):
                found.add("wecom" if turn.get("mention", True) else "group")
        return found or {"wecom"}

    def _person(self, session, person: dict, channels: set[str]) -> None:
        key = _person_key(person)
        if key in self.people and self.people[key] != person:
            known = self.people[key]
            merged = {**known, **person}
            if any(known.get(k) != merged.get(k) for k in ("enterprise", "verified")):
                raise FormatError(f"{self.name}: person {key} is described differently in two places")
        self.people[key] = {**self.people.get(key, {}), **person}
        for channel in channels:
            user = users.get_or_create(session, channel, key, str(person.get("name") or ""))
            if person.get("phone"):
                user.phone = str(person["phone"])
            if person.get("enterprise") and user.enterprise_id is None and \
                    identity.pending_claim(session, user.id) is None:
                enterprise = enterprises.by_name(session, person["enterprise"])
                if person.get("verified"):
                    identity.staff_link(session, user, enterprise, ACTOR)
                else:          # unverified: the user says so (a claim staff have not decided yet)
                    identity.file_claim(session, user, enterprise, "command")
            session.flush()

    def _meeting(self, session, seats_left: int) -> None:
        """Next week's breakfast meeting with `seats_left` seats free; the others taken by someone else."""
        capacity = max(10, seats_left)
        start = (datetime.now(PARK_TZ).replace(tzinfo=None, microsecond=0) + timedelta(days=7)) \
            .replace(hour=7, minute=30, second=0)
        meeting = meetings.create(session, title="乡情湘味政企早茶会", theme="农产品加工与食品", host="园区党工委书记",
                                  starts_at=start, venue="管委会三楼会议室", capacity=capacity,
                                  per_enterprise_limit=2, signup_deadline=start - timedelta(days=1), sector="",
                                  status="open")
        taken = capacity - seats_left
        if taken:
            filler = users.get_or_create(session, "wechat", f"seat-holder-{uuid.uuid4().hex[:8]}", "其他企业代表")
            assert meetings.take_seats(session, meeting.id, taken)
            meetings.add_signup(session, meeting_id=meeting.id, user_ref=filler.id, enterprise_id=None,
                                seats=taken, note="", status="confirmed", no_show=False, updated_at=utcnow())

    def _ticket(self, session, ticket: dict) -> None:
        """A ticket filed `days_ago`, routed and timed as config.yaml's complaints section says (written
        directly: filing through the service would merge the similar tickets some conversations need)."""
        owner = self._owner(session)
        conf = self.settings.extra["complaints"]
        route = conf["categories"].get(ticket["category"]) or conf["categories"]["其他"]
        created = utcnow() - timedelta(days=int(ticket.get("days_ago") or 0))
        day = created.replace(tzinfo=ZoneInfo("UTC")).astimezone(PARK_TZ).date()
        status = ticket["status"]
        complaint = complaints.create(
            session, ticket_no=complaints.next_ticket_no(session, day), kind="诉求", category=ticket["category"],
            department=route["department"], tier=route["tier"], description=ticket["text"], location="",
            contact_phone=owner.phone or "", source="wecom" if self.channel == "group" else "wechat",
            status=status, enterprise_id=owner.enterprise_id, user_ref=owner.id,
            accept_due=_working_days_after(day, int(conf.get("acceptance_days", 1))),
            due=_working_days_after(day, int(conf["tiers"][route["tier"]])), repeat_count=0, reopen_count=0,
            extended=False, warned=False, escalated=False, rating_reminded=False, rating_comment="",
            created_at=created,
            resolved_at=created + timedelta(days=1) if status in ("resolved", "closed") else None,
            closed_at=created + timedelta(days=1) if status == "closed" else None)
        complaints.add_event(session, complaint, "user", "filed", ticket["text"], public=True,
                             source=complaint.source)
        if status != "received":
            complaints.add_event(session, complaint, ACTOR, "status", "", status=status, previous="received")

    def _owner(self, session):
        """The conversation's user on the channel they write on."""
        person = self.conv["user"]
        channel = "wechat" if self.channel == "wechat" else sorted(self._channels_of(person))[0]
        return users.get_or_create(session, channel, _person_key(person))

    # --- turns ---

    def _say(self, turn: dict) -> tuple[str, dict]:
        text = str(turn["say"])
        if self.channel == "wechat":
            return self._say_wechat(text), self.conv["user"]
        sender = turn["sender"]
        if turn.get("mention", True):
            return self._say_robot(sender, text), sender
        return self._say_bridge(sender, text), sender

    def _calls_since(self, mark: int) -> list[dict]:
        with self.fake_api.lock:
            return list(self.fake_api.calls[mark:])

    def _mark(self) -> int:
        with self.fake_api.lock:
            return len(self.fake_api.calls)

    def _say_wechat(self, text: str) -> str:
        mark = self._mark()
        passive = OfficialAccountUser(self.app.test_client(), self.settings, str(self.conv["user"]["id"])).say(text)
        return "\n".join(part for part in [passive or "", *self._pushes_since(mark)] if part)

    def _pushes_since(self, mark: int) -> list[str]:
        """What was pushed to the conversation's WeChat user since `mark`."""
        openid = str((self.conv.get("user") or {}).get("id", ""))
        texts = []
        for call in self._calls_since(mark):
            body = call.get("body") or {}
            if call["path"] in WECHAT_PUSH_PATHS and body.get("touser") == openid:
                texts.append(_push_text(body))
        return texts

    def _say_robot(self, sender: dict, text: str) -> str:
        code = uuid.uuid4().hex
        message = text_message(text, user=_person_key(sender), chat_id=self.group_id,
                               response_url=f"{self.fake_api.base}aibot/response?response_code={code}")
        query, body = self.robot.callback(message, nonce=uuid.uuid4().hex[:10])
        response = self.app.test_client().post(f"/wecom/aibot?{query}", data=body, content_type="application/json")
        answer = self.robot.answer(response)
        parts = []
        if answer is not None:
            if answer.get("msgtype") != "stream" or not answer["stream"].get("finish"):
                raise Mismatch(f"{self.name}: the robot's answer is not a finished stream: {answer}")
            parts.append(answer["stream"]["content"])
        self._wait_until_answered(f"aibot:{message['msgid']}")
        return "\n".join(parts + self._late_answers(code))

    def _wait_until_answered(self, dedupe_key: str) -> None:
        """An answer that missed the passive budget is still being made: wait until the message is
        answered and an answer queued for its response_url has been posted."""
        deadline = time.monotonic() + LATE_ANSWER_WAIT_S
        while time.monotonic() < deadline:
            with self.services.db.session() as session:
                stored = messages.find(session, "wecom", dedupe_key)
                late = aibot_replies.by_msgid(session, dedupe_key)
                if stored is not None and stored.handled_state != messages.PENDING and \
                        (late is None or late.status not in (aibot_replies.QUEUED, aibot_replies.SENDING)):
                    return
            time.sleep(0.05)
        raise Mismatch(f"{self.name}: no answer to {dedupe_key} within {LATE_ANSWER_WAIT_S:.0f} s")

    def _late_answers(self, code: str) -> list[str]:
        """Markdown posted to this callback's response_url (an answer that missed the passive budget, or
        the rest of a long one)."""
        with self.fake_api.lock:
            return [c["body"]["markdown"]["content"] for c in self.fake_api.calls
                    if c["path"] == AIBOT_RESPONSE_PATH and (c.get("query") or {}).get("response_code") == code
                    and isinstance(c.get("body"), dict) and "markdown" in c["body"]]

    def _say_bridge(self, sender: dict, text: str) -> str:
        member = GroupMember(self.app.test_client(), self.settings, str(sender.get("name") or ""), _person_key(sender))
        return member.say(text, mentioned=False, group_id=self.group_id) or ""

    def _event(self, name: str) -> str:
        if name == "restart":
            self.app = create_app(settings=self.settings)
            return ""
        mark = self._mark()
        with self.app.app_context(), self.services.db.session() as session:
            complaint = self._last_ticket(session, self.conv["user"])
            if complaint is None:
                raise FormatError(f"{self.name}: staff_resolves_last_ticket but the user has no ticket")
            ticket_service.change_status(self.services, session, complaint, "resolved", ACTOR)
        return "\n".join(self._pushes_since(mark))

    # --- state ---

    def _identity(self, session, person: dict):
        """(enterprise id when verified, the user's row id) of the person on the channel of this turn."""
        key = _person_key(person)
        rows = [users.find(session, channel, key) for channel in
                (("wechat",) if self.channel == "wechat" else ("wecom", "group"))]
        rows = [row for row in rows if row is not None]
        if not rows:
            return None, None, []
        return rows[0].enterprise_id, rows[0].id, [row.id for row in rows]

    def _owned(self, session, person: dict):
        enterprise_id, _, refs = self._identity(session, person)
        seen, owned = set(), []
        for ref in refs or [None]:
            for complaint in complaints.of_owner(session, enterprise_id, ref, limit=10_000):
                if complaint.id not in seen:
                    seen.add(complaint.id)
                    owned.append(complaint)
        return sorted(owned, key=lambda c: c.id)

    def _last_ticket(self, session, person: dict):
        """The owner's most recently filed or touched ticket: the newest one, or the one a repeat just
        merged into when that is more recent."""
        owned = self._owned(session, person)
        if not owned:
            return None
        return max(owned, key=lambda c: (max((e.at for e in c.events), default=c.created_at), c.id))

    def _check(self, n: int, expect: dict, reply: str, person: dict | None) -> None:
        for word in _strings(expect.get("reply_has")):
            if word not in reply:
                self.fail(n, f"reply lacks {word!r}")
        for word in _strings(expect.get("reply_lacks")):
            if word in reply:
                self.fail(n, f"reply has {word!r}")
        state = expect.get("state") or {}
        if not state:
            return
        if person is None:
            raise FormatError(f"{self.name}: turn {n} checks state but names nobody")
        with self.services.db.session() as session:
            for problem in self._state_problems(session, state, person):
                self.fail(n, problem)

    def _state_problems(self, session, state: dict, person: dict):
        if "tickets" in state:
            got = len(self._owned(session, person))
            if got != int(state["tickets"]):
                yield f"tickets: expected {state['tickets']}, found {got}: {self._describe(session, person)}"
        if "last_ticket" in state:
            complaint = self._last_ticket(session, person)
            if complaint is None:
                yield "last_ticket: there is no ticket"
                return
            want = state["last_ticket"]
            enterprise = complaint.enterprise.name if complaint.enterprise else (complaint.claimed_enterprise or "")
            got = {"category": complaint.category, "status": complaint.status, "enterprise": enterprise}
            for key in ("category", "status", "enterprise"):
                if key in want and str(want[key]) != got[key]:
                    yield f"last_ticket.{key}: expected {want[key]!r}, found {got[key]!r} ({complaint.ticket_no} " \
                          f"{complaint.description!r})"
            if "text_has" in want and str(want["text_has"]) not in (complaint.description or ""):
                yield f"last_ticket.text_has: {want['text_has']!r} not in {complaint.description!r}"
        if "subscriptions" in state:
            want = state["subscriptions"]
            want = set() if want in (0, None, []) else {str(t) for t in want}
            got = self._subscriptions(session, person)
            if got != want:
                yield f"subscriptions: expected {sorted(want)}, found {sorted(got)}"
        if "signups" in state:
            got = self._confirmed(session, person)
            if got != int(state["signups"]["confirmed"]):
                yield f"signups.confirmed: expected {state['signups']['confirmed']}, found {got}"

    def _describe(self, session, person: dict) -> str:
        return "; ".join(f"{c.ticket_no} {c.category} {c.status} {c.description[:30]!r}"
                         for c in self._owned(session, person)) or "none"

    def _subscriptions(self, session, person: dict) -> set[str]:
        _, _, refs = self._identity(session, person)
        topics = set()
        for ref in refs:
            for topic, active in policies.subscriptions_of(session, ref).items():
                if active:
                    topics.add(topic or "全部")
        return topics

    def _confirmed(self, session, person: dict) -> int:
        """Confirmed seats of the person's verified enterprise (of the person when there is none)."""
        enterprise_id, _, refs = self._identity(session, person)
        total = 0
        for meeting in meetings.all_meetings(session):
            for signup in meetings.roster(session, meeting.id):
                if signup.status != "confirmed":
                    continue
                if (enterprise_id is not None and signup.enterprise_id == enterprise_id) or signup.user_ref in refs:
                    total += signup.seats
        return total


def _working_days_after(day: date, days: int) -> date:
    """Monday to Friday only: close enough for a seeded ticket's deadlines."""
    while days > 0:
        day += timedelta(days=1)
        days -= day.weekday() < 5
    return day


def _push_text(body: dict) -> str:
    """The words of a customer-service or template message."""
    if isinstance(body.get("text"), dict):
        return str(body["text"].get("content") or "")
    if isinstance(body.get("data"), dict):
        return "\n".join(str(v.get("value") if isinstance(v, dict) else v) for v in body["data"].values())
    return json.dumps(body, ensure_ascii=False)


_ROSTER: list[str] | None = None


def roster_names() -> list[str]:
    """Every enterprise a conversation names (its user, senders, expected tickets): the park's roster."""
    global _ROSTER
    if _ROSTER is None:
        found: set[str] = set()
        for conv in load_all():
            data = conv.data
            for person in [data.get("user") or {}] + [t.get("sender") or {} for t in data.get("turns", [])]:
                if person.get("enterprise"):
                    found.add(str(person["enterprise"]))
            for turn in data.get("turns", []):
                last = ((turn.get("expect") or {}).get("state") or {}).get("last_ticket") or {}
                if last.get("enterprise"):
                    found.add(str(last["enterprise"]))
        _ROSTER = sorted(found)
    return _ROSTER


def run(conv: dict, make_app, settings, fake_api) -> None:
    """Run one conversation. With DIALOGUE_REPORT=FILE every conversation's outcome and transcript is also
    appended to FILE as a JSON line (to read what the bot said, or to sort the failures)."""
    runner = Runner(conv, make_app, settings, fake_api)
    failure = None
    try:
        runner.run()
    except AssertionError as exc:
        failure = str(exc).partition("\n--- transcript ---\n")[0]
        raise
    finally:
        if os.environ.get("DIALOGUE_REPORT"):
            with open(os.environ["DIALOGUE_REPORT"], "a", encoding="utf-8") as out:
                out.write(json.dumps({"name": conv.get("name"), "passed": failure is None, "failure": failure,
                                      "transcript": runner.transcript}, ensure_ascii=False) + "\n")

"""What a message finally says (nlp/revisions.py): owners revise while typing ("哦不对", "算了…还是"), hold an action
back ("先不要取消"), agree before speaking ("+1 …"), and pass notices on in groups — the real model decides the
rest. Conversations that use these run in tests/dialogues/fresh8a.yaml and fresh8b.yaml."""
from __future__ import annotations

import nlp
from bot.meetings.service import party_size
from handlers.complaints import parse_rating


def test_a_negated_action_is_held_back_not_taken():
    for text, held in [("欸先不要取消喔，我老闆那天可能要我出差，等他確認再跟你說", "meeting.cancel"),
                       ("别再给我推送了……等下先别退，我问问人事还要不要", "policy.unsubscribe"),
                       ("先不用催哈，我们材料上周才交上去，再等等看", "complaint.file")]:
        understood = nlp.classify(text)
        assert (understood.intent, understood.slots.get("hold_off")) == ("smalltalk", held), text
    assert nlp.classify("早茶会我去不了了，帮我取消").intent == "meeting.cancel"      # no negation: the action
    assert nlp.classify("退订").intent == "policy.unsubscribe"


def test_what_follows_a_correction_is_what_is_asked():
    revised = nlp.classify("稳岗补贴怎么申请 哦不对 我想问的是招大学生那个补贴")
    assert revised.intent == "policy.query" and revised.text.startswith("我想问的是")
    assert nlp.classify("算了 还是留个税收的吧").intent == "policy.subscribe"
    # "电压不对" is no correction; "算了，不说了，取消" drops the matter rather than revising it
    assert nlp.classify("电压不对，老跳闸").intent == "complaint.file"
    assert nlp.classify("算了，不说了，取消").text.startswith("算了")


def test_a_corrected_score_or_head_count_counts_not_the_first():
    assert parse_rating(nlp.classify("给2分……算了算了，他们后来还是组织了招聘会，还是给4分吧🙏").text)[0] == 4
    assert parse_rating("给4分，比上次的2分好")[0] == 4          # a second number that is no correction
    assert party_size(nlp.normalize("报早茶会 两个人 哦不对 就我自己").text) == 1
    assert party_size("带两个同事") == 3


def test_agreeing_is_not_signing_up_and_a_notice_is_not_a_complaint():
    assert nlp.classify("+1 我们也看到了").intent != "meeting.signup"
    assert nlp.classify("+1").intent == "meeting.signup"
    assert nlp.classify("+1 算我一个").intent == "meeting.signup"
    notice = nlp.classify("【通知】明天上午9:00-12:00园区西区供水管网检修停水，请各企业提前做好储水准备。")
    assert notice.intent == "other"
    assert nlp.classify("西区又停水了，三天了，请尽快处理").intent == "complaint.file"


def test_cantonese_negations_read_as_mandarin():
    assert nlp.classify("唔要推送").intent == "policy.unsubscribe"
    assert nlp.normalize("係B棟唔係A棟").text == "系b栋不是a栋"

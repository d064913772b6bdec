"""nlp: each stage on its own, and the whole on the labelled sets (accuracy is a regression gate)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from nlp import classify, normalize
from nlp.dates import find_dates
from nlp.evaluate import evaluate, load
from nlp.slots import complaint_category, head_count, mask_phones, match_company, policy_topics
from nlp.typos import correct

ROOT = Path(__file__).resolve().parent.parent


def test_normalise_keeps_script_and_strips_noise():
    norm = normalize("@园区小助手\u2005企業上雲有補貼嗎？？？😡 https://x.cn/a")
    assert norm.script == "traditional"
    assert norm.text == "企业上云有补贴吗?"
    assert norm.mentions == ("园区小助手",)
    assert normalize("群裡@你和私聊你有區別嗎").text.startswith("群里@你和私聊")  # not a mention
    assert normalize("ＡＢＣ１２３").text == "abc123"


def test_homophone_typos_of_domain_terms_are_corrected():
    assert correct("报名取小") == "报名取消"
    assert correct("转人共") == "转人工"
    assert correct("退定所有的推送") == "退订所有的推送"
    assert correct("刘总的助理") == "刘总的助理"   # a real word is left alone


def test_chinese_dates_become_iso():
    today = date(2026, 11, 27)   # a Friday
    assert find_dates("下周三上午", today) == ["2026-12-02T09:00"]
    assert find_dates("明天下午3点半", today) == ["2026-11-28T15:30"]
    assert find_dates("3月15日", today) == ["2027-03-15"]
    assert find_dates("2026年12月1日", today) == ["2026-12-01"]


def test_slots():
    assert head_count("早茶会算我一个，带两个同事") == 3
    assert head_count("我们这边来三个") == 3
    assert complaint_category("西区又停电了") == "供电"
    assert complaint_category("窗口办事拖拉") == "审批服务"
    assert complaint_category("园区西门道路塌陷，货车进不来") == "道路交通"     # two road cues beat one safety cue
    assert complaint_category("厂区围墙有倒塌危险") == "安全生产"
    assert policy_topics("研发费用加计扣除") == ["科技", "税收"]
    assert mask_phones("电话13812345678") == "电话138****5678"
    roster = ["湘西苗岭农业科技有限公司", "武陵云科技有限公司"]
    assert match_company("我是苗岭农业科技的", roster) == "湘西苗岭农业科技有限公司"
    result = classify("查一下工单 ts2026031500012，电话0743-8123456")
    assert result.slots["ticket_ids"] == ["TS2026031500012"]
    assert result.slots["phones"] == ["0743-8123456"]


def test_negation_does_not_count():
    assert classify("我不是要投诉，就想问问补贴政策").intent == "policy.query"
    assert classify("不用转人工，你先说说怎么用").intent == "help"


def test_explain_lists_what_matched():
    explained = classify("早茶会去不了，报名取小").explain()
    assert explained["intent"] == "meeting.cancel"
    assert any("去不了" in line for line in explained["evidence"])


@pytest.mark.parametrize("text", ["", " ", "😀😀😀", "！！！？？？", "\x00\x01\x02", "a" * 100_000,
                                  "停电" * 50_000, "hello world", "繁體簡体mixed 混合", None, 12345])
def test_bad_input_never_raises(text):
    result = classify(text)
    assert result.intent in {"other", "complaint.file", "help", "smalltalk"}
    assert 0.0 <= result.confidence <= 1.0


def test_dev_set_accuracy(shared):
    result = evaluate(load(shared / "data/intents_dev.jsonl"))
    assert result["accuracy"] >= 0.98
    assert min(m["recall"] for m in result["per_intent"].values() if m["support"]) >= 0.9


def test_own_set_accuracy_and_traditional_parity():
    rows = load(ROOT / "tests/data/intents_own.jsonl")
    assert len(rows) >= 300
    result = evaluate(rows)
    assert result["accuracy"] >= 0.95
    assert min(m["recall"] for m in result["per_intent"].values() if m["support"]) >= 0.9
    traditional = [r for r in rows if "traditional" in r["tags"]]
    assert evaluate(traditional)["accuracy"] >= 0.95


def test_cli_single_and_batch():
    out = subprocess.run([sys.executable, "-m", "nlp", "退訂"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == {"intent": "policy.unsubscribe", "confidence": json.loads(out)["confidence"],
                               "slots": {}, "script": "traditional"}
    batch = subprocess.run([sys.executable, "-m", "nlp", "--batch"], cwd=ROOT, input="菜单\n转人工\n",
                           capture_output=True, text=True, check=True).stdout.splitlines()
    assert [json.loads(line)["intent"] for line in batch] == ["help", "human"]


def test_intent_data_is_validated_at_load(caplog):
    import logging

    import yaml

    from nlp.intents import DATA, _compile_rules, _warn_shared_keywords, IntentDataError
    data = yaml.safe_load((DATA / "intents.yaml").read_text(encoding="utf-8"))
    assert _warn_shared_keywords(data["intents"], data["shared_ok"]) == []
    with caplog.at_level(logging.WARNING):
        assert _warn_shared_keywords({"help": {"rules": [[1, "菜单|投诉"]]},
                                      "complaint.file": {"rules": [[1, "投诉"]]}}) == ["投诉"]
    assert "投诉" in caplog.text
    with pytest.raises(IntentDataError, match="empty"):
        _compile_rules("help", {"rules": [[1, "菜单|"]]})
    with pytest.raises(IntentDataError, match="bad rule"):
        _compile_rules("help", {"rules": [[1, "(unclosed"]]})


def test_key_characters_are_exact_for_tricky_patterns():
    import re

    from nlp.keychars import key_chars
    cases = {"(我要)?投诉|举报": None, "(?<![查问])投诉(?![的过])": {"投", "诉"}, "ts\\d{13}": {"t", "s"},
             "(?i)help": {"h", "e", "l", "p"}, ".{0,4}停了": {"停", "了"}, "[0-9]+号": {"号"}, ".*": None,
             "(?:a|b)?c": {"c"}}
    for pattern, must_include in cases.items():
        chars = key_chars(re.compile(pattern))
        if pattern in (".*",):
            assert chars is None
            continue
        # Every sample match of the pattern contains one of the key characters.
        samples = {"(我要)?投诉|举报": ["投诉", "我要投诉", "举报"], "(?<![查问])投诉(?![的过])": ["投诉"],
                   "ts\\d{13}": ["ts2026112800001"], "(?i)help": ["HELP", "Help", "help"], ".{0,4}停了": ["停了"],
                   "[0-9]+号": ["3号"], "(?:a|b)?c": ["c", "ac"]}[pattern]
        for sample in samples:
            assert chars and not chars.isdisjoint(sample), (pattern, sample, chars)
        if must_include:
            assert chars & must_include


def test_the_rule_index_never_leaves_out_a_rule_that_matches():
    """The character index only saves work: on every labelled message (and a Traditional copy),
    the rules it selects are exactly the rules that match, plus some that then fail."""
    from nlp.intents import candidate_rules, load_model
    model = load_model()
    texts = [r["text"] for r in load(ROOT / "tests/data/intents_own.jsonl")]
    shared = ROOT.parent / "shared/data/intents_dev.jsonl"
    if shared.exists():
        texts += [r["text"] for r in load(shared)]
    checked = 0
    for text in texts:
        norm = normalize(text).text
        chosen = set(candidate_rules(norm, model))
        for i, (_name, rule) in enumerate(model.flat):
            if rule.search(norm):
                assert i in chosen, (text, rule.pattern.pattern)
                checked += 1
    assert checked > len(texts)          # most messages match a rule or more: the check had teeth


def test_dialect_words_read_as_mandarin_and_a_bare_question_mark_asks_for_help():
    assert normalize("你是做么子的").text == "你是做什么的"
    assert normalize("园区冇得路灯，晓得不").text == "园区没有路灯,知道不"
    assert normalize("恰好").text == "恰好"                     # only whole dialect words change
    assert classify("你是做么子的").intent == "help"
    assert classify("？").intent == "help" and classify("？？").intent == "help"
    assert classify("。。。").intent == "other"

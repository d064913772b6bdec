"""Replies in the user's script: Simplified → Traditional by phrase (nlp.normalize.to_script), and what a
Traditional writer sends back comes out Simplified again (to_simplified, the input side).

The phrases are the product's own words, taken from its replies (meetings, policies, complaints, the
console's notices). Each is checked alone, inside the reply it comes from, and after the characters that
made OpenCC's longest-match segmentation cut it wrongly (人|参加 → 人蔘加, 总|发送 → 總髮送, 接|回复 → 回復)."""
from __future__ import annotations

import pytest

from bot.meetings import texts as meeting_texts
from nlp.normalize import to_script, to_simplified

# (simplified, Traditional as a Taiwanese reader expects it); every one appears in a reply of this product.
PHRASES = [
    ("参加", "參加"), ("发票", "發票"), ("面积", "面積"), ("里程", "里程"), ("系统", "系統"),
    ("后台", "後臺"), ("台账", "臺賬"), ("出租", "出租"), ("余额", "餘額"), ("范围", "範圍"),
    ("回复", "回覆"), ("答复", "答覆"), ("联系电话", "聯繫電話"), ("并入", "併入"), ("并单", "併單"),
    ("一并", "一併"), ("只能", "只能"), ("只剩", "只剩"), ("扣除", "扣除"), ("加计扣除", "加計扣除"),
    ("制造", "製造"), ("签到", "簽到"), ("签订", "簽訂"), ("重复", "重複"), ("分钟", "分鐘"),
    ("备注", "備註"), ("发生额", "發生額"), ("发放", "發放"), ("发送", "發送"), ("群发", "群發"),
    ("获得", "獲得"), ("余下", "餘下"), ("剩余", "剩餘"), ("征收", "徵收"), ("注册", "註冊"),
    ("上云", "上雲"), ("升规", "升規"), ("致谢", "致謝"), ("准时", "準時"), ("回访", "回訪"),
    ("以后", "以後"), ("尽快", "儘快"), ("工单号", "工單號"), ("诉求", "訴求"), ("咨询", "諮詢"),
    ("早茶会", "早茶會"), ("名额", "名額"), ("候补", "候補"), ("稳岗", "穩崗"), ("补贴", "補貼"),
    ("兑现", "兌現"), ("拨付", "撥付"), ("到账", "到賬"), ("催办", "催辦"), ("订阅", "訂閱"),
    ("退订", "退訂"), ("办结", "辦結"), ("周二", "週二"), ("会议室", "會議室"), ("厂房", "廠房"),
    ("支持标准", "支持標準"), ("办理程序", "辦理程序"), ("政策文件", "政策文件"), ("议题", "議題"),
]
# Characters before a phrase that made plain OpenCC segment across it.
TRICKY_LEFT = ["人", "总", "头", "一", "接", "台", "并", "比", "截", "低", "两", "同", "后", "发"]
# OpenCC's t2s keeps 覆 (a Simplified character as well): a Traditional writer's 回覆/答覆 stays so.
KEPT_BY_T2S = {"回覆": "回复", "答覆": "答复"}


def back_to_simplified(traditional: str) -> str:
    text = to_simplified(traditional)
    for kept, simplified in KEPT_BY_T2S.items():
        text = text.replace(kept, simplified)
    return text


def test_at_least_fifty_domain_phrases():
    assert len({simplified for simplified, _ in PHRASES}) >= 50


@pytest.mark.parametrize(("simplified", "traditional"), PHRASES, ids=[s for s, _ in PHRASES])
def test_phrase_both_ways(simplified, traditional):
    assert to_script(simplified, "traditional") == traditional
    assert to_simplified(traditional) == (traditional if traditional in KEPT_BY_T2S else simplified)


@pytest.mark.parametrize(("simplified", "traditional"), PHRASES, ids=[s for s, _ in PHRASES])
def test_phrase_after_tricky_characters(simplified, traditional):
    for left in TRICKY_LEFT:
        converted = to_script(left + simplified + "。", "traditional")
        assert converted.endswith(traditional + "。"), (left + simplified, converted)


# Whole replies as the product sends them, and how they must read in Traditional.
REPLIES = [
    ("「乡情湘味政企早茶会」每家企业最多2人参加，贵公司已报0人。",
     "「鄉情湘味政企早茶會」每家企業最多2人參加，貴公司已報0人。"),
    ("如需带同事或有想反映的问题，可直接回复；不能参加请回复“取消早茶会报名”。",
     "如需帶同事或有想反映的問題，可直接回覆；不能參加請回覆“取消早茶會報名”。"),
    ("已为您订阅税收政策推送，有新政策会第一时间通知您。回复“退订”可随时取消。",
     "已為您訂閱稅收政策推送，有新政策會第一時間通知您。回覆“退訂”可隨時取消。"),
    ("已转交工作人员，咨询单号：TS2026120100001，将在 2026-12-02 前答复您。",
     "已轉交工作人員，諮詢單號：TS2026120100001，將在 2026-12-02 前答覆您。"),
    ("请回复选项编号。", "請回覆選項編號。"),
    ("本月共发送120条，总发送量已过半。", "本月共發送120條，總發送量已過半。"),
]


@pytest.mark.parametrize(("simplified", "traditional"), REPLIES, ids=[str(n) for n in range(len(REPLIES))])
def test_replies_both_ways(simplified, traditional):
    assert to_script(simplified, "traditional") == traditional
    assert back_to_simplified(traditional) == simplified


def test_no_ginseng_in_any_meeting_reply():
    """Every text the meeting feature says, in Traditional: 參加, never 蔘 (ginseng)."""
    for name in dir(meeting_texts):
        value = getattr(meeting_texts, name)
        if isinstance(value, str):
            assert "蔘" not in to_script(value.replace("{limit}", "2").replace("{seats}", "3"), "traditional"), name


def test_simplified_replies_are_left_alone():
    text = "每家企业最多2人参加"
    assert to_script(text, "simplified") == text

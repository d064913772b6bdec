"""Two requests told in one message ("报名早茶会顺便问下稳岗补贴"): where it splits, and whether each part is a
request of its own, clearly enough to be answered one after the other."""
from __future__ import annotations

import re

import nlp

TWO_REQUESTS_CONFIDENCE = 0.6   # each part of a message split in two must be understood at least this surely

# "报名早茶会顺便问下稳岗补贴", "订阅税收政策 还有我们厂门口路面塌了", "上次报的停水修好没有？另外食堂…",
# "…搞掂未呀？仲有饭堂又加价": a second request after a word that starts one; not "还有没有补贴" (还有 as "still any").
SECOND_REQUEST = re.compile(r"(?:顺便|順便|另外|此外|(?:然后)?还有就是|(?:然後)?還有就是|然后还有|然後還有|"
                            r"(?:^|(?<=[，,。.；;！!？?\s]))(?:还有|還有|仲有|对了|對了|再问一下|再問一下))"
                            r"(?!没|沒|多少|几|幾|吗|嗎|呢|什么|什麼)[，,：:\s]*")
# "1. 东门路灯坏了 2. 早茶会报2人", "1、…2、…3、…": a numbered list, each item a request.
NUMBERED = re.compile(r"(?:^|(?<=[\s，,。.；;：:！!？?]))[（(]?([1-9])\s*[.、．)）]\s*")
# What each part must clearly be for the message to count as several requests.
SEPARATE_REQUESTS = {"complaint.file", "complaint.status", "policy.query", "policy.subscribe", "policy.unsubscribe",
                     "meeting.signup", "meeting.info", "meeting.cancel"}
# "变压器在冒黑烟，还有噼里啪啦的声音": what else is seen, heard or smelt of the same thing, not a second matter
SAME_THING_SENSED = re.compile(r"^有?(?:一股|一阵|阵阵|很多|好多)?(?:[^，,。.！!？?的]{1,5}的)?"
                               r"(声音|声响|响声|异响|味道|气味|臭味|怪味|烟|火花|火星)")
MIN_PART_CHARS = 4
MAX_PARTS = 4


def two_requests(text: str, threshold: float | None = None) -> list | None:
    """[(part, its classification), …] when the text asks two (or, as a numbered list, up to four) different
    things, each clearly; else None (one request, however many words)."""
    numbered = _numbered(text)
    pieces = numbered or _joined(text)
    if pieces is None or any(len(piece) < MIN_PART_CHARS for piece in pieces):
        return None
    if not numbered and SAME_THING_SENSED.match(nlp.normalize(pieces[1]).text):
        return None
    parts = [(piece, nlp.classify(piece, threshold=threshold)) for piece in pieces]
    intents = [understood.intent for _, understood in parts]
    if not set(intents) <= SEPARATE_REQUESTS:
        return None
    if len(set(intents)) == 1 and not (intents[0] == "complaint.file" and _departments(parts)):
        return None      # one kind of request: one answer tells both; problems for different departments: each
    if any(understood.confidence < TWO_REQUESTS_CONFIDENCE for _, understood in parts):
        return None
    return parts


def answer_then_request(text: str, threshold: float | None = None) -> tuple[str, list] | None:
    """(the first part, [(second part, its classification)]) when a second, clear request follows the first
    ("给4分吧，下次快点。对了我们俩还想报名早茶会"): the first may answer a pending question, whatever it is."""
    pieces = _joined(text)
    if pieces is None or any(len(piece) < MIN_PART_CHARS for piece in pieces):
        return None
    first, second = pieces
    understood = nlp.classify(second, threshold=threshold)
    if understood.intent not in SEPARATE_REQUESTS or understood.confidence < TWO_REQUESTS_CONFIDENCE:
        return None
    return first, [(second, understood)]


def _joined(text: str) -> list[str] | None:
    found = SECOND_REQUEST.search(text)
    if found is None:
        return None
    return [text[:found.start()].strip(" ，,。.；;"), text[found.end():].strip()]


def _numbered(text: str) -> list[str] | None:
    """The items of a list numbered 1, 2(, 3, 4) in order; what comes before "1." ("你好，两件事：") is no item."""
    marks = [m for m in NUMBERED.finditer(text)]
    expected, items = 1, []
    for mark in marks:
        if int(mark.group(1)) == expected:
            items.append(mark)
            expected += 1
    if not 2 <= len(items) <= MAX_PARTS:
        return None
    ends = [m.start() for m in items[1:]] + [len(text)]
    return [text[m.end():end].strip(" ，,。.；;\n") for m, end in zip(items, ends, strict=True)]


def _departments(parts: list) -> bool:
    categories = [understood.slots.get("category") for _, understood in parts]
    return len(set(categories)) == len(categories) and None not in categories

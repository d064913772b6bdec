"""Two requests told in one message ("报名早茶会顺便问下稳岗补贴"): where it splits, and whether each part is a
request of its own, clearly enough to be answered one after the other."""
from __future__ import annotations

import re

import nlp

TWO_REQUESTS_CONFIDENCE = 0.6   # each part of a message split in two must be understood at least this surely

# "报名早茶会顺便问下稳岗补贴", "订阅税收政策 还有我们厂门口路面塌了", "上次报的停水修好没有？另外食堂…": a second
# request after a word that starts one; not "还有没有补贴" (还有 as "still any").
SECOND_REQUEST = re.compile(r"(?:顺便|順便|另外|此外|(?:^|(?<=[，,。.；;！!？?\s]))"
                            r"(?:还有就是|還有就是|还有|還有|对了|對了|再问一下|再問一下))"
                            r"(?!没|沒|多少|几|幾|吗|嗎|呢|什么|什麼)[，,：:\s]*")
# What each part must clearly be for the message to count as two requests.
SEPARATE_REQUESTS = {"complaint.file", "complaint.status", "policy.query", "policy.subscribe", "policy.unsubscribe",
                     "meeting.signup", "meeting.info", "meeting.cancel"}
MIN_PART_CHARS = 4


def two_requests(text: str, threshold: float | None = None) -> list | None:
    """[(first part, its classification), (second part, its classification)] when the text asks two different
    things, each clearly; else None (one request, however many words)."""
    found = SECOND_REQUEST.search(text)
    if found is None:
        return None
    first, second = text[:found.start()].strip(" ，,。.；;"), text[found.end():].strip()
    if len(first) < MIN_PART_CHARS or len(second) < MIN_PART_CHARS:
        return None
    parts = [(first, nlp.classify(first, threshold=threshold)), (second, nlp.classify(second, threshold=threshold))]
    intents = [understood.intent for _, understood in parts]
    if not set(intents) <= SEPARATE_REQUESTS:
        return None
    if intents[0] == intents[1] and not (intents[0] == "complaint.file" and _two_departments(parts)):
        return None      # one kind of request: one answer tells both; two problems for two departments: two
    if any(understood.confidence < TWO_REQUESTS_CONFIDENCE for _, understood in parts):
        return None
    return parts


def _two_departments(parts: list) -> bool:
    categories = {understood.slots.get("category") for _, understood in parts}
    return len(categories) == 2 and None not in categories

"""Turning a handler's answer into what the channel sends: script, addressing, length limits."""
from __future__ import annotations

from nlp import to_script

APOLOGY = "抱歉，系统刚才出了点问题，您的消息已记录，工作人员会跟进。请稍后再试。"
FLOW_CANCELLED = "好的，已取消「{title}」。还有什么可以帮您？"
FLOW_LEFT = "（已退出「{title}」）"
MORE_PROMPT = "……（内容较长，回复“更多”查看余下部分）"
CONTINUED = "（内容较长，余下部分随后发送）"


def finish(ctx, reply):
    """Notes, the user's script (Traditional in → Traditional out), @name in groups, 2048-byte limit."""
    if reply.text is None:
        return reply
    text = "\n".join(ctx.notes + [reply.text])
    script = ctx.nlu.script if ctx.nlu is not None else "simplified"
    if ctx.msg.is_group and ctx.msg.display_name:
        text = f"@{ctx.msg.display_name} {text}"
    chunks = split_text(to_script(text, script), ctx.settings.reply_max_bytes - 64)
    followups = [to_script(f, script) for f in reply.followups]
    if len(chunks) == 1:
        return type(reply)(chunks[0], followups)
    if ctx.msg.is_group:  # the group bridge cannot push: keep the rest for "更多"
        ctx.services.redis.set(_more_key(ctx.msg), "\n".join(chunks[1:]), ex=3600)
        return type(reply)(chunks[0] + to_script(MORE_PROMPT, script), followups)
    return type(reply)(chunks[0] + to_script(CONTINUED, script), chunks[1:] + followups)


def take_more(ctx) -> str | None:
    """The next part of a long group reply, if one is waiting."""
    key = _more_key(ctx.msg)
    rest = ctx.services.redis.get(key)
    if not rest:
        return None
    ctx.services.redis.delete(key)
    return rest.decode("utf-8")


def _more_key(msg) -> str:
    return f"more:{msg.channel}:{msg.chat_id}:{msg.user_id}"


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` UTF-8 bytes, at line ends where possible."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    chunks, current = [], ""
    for line in text.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:   # a single over-long line: cut by characters
            head = _prefix_within(line, limit - len(current.encode("utf-8")))
            if not head:
                chunks.append(current)
                current = ""
                continue
            chunks.append(current + head)
            current, line = "", line[len(head):]
        if len((current + line).encode("utf-8")) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current:
        chunks.append(current)
    return [c.rstrip("\n") for c in chunks if c.strip()]


def _prefix_within(text: str, budget: int) -> str:
    out, used = [], 0
    for ch in text:
        size = len(ch.encode("utf-8"))
        if used + size > budget:
            break
        out.append(ch)
        used += size
    return "".join(out)

"""Policy notices to many people: send (with a progress bar), status, failures."""
from __future__ import annotations

import json
import sys
import time

from bot import services
from bot.broadcasts import service as broadcasts
from bot.cli.common import check_record_id, cli_actor, emit, fail, progress
from storage import broadcasts as store


def _target_words(target: str) -> str:
    kind, _, name = target.partition(":")
    return {"all": "全部关注用户", "topic": f"订阅「{name}」的用户", "tag": f"标签「{name}」的企业",
            "group": f"企业微信群「{name}」"}.get(kind, target)


def cmd_broadcast_send(args, settings):
    if not args.title.strip() or not args.body.strip():
        raise fail("--title 标题和 --body 正文都不能为空")
    built = services.build(settings)
    with built.db.session() as session:      # the service checks the target and the link, and audits the send
        created = broadcasts.create(built, session, args.title.strip(), args.body.strip(), args.to.strip(),
                                    url=args.url or "", created_by=f"cli:{args.actor}" if args.actor else cli_actor())
        broadcast_id, total = created.id, store.counts(session, created.id)
    print(f"已登记广播「{args.title.strip()}」，发往{_target_words(args.to.strip())}，共 {sum(total.values())} 位接收人，"
          f"由 worker 发送（查看进度：python -m bot broadcast status {broadcast_id}）。编号 {broadcast_id}", flush=True)
    if not args.wait:
        return
    show = progress(f"广播 {broadcast_id}")
    while True:
        with built.db.session() as session:
            figures = broadcasts.status(session, broadcast_id)
        show(figures["sent"] + figures["failed"], figures["total"])
        if figures["pending"] == 0:
            break
        time.sleep(0.5)
    print(f"已发 {figures['sent']}，失败 {figures['failed']}（失败原因：python -m bot broadcast failures {broadcast_id}）",
          file=sys.stderr)


def _broadcast(session, broadcast_id: int):
    found = store.get(session, check_record_id(broadcast_id, "广播"))
    if found is None:
        raise fail(f"没有编号为 {broadcast_id} 的广播")
    return found


def cmd_broadcast_status(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        found = _broadcast(session, args.id)
        figures = broadcasts.status(session, found.id)
    if args.json:
        print(json.dumps(figures))
    else:
        done = "，已全部发完" if not figures["pending"] else ""
        print(f"广播 {args.id}「{found.title}」：共 {figures['total']} 位接收人，已发 {figures['sent']}，"
              f"失败 {figures['failed']}，待发 {figures['pending']}{done}。")


def cmd_broadcast_failures(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        _broadcast(session, args.id)
        rows = [{"channel": d.channel, "recipient": d.recipient, "kind": d.kind, "attempts": d.attempts,
                 "error": d.error} for d in store.failures(session, args.id)]
    emit(args, rows, lambda r: f"{r['channel']}:{r['recipient']}  {r['kind']}  尝试 {r['attempts']} 次  {r['error']}",
         empty=f"广播 {args.id} 没有发送失败的记录")


def register(sub) -> None:
    bc = sub.add_parser("broadcast", help="policy notices to many people").add_subparsers(dest="sub", required=True)
    b_send = bc.add_parser("send", help="send a notice; prints the broadcast id")
    b_send.add_argument("--title", required=True)
    b_send.add_argument("--body", required=True)
    b_send.add_argument("--to", required=True, metavar="TARGET",
                        help="all, topic:NAME, tag:NAME, group:NAME (a registered group) or group:ID (a WeCom app chat)")
    b_send.add_argument("--url", help="policy link: an http:// or https:// address")
    b_send.add_argument("--actor", help="who sends it, shown as cli:NAME (default cli:<os user>)")
    b_send.add_argument("--wait", action="store_true", help="show progress until every delivery is done")
    b_send.set_defaults(fn=cmd_broadcast_send)
    b_status = bc.add_parser("status", help="total / sent / failed / pending")
    b_status.add_argument("id", type=int)
    b_status.add_argument("--json", action="store_true")
    b_status.set_defaults(fn=cmd_broadcast_status)
    b_fail = bc.add_parser("failures", help="deliveries that failed, with reasons")
    b_fail.add_argument("id", type=int)
    b_fail.add_argument("--json", action="store_true")
    b_fail.set_defaults(fn=cmd_broadcast_failures)

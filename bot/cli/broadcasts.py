"""Policy notices to many people: send (with a progress bar), status, failures."""
from __future__ import annotations

import json
import sys
import time

from bot import services
from bot.broadcasts import service as broadcasts
from bot.cli.common import check_record_id, emit, progress
from storage import broadcasts as store


def cmd_broadcast_send(args, settings):


    built = services.build(settings)
    try:
        with built.db.session() as session:
            broadcast_id = broadcasts.create(built, session, args.title, args.body, args.to, url=args.url or "",
                                             created_by=args.actor).id
    except (broadcasts.TargetError, broadcasts.LinkError) as exc:
        raise SystemExit(str(exc)) from None
    print(broadcast_id, flush=True)
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
    print(f"sent {figures['sent']}, failed {figures['failed']} (see: broadcast failures {broadcast_id})",
          file=sys.stderr)


def cmd_broadcast_status(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        figures = broadcasts.status(session, check_record_id(args.id, "群发"))
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"broadcast {args.id}: {figures['sent']}/{figures['total']} sent, {figures['failed']} failed, "
              f"{figures['pending']} pending")


def cmd_broadcast_failures(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        rows = [{"channel": d.channel, "recipient": d.recipient, "kind": d.kind, "attempts": d.attempts,
                 "error": d.error} for d in store.failures(session, check_record_id(args.id, "群发"))]
    emit(args, rows, lambda r: f"{r['channel']}:{r['recipient']}  {r['kind']}  tries {r['attempts']}  {r['error']}")


def register(sub) -> None:
    bc = sub.add_parser("broadcast", help="policy notices to many people").add_subparsers(dest="sub", required=True)
    b_send = bc.add_parser("send", help="send a notice; prints the broadcast id")
    b_send.add_argument("--title", required=True)
    b_send.add_argument("--body", required=True)
    b_send.add_argument("--to", required=True, metavar="TARGET",
                        help="all, topic:NAME, tag:NAME, group:NAME (a registered group) or group:ID (a WeCom app chat)")
    b_send.add_argument("--url", help="policy link: an http:// or https:// address")
    b_send.add_argument("--actor", default="staff")
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

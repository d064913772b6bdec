"""WeCom groups reached through their group robot's webhook: groups add/list/remove.

The webhook key is a secret: `--webhook-key-stdin` keeps it out of the shell history and the process
list, and nothing printed shows more than its last four characters."""
from __future__ import annotations

import json
import sys

from bot import services
from bot.cli.common import cli_actor, emit, fail
from bot.push import group_robots as groups
from storage import groups as store
from storage import staff


def _key(args) -> str:
    if args.webhook_key_stdin:
        return sys.stdin.readline().strip()
    return args.webhook_key or ""


def cmd_groups_add(args, settings):
    built = services.build(settings)
    actor = f"cli:{args.actor}" if args.actor else cli_actor()
    try:
        with built.db.session() as session:
            group = groups.register(session, args.name, _key(args), actor, reminders=not args.no_reminders)
            staff.audit(session, actor, "group.add", group.name, f"webhook {groups.mask(group.webhook_key)}")
            row = groups.row(group)
    except groups.GroupError as exc:
        raise fail(f"未登记群：{exc}") from None
    if args.json:
        print(json.dumps(row, ensure_ascii=False))
    else:
        print(f"已登记群「{row['name']}」（机器人密钥 {row['webhook_key']}），编号 {row['id']}")


def cmd_groups_list(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        rows = [groups.row(g) for g in store.listing(session)]
    emit(args, rows, lambda row: f"{row['id']:>4}  {row['name']}  {row['webhook_key']}  "
                                 f"{'早茶会提醒' if row['reminders'] else '不发提醒'}",
         empty="还没有登记企业微信群（登记：python -m bot groups add 群名 --webhook-key-stdin）")


def cmd_groups_remove(args, settings):
    built = services.build(settings)
    with built.db.session() as session:
        group = store.by_name(session, args.name)
        if group is None:
            raise fail(f"没有名为「{args.name}」的群（见 python -m bot groups list）")
        staff.audit(session, f"cli:{args.actor}" if args.actor else cli_actor(), "group.remove", group.name,
                    f"webhook {groups.mask(group.webhook_key)}")
        store.remove(session, group)
    print(f"已删除群「{args.name}」，它的机器人密钥不再保存。")


def register(sub) -> None:
    gr = sub.add_parser("groups", help="WeCom groups reached through their group robot's webhook").add_subparsers(
        dest="sub", required=True)
    g_add = gr.add_parser("add", help="register a group; prints its id")
    g_add.add_argument("name", help="the name broadcasts use: --to group:NAME")
    key = g_add.add_mutually_exclusive_group(required=True)
    key.add_argument("--webhook-key", metavar="KEY", help="the robot's key (or its whole webhook address)")
    key.add_argument("--webhook-key-stdin", action="store_true",
                     help="read the key from standard input (keeps it out of shell history)")
    g_add.add_argument("--no-reminders", action="store_true", help="no breakfast-meeting reminders in this group")
    g_add.add_argument("--actor", help="who registers it, shown as cli:NAME (default cli:<os user>)")
    g_add.add_argument("--json", action="store_true")
    g_add.set_defaults(fn=cmd_groups_add)
    g_list = gr.add_parser("list", help="registered groups (keys masked)")
    g_list.add_argument("--json", action="store_true")
    g_list.set_defaults(fn=cmd_groups_list)
    g_remove = gr.add_parser("remove", help="forget a group and its key")
    g_remove.add_argument("name")
    g_remove.add_argument("--actor", help="who removes it, shown as cli:NAME (default cli:<os user>)")
    g_remove.set_defaults(fn=cmd_groups_remove)

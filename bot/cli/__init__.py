"""`python -m bot …`: the command line of the product (see README "Command line").
One module per feature registers its subcommands; this one parses and dispatches."""
from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import DataError, OperationalError, ProgrammingError

from bot.cli import (
    broadcasts,
    complaints,
    directory,
    groups,
    meetings,
    outreach,
    policies,
    system,
)
from bot.cli.common import MIGRATE_FIRST, Parser, schema_missing
from bot.config import ConfigError, load_settings
from bot.errors import DomainError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m bot", description="联企助手 command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for feature in (system, directory, complaints, meetings, policies, broadcasts, groups, outreach):
        feature.register(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return args.fn(args, settings) or 0
    except DomainError as exc:   # a feature's rule refused it: its Chinese text is the whole answer
        print(f"错误：{exc.text}", file=sys.stderr)
    except OverflowError:      # a number or date far outside anything real (99999999999999999999, 0001-01-01)
        print("错误：数字或日期超出范围", file=sys.stderr)
    except DataError:          # the same, found by the database
        print("错误：输入的内容过长或格式不对", file=sys.stderr)
    except IsADirectoryError as exc:
        print(f"错误：{exc.filename} 是目录，不是文件", file=sys.stderr)
    except FileNotFoundError as exc:
        print(f"错误：找不到文件 {exc.filename}", file=sys.stderr)
    except OSError as exc:
        print(f"错误：无法读取 {exc.filename or ''}（{exc.strerror or exc}）", file=sys.stderr)
    except EOFError:           # a prompt (a password, a confirmation) with no terminal to answer it
        print("错误：需要在终端中输入，但没有可读的输入", file=sys.stderr)
    except (OperationalError, ProgrammingError) as exc:   # before `migrate`, or the database is unreachable
        detail = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
        print(f"错误：{MIGRATE_FIRST}" if schema_missing(exc) else f"错误：数据库不可用（{detail}）", file=sys.stderr)
    return 1

"""`python -m bot …`: the command line of the product (see README "Command line").
One module per feature registers its subcommands; this one parses and dispatches."""
from __future__ import annotations

import argparse
import sys

from bot.cli import broadcasts, complaints, directory, groups, meetings, policies, system


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="联企助手 command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for feature in (system, directory, complaints, meetings, policies, broadcasts, groups):
        feature.register(sub)
    return parser


def main(argv=None) -> int:
    from bot.config import ConfigError, load_settings
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return args.fn(args, settings) or 0

"""`python -m nlp TEXT [--explain]` or `python -m nlp --batch < file`: one JSON object per message."""
from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp", description="Classify Chinese messages.")
    parser.add_argument("text", nargs="*", help="the message (omit with --batch)")
    parser.add_argument("--batch", action="store_true", help="read one message a line from stdin")
    parser.add_argument("--explain", action="store_true", help="also print what matched")
    args = parser.parse_args(argv)
    from nlp import classify

    def emit(text: str) -> None:
        result = classify(text)
        out = result.as_dict()
        if args.explain:
            out["explain"] = result.explain()
        print(json.dumps(out, ensure_ascii=False), flush=False)

    if args.batch:
        for line in sys.stdin:
            emit(line.rstrip("\n"))
    elif args.text:
        emit(" ".join(args.text))
    else:
        parser.error("give a TEXT or --batch")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m nlp TEXT [--explain]`, `python -m nlp --batch < file`: one JSON object per message.
`python -m nlp train [--check] [--from-db]`: rebuild the models (see nlp/train.py)."""
from __future__ import annotations

import argparse
import json
import sys

from nlp import classify
from nlp.train import main as train_main


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"]:
        return train_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m nlp", description="Classify Chinese messages.",
                                     epilog="python -m nlp train --help: rebuild the models")
    parser.add_argument("text", nargs="*", help="the message (omit with --batch)")
    parser.add_argument("--batch", action="store_true", help="read one message a line from stdin")
    parser.add_argument("--explain", action="store_true", help="also print what decided (rules, or the "
                                                                 "model's strongest n-grams and words)")
    args = parser.parse_args(argv)

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

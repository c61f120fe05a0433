"""`python -m portal.rules FILE.json` (or `-` for standard input): RULES.md section 1."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from . import RulesInputError, assess_json

USAGE = "usage: python -m portal.rules FILE.json   ('-' reads standard input)"
# The largest input read (characters): a real incident is a few kilobytes.
MAX_INPUT = 1_000_000


def main(argv: list[str], stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    if len(argv) != 1:
        print(USAGE, file=stderr)
        return 2
    path = argv[0]
    try:
        if path == "-":
            text = stdin.read(MAX_INPUT + 1)
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(MAX_INPUT + 1)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot be read ({exc.__class__.__name__})", file=stderr)
        return 2
    if len(text) > MAX_INPUT:
        print(f"input: too large; at most {MAX_INPUT:,} characters (1 MB) are read, and an "
              "incident needs far fewer", file=stderr)
        return 2
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"input: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
              file=stderr)
        return 2
    except (ValueError, RecursionError) as exc:
        # Nested too deeply for the parser, or a number too long to convert (ValueError): refuse
        # it like any other bad input, never with a traceback.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "a value is too large"
        print(f"input: cannot be read as JSON ({reason})", file=stderr)
        return 2
    try:
        result = assess_json(data)
    except RulesInputError as exc:
        for problem in exc.problems:
            print(problem, file=stderr)
        return 2
    except OverflowError:  # a deadline beyond the calendar: the year checks should stop this
        print("input: the dates are too far from today for the rules to work with", file=stderr)
        return 2
    json.dump(result, stdout, indent=2, ensure_ascii=False)
    stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], sys.stdin, sys.stdout, sys.stderr))

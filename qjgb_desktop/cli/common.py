"""What every command family of the command line shares: exit codes, the argument parser that speaks Chinese,
argument types, the acting user's name, and running a command over the opened database."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from datetime import date

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NO_DISPLAY = 0, 1, 2, 3


class ChineseArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code for usage errors is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: 参数错误：{message}\n")


class Failure(Exception):
    """The command failed for a reason the user can act on: said on stderr, exit 1, nothing done."""


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应形如 2025-06-30，收到“{text}”") from None


def whole_number(text: str) -> int:
    """An id, a measure number, a year: digits that fit the database (a 40-digit id is refused here, not by
    SQLite with an OverflowError)."""
    t = text.strip()
    if not re.fullmatch(r"\d{1,15}", t):
        raise argparse.ArgumentTypeError(f"应为不超过 15 位的正整数，收到“{text[:30]}”")
    return int(t)


def current_user(args) -> str:
    return getattr(args, "user", None) or os.environ.get("QJGB_USER") or getpass.getuser()


def over_database(args, open_db, command, refusals: tuple[type[Exception], ...] = ()) -> int:
    """command(args, db) over the opened database, closed afterwards whatever happens; a refusal (one of
    `refusals`: a request the user can fix) is said on stderr and exits 2 with nothing done."""
    db = open_db()
    try:
        return command(args, db)
    except refusals as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.close()

"""Command line: `qjgb`, `python -m qjgb_desktop`, `python main.py`.

With no command the window opens. Commands call the same services as the window. Exit codes: 0 done,
1 the work failed (message on stderr), 2 bad arguments, 3 no display for the window.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qjgb_desktop import __version__, errors, paths
from qjgb_desktop.cli import accounts as cli_accounts
from qjgb_desktop.cli import data as cli_data
from qjgb_desktop.cli import documents as cli_documents
from qjgb_desktop.cli import evidence as cli_evidence
from qjgb_desktop.cli import excel as cli_excel
from qjgb_desktop.cli import plan as cli_plan
from qjgb_desktop.cli import progress as cli_progress
from qjgb_desktop.cli import supervision as cli_supervision
from qjgb_desktop.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    ChineseArgumentParser,
    Failure,
    iso_date,
    whole_number,
)

# The window's tabs by index: 计划 督办 部门 总览 指标 填报日历 考核.
SCREENSHOT_TABS = {"plan": 0, "followup": 1, "departments": 2, "calendar": 5, "assessment": 6}


def build_parser() -> argparse.ArgumentParser:
    data_dir_help = "数据文件夹（默认：系统用户数据目录；也可用环境变量 QJGB_DATA_DIR）"
    # Accepted before or after the command; the command's copy must not overwrite the other with None.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=data_dir_help)
    user_help = "操作人姓名，记入留痕（默认：环境变量 QJGB_USER 或系统登录名）"
    common.add_argument("--user", default=argparse.SUPPRESS, help=user_help)

    parser = ChineseArgumentParser(
        prog="qjgb",
        description="延庆区“强基固本”教育改革与发展三年行动计划 进展管理（离线桌面程序）。不带命令时打开窗口。")
    parser.add_argument("--data-dir", metavar="DIR", default=None, help=data_dir_help)
    parser.add_argument("--user", default=None, help=user_help)
    parser.add_argument("--db", metavar="URL", default=None,
                        help="数据库地址（服务器模式：postgresql+psycopg://用户@服务器/数据库；默认：数据文件夹 config.toml 中的 "
                             "database_url、环境变量 QJGB_DATABASE_URL，否则为数据文件夹中的 SQLite 文件）。写在命令之前")
    parser.add_argument("--version", action="version", version=f"qjgb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=ChineseArgumentParser)

    sub.add_parser("gui", parents=[common], help="打开窗口（默认）")
    cli_plan.add_parsers(sub, common, ChineseArgumentParser)
    cli_data.add_parsers(sub, common, ChineseArgumentParser)
    cli_progress.add_parsers(sub, common, ChineseArgumentParser)
    cli_evidence.add_parsers(sub, common, ChineseArgumentParser)
    cli_excel.add_parsers(sub, common, ChineseArgumentParser)
    cli_documents.add_parsers(sub, common, ChineseArgumentParser)
    cli_supervision.add_parsers(sub, common, ChineseArgumentParser)
    cli_accounts.add_parsers(sub, common, ChineseArgumentParser)

    shot = sub.add_parser("screenshot", parents=[common], help="离屏渲染主窗口并保存为 PNG")
    shot.add_argument("--out", required=True, type=Path, help="输出的 PNG 文件")
    shot.add_argument("--select", type=whole_number, metavar="MEASURE_NO", help="选中第 N 项改革措施")
    shot.add_argument("--size", default="1366x768", help="窗口大小，如 1366x768（默认）")
    shot.add_argument("--department", help="按部门筛选（牵头或配合）")
    shot.add_argument("--year", type=whole_number, help="按年度筛选")
    shot.add_argument("--search", help="关键词筛选")
    shot.add_argument("--today", type=iso_date, help="按这一天计算红黄绿灯（默认今天）")
    shot.add_argument("--tab", choices=list(SCREENSHOT_TABS), default="plan",
                      help="显示的页：plan 计划，followup 督办，departments 部门，calendar 填报日历，assessment 考核")
    return parser


def main(argv: list[str] | None = None) -> int:
    _console_safe_output()
    paths.use_persistent_matplotlib_cache()  # before anything imports matplotlib
    errors.set_backup_hint(_newest_backup_hint)  # the damaged-database message names the newest good backup
    try:
        return _main(argv)
    except BrokenPipeError:  # output piped into `head` and cut short: not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # a damaged or locked database, a full or read-only disk: the user's to fix
        from qjgb_desktop.errors import report

        message = report(exc)
        if message is None:
            raise  # a bug: the traceback is for support
        print(f"错误：{message}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        paths.set_database_url(None)  # a command's server login ends with it


def _newest_backup_hint() -> str:
    from qjgb_desktop.services.safety.checks import newest_backup_hint

    return newest_backup_hint()


def _console_safe_output() -> None:
    """A Chinese Windows console (GBK) or a C locale cannot print every character (✓, rare 汉字): print a
    replacement there instead of failing with UnicodeEncodeError halfway through a command's output."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        if not encoding or not hasattr(stream, "reconfigure"):
            continue  # no console at all (windowed exe), or a test's capture object
        try:
            "汉字✓—“”".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            stream.reconfigure(errors="replace")


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.data_dir:
        paths.set_data_dir(args.data_dir)
    if getattr(args, "db", None) and args.command != "migrate-to":  # (migrate-to's own --db is its target)
        os.environ["QJGB_DATABASE_URL"] = args.db
    command = args.command or "gui"
    if command == "gui":
        from qjgb_desktop.app import run_gui

        return run_gui()
    if command == "screenshot":
        return _screenshot(args)

    def open_db():  # every command logs in where it opens the database
        return _open(args)

    try:
        if command in cli_plan.COMMANDS:
            return cli_plan.run(args, open_db)
        if command in cli_data.COMMANDS:
            return cli_data.run(args)
        if command in cli_progress.COMMANDS:
            return cli_progress.run(args, open_db)
        if command in cli_evidence.COMMANDS:
            return cli_evidence.run(args, open_db)
        if command in cli_excel.COMMANDS:
            return cli_excel.run(args, open_db)
        if command in cli_documents.COMMANDS:
            return cli_documents.run(args, open_db)
        if command in cli_supervision.COMMANDS:
            return cli_supervision.run(args, open_db)
        if command in cli_accounts.COMMANDS:
            return cli_accounts.run(args, open_db)
    except Failure as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_USAGE


def _open(args):
    """The database, opened (created, migrated, seeded) for a command; when it has accounts, the command's account
    is logged in here, once, before anything is read or written (cli_accounts.login_for_command)."""
    from qjgb_desktop.services.accounts.accounts import LoginFailed
    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.store import credentials
    from qjgb_desktop.store.schema import SchemaError

    url = cli_accounts.login_url(args)
    try:
        db = cli_accounts.with_server_password(url, open_database)
    except (SchemaError, LoginFailed, paths.ConfigError) as exc:
        raise Failure(str(exc)) from exc
    except Exception as exc:
        from qjgb_desktop.errors import explain

        message = explain(exc)
        if message is not None:
            raise Failure(f"无法打开数据库 {credentials.safe(url)}：{message}") from exc
        raise
    from qjgb_desktop.services.safety.database import sweep_leftovers

    sweep_leftovers()  # what killed or failed runs left behind goes at the next run
    try:
        cli_accounts.login_for_command(args, db.sessions)
    except BaseException:
        db.close()
        raise
    return db


def _screenshot(args) -> int:
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        print(f"错误：--size 应形如 1366x768，收到 {args.size!r}", file=sys.stderr)
        return EXIT_USAGE
    from qjgb_desktop.app import screenshot

    return screenshot(args.out, select=args.select, size=(width, height),
                      filters={"department": args.department, "year": args.year, "search": args.search},
                      today=args.today, tab=SCREENSHOT_TABS[args.tab],
                      login=lambda db: cli_accounts.login_for_command(args, db.sessions))

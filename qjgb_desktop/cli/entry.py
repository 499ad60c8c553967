"""Command line: `qjgb`, `python -m qjgb_desktop`, `python main.py`.

With no command the window opens. Commands call the same services as the window. Exit codes: 0 done,
1 the work failed (message on stderr), 2 bad arguments, 3 no display for the window.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from qjgb_desktop import __version__, errors, paths
from qjgb_desktop.cli import accounts as cli_accounts
from qjgb_desktop.cli import documents as cli_documents
from qjgb_desktop.cli import evidence as cli_evidence
from qjgb_desktop.cli import excel as cli_excel
from qjgb_desktop.cli import progress as cli_progress
from qjgb_desktop.cli import supervision as cli_supervision

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NO_DISPLAY = 0, 1, 2, 3


# The window's tabs by index: 计划 督办 部门 总览 指标 填报日历 考核.
SCREENSHOT_TABS = {"plan": 0, "followup": 1, "departments": 2, "calendar": 5, "assessment": 6}


class ChineseArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code for usage errors is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: 参数错误：{message}\n")


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
    sub.add_parser("init", parents=[common], help="创建数据文件夹和数据库并载入内置计划，输出其位置")

    plan = sub.add_parser("plan", parents=[common], help="查看或更新行动计划")
    plan.add_argument("--json", action="store_true", help="以 JSON 输出数据库中的计划")
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="子命令", parser_class=ChineseArgumentParser)
    load = plan_sub.add_parser("load", parents=[common], help="载入修订后的计划文件（JSON），保留已有进展")
    load.add_argument("file", type=Path, help="计划文件，格式同 resources/plan/plan.json")
    load.add_argument("--dry-run", action="store_true", help="只列出将发生的变化，不写入")

    backup = sub.add_parser("backup", parents=[common], help="备份数据库（程序运行时也可备份）")
    backup.add_argument("--out", type=Path, help="备份文件（默认：数据文件夹/backups/qjgb-日期时间.sqlite3）；"
                                                 "与 --full 一起时为备份文件夹")
    backup.add_argument("--full", action="store_true",
                        help="完整备份：数据库和全部佐证文件到 --out 文件夹（再次备份到同一文件夹只复制新增文件）")
    restore = sub.add_parser("restore", parents=[common], help="用备份恢复（先完整检查备份；窗口打开时也可运行，其保存会等待恢复完成）")
    restore.add_argument("file", type=Path, help="qjgb backup 生成的备份文件，或 --full 生成的备份文件夹")
    migrate = sub.add_parser("migrate-to", parents=[common],
                             help="把本机数据（数据库和全部佐证文件）复制到一个空的 PostgreSQL 服务器数据库，并逐表核对")
    migrate.add_argument("--db", required=True, metavar="URL",
                         help="服务器数据库地址，如 postgresql+psycopg://用户:密码@服务器地址:5432/qjgb（须为空数据库）")

    cli_progress.add_parsers(sub, common, ChineseArgumentParser)
    cli_evidence.add_parsers(sub, common, ChineseArgumentParser)
    cli_excel.add_parsers(sub, common, ChineseArgumentParser)
    cli_documents.add_parsers(sub, common, ChineseArgumentParser)
    cli_supervision.add_parsers(sub, common, ChineseArgumentParser)
    cli_accounts.add_parsers(sub, common, ChineseArgumentParser)

    shot = sub.add_parser("screenshot", parents=[common], help="离屏渲染主窗口并保存为 PNG")
    shot.add_argument("--out", required=True, type=Path, help="输出的 PNG 文件")
    shot.add_argument("--select", type=cli_progress.whole_number, metavar="MEASURE_NO", help="选中第 N 项改革措施")
    shot.add_argument("--size", default="1366x768", help="窗口大小，如 1366x768（默认）")
    shot.add_argument("--department", help="按部门筛选（牵头或配合）")
    shot.add_argument("--year", type=cli_progress.whole_number, help="按年度筛选")
    shot.add_argument("--search", help="关键词筛选")
    shot.add_argument("--today", type=cli_progress.iso_date, help="按这一天计算红黄绿灯（默认今天）")
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
        if command == "init":
            return _init(args)
        if command == "plan":
            return _plan(args)
        if command in ("backup", "restore"):
            return _backup(args)
        if command == "migrate-to":
            return _migrate_to(args)
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
    except _Failure as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_USAGE


class _Failure(Exception):
    pass


def _open(args):
    """The database, opened (created, migrated, seeded) for a command; when it has accounts, the command's account
    is logged in here, once, before anything is read or written (cli_accounts.login_for_command)."""
    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.store.schema import SchemaError

    try:
        db = open_database()
    except SchemaError as exc:
        raise _Failure(str(exc)) from exc
    except Exception as exc:
        from qjgb_desktop.errors import explain

        message = explain(exc)
        if message is not None:
            raise _Failure(f"无法打开数据库 {paths.database_url()}：{message}") from exc
        raise
    from qjgb_desktop.services.safety.database import sweep_leftovers

    sweep_leftovers()  # what killed or failed runs left behind goes at the next run
    try:
        cli_accounts.login_for_command(args, db.sessions)
    except BaseException:
        db.close()
        raise
    return db


def _init(args) -> int:
    db = _open(args)
    try:
        with db.sessions() as session:
            from qjgb_desktop.services.plan.query import plan_tree

            tree = plan_tree(session)
    finally:
        db.close()
    print(f"数据文件夹：{paths.data_dir()}")
    print(f"数据库：{db.url}")
    schema = {"current": "已是最新", "created": "已创建"}.get(db.schema_action, db.schema_action)
    print(f"数据库结构：{schema}")
    n_measures = sum(len(a.measures) for a in tree.actions)
    print(f"计划：{tree.title}（{tree.status}）{'已载入' if db.seeded else '已存在，未改动'}，"
          f"{len(tree.actions)} 项任务、{n_measures} 项措施、"
          f"{sum(len(m.targets) for a in tree.actions for m in a.measures)} 个年度目标")
    return EXIT_OK


def _plan(args) -> int:
    if args.plan_command == "load":
        return _plan_load(args)
    db = _open(args)
    try:
        with db.sessions() as session:
            from qjgb_desktop.services.plan.query import plan_as_dict, plan_tree

            tree = plan_tree(session)
            if args.json:
                json.dump(plan_as_dict(tree), sys.stdout, ensure_ascii=False, indent=2)
                sys.stdout.write("\n")
                return EXIT_OK
    finally:
        db.close()
    print(f"{tree.title}（{tree.status}）")
    for a in tree.actions:
        print(f"（{a.numeral}）{a.title}")
        for m in a.measures:
            print(f"  {m.no}. {m.title}  牵头：{m.lead}  配合：{'、'.join(m.cooperating) or '无'}")
    return EXIT_OK


def _plan_load(args) -> int:
    from qjgb_desktop.services.plan.load import PlanRecordError, load_plan, read_plan_file

    try:
        record = read_plan_file(args.file)
    except PlanRecordError as exc:
        raise _Failure(str(exc)) from exc
    db = _open(args)
    try:
        with db.sessions.begin(purpose="载入计划", dry_run=args.dry_run) as session:
            actor = args.user if getattr(args, "account", None) else "qjgb plan load"  # the account, when logged in
            summary = load_plan(session, record, actor=actor, source=str(args.file))
    finally:
        db.close()
    verb = "将" if args.dry_run else "已"
    if summary.unchanged:
        print("计划与数据库中的一致，没有变化。")
    for label, items in (("新增", summary.added), ("修改", summary.changed), ("停用", summary.retired)):
        if items:
            print(f"{verb}{label} {len(items)} 项：{'；'.join(items)}")
    if args.dry_run:
        print("（试运行，未写入）")
    return EXIT_OK


def _backup(args) -> int:
    from qjgb_desktop.errors import UserError
    from qjgb_desktop.services.safety.backup import create_backup, create_full_backup
    from qjgb_desktop.services.safety.restore import restore_backup, restore_full_backup

    _require_at_entry(args, args.command)  # 管理员 only, when the database has accounts
    here = "本机" if paths.database_url().startswith("sqlite") else "服务器上"  # server mode: same formats
    try:
        if args.command == "backup":
            if args.full:
                if args.out is None:
                    raise _Failure("完整备份请用 --out 指定一个文件夹（如 U 盘上的文件夹）")
                result = create_full_backup(args.out)
                print(f"已完整备份到：{args.out}（数据库 {result.database.name}，新复制佐证文件 {result.copied} 个）")
                if result.missing:
                    print(f"警告：有 {len(result.missing)} 个佐证文件在{here}已缺失或损坏，未能备份；"
                          "请运行 qjgb verify 查看。", file=sys.stderr)
            else:
                print(f"已备份到：{create_backup(args.out)}")
                print("提示：佐证文件不在此文件中；完整备份请用 qjgb backup --full --out 文件夹")
            return EXIT_OK
        # The restore holds the data folder's write lock: the window's and other commands' writes wait for it.
        if args.file.is_dir() and not args.file.is_symlink():
            result = restore_full_backup(args.file)
        else:
            result = restore_backup(args.file)
    except UserError as exc:
        raise _Failure(str(exc)) from exc
    if result.upgraded_from:
        print(f"备份的数据库版本为 {result.upgraded_from}，已升级到本程序的版本。")
    if args.file.is_dir():
        print(f"已恢复佐证文件 {result.evidence_copied} 个")
    if result.missing_at_backup:
        print(f"注意：有 {len(result.missing_at_backup)} 个佐证文件在做这份备份时就已缺失，未能恢复。")
    if result.evidence_missing_here:
        print(f"注意：恢复后的数据中有 {result.evidence_missing_here} 个佐证文件不在{here}"
              f"{'（单文件备份不含佐证文件，请用完整备份文件夹恢复）' if not args.file.is_dir() else ''}；"
              "可运行 qjgb verify 查看。")
    if result.window_open:
        print("程序窗口正在运行：请关闭并重新打开窗口，以显示恢复后的数据。")
    print(f"已从 {args.file} 恢复。")
    if result.safety:
        print(f"恢复前的数据已另存为：{result.safety}")
    else:
        print("恢复前没有可保留的数据库，未另存。")
    return EXIT_OK


def _migrate_to(args) -> int:
    """qjgb migrate-to --db URL: exit 0 copied and proven equal; 2 refused (nothing written); 1 failed or not equal
    (rolled back: the server holds nothing of it)."""
    from qjgb_desktop.services.safety.migrate import migrate_to
    from qjgb_desktop.services.safety.compare import CopyMismatch
    from qjgb_desktop.services.safety.transfer import MigrateError, Refused, safe_url

    _require_at_entry(args, "backup")  # it reads everything, like a backup: 管理员 only when there are accounts

    def progress(what: str, done: int, total: int) -> None:
        if done == total or done == 1:
            print(f"  {what}：{done}/{total}", file=sys.stderr)

    try:
        migration = migrate_to(args.db, progress=progress)
    except Refused as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USAGE
    except CopyMismatch as exc:
        print("\n".join(exc.comparison.summary_lines("本机", "服务器")))
        print("错误：服务器上的副本与本机数据不一致，迁移已全部撤销，服务器上没有留下本次迁移的数据：", file=sys.stderr)
        for line in exc.comparison.differences():
            print(f"  {line}", file=sys.stderr)
        return EXIT_FAIL
    except MigrateError as exc:
        raise _Failure(str(exc)) from exc
    result = migration.result
    print(f"已把本机数据迁移到服务器：{safe_url(migration.target)}")
    print("\n".join(result.comparison.summary_lines("本机", "服务器")))
    print(f"佐证文件：新复制 {result.contents_copied} 个。")
    if result.contents_missing:
        print(f"警告：有 {len(result.contents_missing)} 个佐证文件在本机已缺失或损坏，未能迁移；"
              "请运行 qjgb verify 查看。", file=sys.stderr)
    print("核对完成：每张数据表的行数和内容、每个佐证文件的 SHA-256 均与本机一致。")
    print(f"各台电脑改用服务器：在数据文件夹的 config.toml 中写入 database_url = \"{safe_url(migration.target)}\""
          "（*** 处填实际密码；或设置环境变量 QJGB_DATABASE_URL）。本机的数据文件夹保持原样，可留作备份。")
    return EXIT_OK


def _require_at_entry(args, action: str) -> None:
    """backup and restore copy whole databases instead of writing through a service, so their rule (services/accounts/access.py)
    is checked here. The database is only read for it, never created or migrated; one that cannot be read (damaged:
    what a restore is for) has no accounts to ask."""
    if not cli_accounts.database_has_accounts(paths.database_url()):
        return
    from qjgb_desktop.services.accounts.access import require
    from qjgb_desktop.store.engine import make_engine, make_sessionmaker

    engine = make_engine(paths.database_url())
    try:
        sessions = make_sessionmaker(engine)
        account = cli_accounts.login_for_command(args, sessions)
        if account is not None:
            with sessions() as s:
                require(s, account.name, action)
    finally:
        engine.dispose()


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

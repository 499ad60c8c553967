"""Command line for the data's safety: `qjgb backup [--full] [--out]`, `qjgb restore FILE|FOLDER` and
`qjgb migrate-to --db URL` (a single PC's data onto a database server). These copy whole databases instead of
writing through a service, so a 管理员's login is checked here when the database has accounts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from qjgb_desktop import paths
from qjgb_desktop.cli import accounts as cli_accounts
from qjgb_desktop.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Failure

COMMANDS = ("backup", "restore", "migrate-to")


def add_parsers(sub, common, parser_class) -> None:
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
                         help="服务器数据库地址，如 postgresql+psycopg://所有者@服务器地址:5432/qjgb（须为空数据库；密码在提示时输入，或用 QJGB_PASSWORD、PGPASSFILE）")



def run(args) -> int:
    return _migrate_to(args) if args.command == "migrate-to" else _backup(args)


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
                    raise Failure("完整备份请用 --out 指定一个文件夹（如 U 盘上的文件夹）")
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
        raise Failure(str(exc)) from exc
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
    from qjgb_desktop.services.safety.compare import CopyMismatch
    from qjgb_desktop.services.safety.migrate import migrate_to
    from qjgb_desktop.services.safety.transfer import MigrateError, Refused, safe_url

    _require_at_entry(args, "backup")  # it reads everything, like a backup: 管理员 only when there are accounts

    def progress(what: str, done: int, total: int) -> None:
        if done == total or done == 1:
            print(f"  {what}：{done}/{total}", file=sys.stderr)

    from qjgb_desktop.store import credentials

    target = credentials.clean(args.db)  # a password in it is kept in memory, never printed
    if credentials.password_for(target) is None and os.environ.get(cli_accounts.ENV_PASSWORD) is not None:
        credentials.remember(target, os.environ[cli_accounts.ENV_PASSWORD])
    try:
        migration = cli_accounts.with_server_password(target, lambda url: migrate_to(url, progress=progress))
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
        raise Failure(str(exc)) from exc
    result = migration.result
    print(f"已把本机数据迁移到服务器：{safe_url(migration.target)}")
    print("\n".join(result.comparison.summary_lines("本机", "服务器")))
    print(f"佐证文件：新复制 {result.contents_copied} 个。")
    if result.contents_missing:
        print(f"警告：有 {len(result.contents_missing)} 个佐证文件在本机已缺失或损坏，未能迁移；"
              "请运行 qjgb verify 查看。", file=sys.stderr)
    print("核对完成：每张数据表的行数和内容、每个佐证文件的 SHA-256 均与本机一致。")
    if migration.converted:
        print(f"本机的 {len(migration.converted)} 个账户（{'、'.join(migration.converted)}）已成为服务器上的登录，密码须重新设置："
              "数据库管理员用 qjgb --db 所有者地址 user passwd 管理员账户名 设置管理员的新密码，再由管理员为其他账户设置；"
              "各账户第一次登录时须改成自己的密码。")
    print(f"各台电脑改用服务器：在数据文件夹的 config.toml 中写入 database_url = "
          f"\"{credentials.account_url(migration.target)}\"（只写服务器和数据库，不写登录名和密码；每人用自己的账户登录，"
          "账户由管理员用 qjgb user add 建立）。本机的数据文件夹保持原样，可留作备份。")
    return EXIT_OK


def _require_at_entry(args, action: str) -> None:
    """backup and restore copy whole databases instead of writing through a service, so their rule
    (services/accounts/access.py) is checked here. The database is only read for it, never created or migrated; one
    that cannot be read (damaged: what a restore is for) has no accounts to ask."""
    from qjgb_desktop.store import credentials

    server = credentials.is_server(paths.database_url())
    if server:
        cli_accounts.login_url(args)
    elif not cli_accounts.database_has_accounts(paths.database_url()):
        return
    from qjgb_desktop.services.accounts.access import require
    from qjgb_desktop.store.engine import make_engine, make_sessionmaker

    engine = make_engine(paths.database_url())
    try:
        sessions = make_sessionmaker(engine)
        if server:  # the login is checked by connecting
            cli_accounts.with_server_password(paths.database_url(), lambda _url: engine.connect().close())
        account = cli_accounts.login_for_command(args, sessions)
        if account is not None:
            if server and action == "restore":
                raise Failure(f"服务器上的恢复会替换全部数据（包括账户和留痕），须由数据库管理员用数据库所有者的登录进行；"
                              f"账户“{account.name}”不能恢复。")
            with sessions() as s:
                require(s, account.name, action)
    finally:
        engine.dispose()

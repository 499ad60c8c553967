"""Command line for accounts: `qjgb user add|list|set|passwd|disable|enable`, and the login every command makes when the
database has accounts (`login_for_command`, called once where cli.py opens the database).

Logging in on the command line: the account is `--user NAME` (or the environment variable QJGB_USER); the password
is read from the environment variable QJGB_PASSWORD (for scripts and scheduled tasks; keep such a script readable
only by its owner), or asked with a hidden prompt when the command runs in a terminal. Without either, or with a
wrong password, the command does nothing and exits with 1. A password is never an argument (`--password` would
show it in the process list and the shell history): `user add` and `user passwd` read the new one from standard
input with --password-stdin, or ask for it twice.
"""

from __future__ import annotations

import getpass
import json
import os
import sys

from qjgb_desktop.cli.common import EXIT_OK, current_user, over_database

COMMANDS = ("user",)
ENV_PASSWORD = "QJGB_PASSWORD"
# services.access.ROLES, spelled out: building the parser must not import SQLAlchemy (the window starts through it).
ROLES = ("管理员", "督导", "部门填报员", "只读")


def add_parsers(sub, common, parser_class) -> None:
    user = sub.add_parser("user", parents=[common], help="登录账户：添加、列出、修改角色与部门、改密码、停用、启用",
                          description="有了第一个账户（须为管理员）之后，每个命令和窗口都须用账户登录；"
                                      "命令行的账户用 --user 或 QJGB_USER 指明，密码取自环境变量 QJGB_PASSWORD 或提示输入。")
    usub = user.add_subparsers(dest="user_command", metavar="子命令", required=True, parser_class=parser_class)
    add = usub.add_parser("add", parents=[common], help="添加账户（第一个账户须为管理员，任何人可创建；之后仅管理员可添加）")
    add.add_argument("name", help="账户名，如 张敏")
    add.add_argument("--role", required=True, choices=ROLES, help="管理员 / 督导 / 部门填报员 / 只读")
    add.add_argument("--department", action="append", default=[], metavar="部门",
                     help="部门填报员负责的部门，须与计划中的责任部门同名（可重复）")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）；不给则在终端提示输入两次")
    lst = usub.add_parser("list", parents=[common], help="列出账户")
    lst.add_argument("--json", action="store_true")
    passwd = usub.add_parser("passwd", parents=[common], help="修改密码（本人，或由管理员重设）")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="从标准输入读取新密码（一行）")
    change = usub.add_parser("set", parents=[common], help="修改账户的角色或绑定的部门（仅管理员）")
    change.add_argument("name")
    change.add_argument("--role", choices=ROLES, help="新角色；不给则不变")
    change.add_argument("--department", action="append", default=None, metavar="部门",
                        help="部门填报员负责的部门（可重复；给出即替换原有部门）")
    change.add_argument("--reason", default="", help="修改原因（记入留痕）")
    disable = usub.add_parser("disable", parents=[common], help="停用账户（账户不删除，记录中的姓名保留）")
    disable.add_argument("name")
    disable.add_argument("--reason", default="", help="停用原因（记入留痕）")
    enable = usub.add_parser("enable", parents=[common], help="重新启用账户")
    enable.add_argument("name")


# -- logging in ------------------------------------------------------------------------------------------------

def _terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def server_url(args, url: str) -> str:
    """The URL a command connects to a server with. A URL naming a login (the DBA's) is used as it is; otherwise the
    login is the account of --user or QJGB_USER. The password: the URL's own (the DBA's, given with --db or in
    QJGB_DATABASE_URL, never printed), else QJGB_PASSWORD, else libpq's PGPASSWORD or PGPASSFILE, else a prompt
    (`with_server_password`)."""
    from qjgb_desktop.services.accounts.accounts import LoginFailed
    from qjgb_desktop.store import credentials

    if not credentials.is_server(url):
        return url
    if not credentials.user_of(url):
        name = (getattr(args, "user", None) or os.environ.get("QJGB_USER") or "").strip()
        if not name:
            raise LoginFailed("服务器模式须用账户登录：请用 --user 账户名（或环境变量 QJGB_USER）指明账户，密码在提示时输入"
                              f"（脚本中用环境变量 {ENV_PASSWORD}）。未执行任何操作。")
        url = credentials.with_user(url, name)
    bare = credentials.clean(url)
    if os.environ.get(ENV_PASSWORD) is not None and not credentials.has_password(url):
        credentials.remember(bare, os.environ[ENV_PASSWORD])  # this command's password
    return bare


def login_url(args) -> str:
    """The database URL of this command; on a server, with its login (store/credentials: never the password), which
    from now on is the URL every part of the command uses (paths.set_database_url, until the command ends)."""
    from qjgb_desktop import paths

    url = server_url(args, paths.database_url())
    if url != paths.database_url():
        paths.set_database_url(url)
    return url


def with_server_password(url: str, attempt):
    """attempt(url) on a server; a login the server refuses becomes LoginFailed (noted in the log, never with the
    password), and a password the server asks for but nobody gave is asked for once at a terminal."""
    from qjgb_desktop.services.accounts.accounts import LoginFailed
    from qjgb_desktop.services.accounts.server import login_problem, login_refusal, record_failed_login
    from qjgb_desktop.store import credentials

    if not credentials.is_server(url):
        return attempt(url)
    user = credentials.user_of(url) or ""
    for asked in (False, True):
        try:
            return attempt(url)
        except Exception as exc:
            problem = login_problem(exc)
            if problem is None:
                raise
            if problem == "no password" and not asked and _terminal() and credentials.password_for(url) is None:
                credentials.remember(url, getpass.getpass(f"服务器 {credentials.safe(url)} 上“{user}”的密码："))
                continue
            if problem == "no password":
                raise LoginFailed(f"服务器要求“{user}”的密码：请在终端中运行以输入密码，或（用于脚本）设置环境变量 "
                                  f"{ENV_PASSWORD}，或使用 PGPASSFILE 密码文件。未执行任何操作。") from None
            record_failed_login(url, user, problem)
            refusal = login_refusal(problem, user)
            raise LoginFailed(f"{'登录失败：' if problem == 'wrong' else ''}{refusal}未执行任何操作。") from None
    raise AssertionError("unreachable")


def _server_login(args, sessions):
    """A command on a server, connected as its login: the DBA works account-free (the names given are recorded);
    any other login must be an account, and one whose password a 管理员 set must change it first."""
    from qjgb_desktop.services.accounts.access import identity
    from qjgb_desktop.services.accounts.accounts import LoginFailed
    from qjgb_desktop.services.accounts.server import must_change_password

    with sessions() as s:
        ident = identity(s)
        change = ident.account is not None and must_change_password(s, ident.login)
    args.login_checked = True
    if ident.owner:
        args.account = None
        return None
    if ident.account is None:
        raise LoginFailed(f"登录“{ident.login}”不是本数据库的账户。请用管理员为您建立的账户登录。未执行任何操作。")
    if change and not (args.command == "user" and getattr(args, "user_command", None) == "passwd"
                       and getattr(args, "name", None) == ident.login):
        raise LoginFailed(f"账户“{ident.login}”的密码由管理员设置，须先改成只有您知道的密码："
                          f"qjgb user passwd {ident.login}（按提示输入新密码）。未执行任何操作。")
    args.user, args.account = ident.account.name, ident.account
    return ident.account


def login_for_command(args, sessions):
    """When the database has accounts: log the command's account in, or raise LoginFailed (exit 1, nothing done).
    Afterwards `args.user` is the account's name, so every record and audit entry names the account. Returns the
    account, or None for a database without accounts (account-free, as on a single PC). On a server the login
    happened at the connection (`server_url`); here it is only checked to be an account."""
    from qjgb_desktop.services.accounts.access import accounts_exist
    from qjgb_desktop.services.accounts.accounts import LoginFailed, login

    if getattr(args, "login_checked", False):
        return getattr(args, "account", None)
    if sessions.server:
        return _server_login(args, sessions)
    with sessions() as s:
        enforced = accounts_exist(s)
    if not enforced:
        args.login_checked, args.account = True, None
        return None
    name = (getattr(args, "user", None) or os.environ.get("QJGB_USER") or "").strip()
    if not name:
        raise LoginFailed("本数据库已启用账户登录：请用 --user 账户名（或环境变量 QJGB_USER）指明账户，"
                          f"密码在提示时输入（脚本中用环境变量 {ENV_PASSWORD}）。未执行任何操作。")
    password = os.environ.get(ENV_PASSWORD)
    if password is None:
        if not _terminal():
            raise LoginFailed(f"本数据库已启用账户登录：账户“{name}”需要密码。请在终端中运行以输入密码，"
                              f"或（用于脚本）设置环境变量 {ENV_PASSWORD}。未执行任何操作。")
        password = getpass.getpass(f"账户“{name}”的密码：")
    try:
        account = login(sessions, name, password)
    except LoginFailed as exc:
        raise LoginFailed(f"登录失败：{exc}未执行任何操作。") from None
    args.user, args.account, args.login_checked = account.name, account, True
    return account


def database_has_accounts(url: str) -> bool:
    """Whether the database at `url` has accounts, read without opening it the program's way (nothing created,
    migrated or seeded). False when it cannot be read: a damaged database (what a restore is for) has no accounts
    anyone could ask, and a backup of it fails on its own."""
    from qjgb_desktop import paths

    db_file = paths.sqlite_path(url)
    if db_file is not None:
        import sqlite3

        if not db_file.is_file():
            return False
        try:
            conn = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)
            try:
                return conn.execute("SELECT 1 FROM user_account LIMIT 1").fetchone() is not None
            finally:
                conn.close()
        except sqlite3.Error:
            return False
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from qjgb_desktop.store.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM user_account LIMIT 1")).first() is not None
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


# -- qjgb user … -----------------------------------------------------------------------------------------------

def _new_password(args) -> str:
    from qjgb_desktop.services.accounts.accounts import MIN_PASSWORD, AccountError

    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise AccountError("标准输入中没有密码（--password-stdin 读取一行）")
        return line.rstrip("\r\n")
    if not _terminal():
        raise AccountError("请用 --password-stdin 从标准输入提供密码，或在终端中运行以输入密码（密码不能作为参数给出）")
    first = getpass.getpass(f"新密码（至少 {MIN_PASSWORD} 个字符）：")
    if getpass.getpass("再输入一次：") != first:
        raise AccountError("两次输入的密码不一致，未保存")
    return first


def run(args, open_db) -> int:
    from qjgb_desktop.services.accounts.accounts import AccountError

    return over_database(args, open_db, _dispatch, (AccountError,))


def _dispatch(args, db) -> int:
    from qjgb_desktop.services.accounts import accounts as svc

    cmd = args.user_command
    if cmd == "list":
        with db.sessions() as s:
            items = svc.list_accounts(s)
        if args.json:
            json.dump([a.as_json() for a in items], sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        elif not items:
            print("尚无账户：程序以无账户方式运行。用 qjgb user add 姓名 --role 管理员 创建第一个管理员账户后，"
                  "每个命令和窗口都须登录。")
        else:
            for a in items:
                state = "已停用" if a.disabled else "启用（待本人改密码）" if a.must_change_password else "启用"
                print(f"{a.label}  {state}  创建于 {a.created_at:%Y-%m-%d %H:%M}（{a.created_by}）")
        return EXIT_OK
    actor = current_user(args)
    password = _new_password(args) if cmd in ("add", "passwd") else None
    with db.sessions.begin(purpose="账户管理") as s:
        if cmd == "add":
            first = not svc.list_accounts(s)
            account = svc.add_account(s, actor, args.name, password, args.role, args.department)
            done = f"已添加账户：{account.label}"
            if first:
                done += ("\n这是第一个账户：从现在起本数据库启用账户登录，每个命令都须用 --user 账户名 登录"
                         f"（密码提示输入，或脚本中用环境变量 {ENV_PASSWORD}），窗口启动时须登录。")
        elif cmd == "passwd":
            account = svc.change_password(s, actor, args.name, password)
            done = f"已修改账户“{account.name}”的密码"
        elif cmd == "set":
            if args.role is None and args.department is None:
                raise svc.AccountError("请用 --role 或 --department 指明要修改的内容")
            account = svc.update_account(s, actor, args.name, args.role, args.department, args.reason)
            done = f"已修改账户：{account.label}"
        elif cmd == "disable":
            account = svc.disable_account(s, actor, args.name, args.reason)
            done = f"已停用账户“{account.name}”（不能再登录；记录中的姓名保留）"
        else:
            account = svc.enable_account(s, actor, args.name)
            done = f"已重新启用账户“{account.name}”"
    print(done)
    return EXIT_OK

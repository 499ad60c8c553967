"""Server mode: who is logged in is the database's login (session_user), and accounts are changed only through the
database's own functions (store/server_security.py), which check the caller again; a password reaches the server
only as a SCRAM-SHA-256 verifier computed here.

The DBA (a member of the owner role) works as on a single PC without accounts: everything is allowed, the names
given are recorded; every other login is an account and is what `access.require` checks, whatever name a caller
passes in.
"""

from __future__ import annotations

import json

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from qjgb_desktop.errors import UserError
from qjgb_desktop.services.accounts.access import WRONG_LOGIN, forget_identity, identity


def verifier(session: Session, name: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of `password`, made by libpq on this PC: the server never sees the password."""
    raw = session.connection().connection.dbapi_connection
    return raw.pgconn.encrypt_password(password.encode("utf-8"), name.encode("utf-8"), b"scram-sha-256").decode()


def call(session: Session, sql: str, params: dict, error: type[UserError]) -> None:
    """One of the account functions; what it refuses becomes `error` with the server's (Chinese) message, inside a
    savepoint so the caller's transaction stays usable."""
    try:
        with session.begin_nested():
            session.execute(text(sql), params)
    except DBAPIError as exc:
        diag = getattr(exc.orig, "diag", None)
        state = getattr(exc.orig, "sqlstate", "") or ""
        message = getattr(diag, "message_primary", None) or str(exc.orig)
        if state == "42501":
            from qjgb_desktop.services.accounts.access import AccessDenied

            raise AccessDenied(f"数据库服务器拒绝：{message}") from None
        if state in ("22023", "23505", "P0001"):
            raise error(message) from None
        raise
    forget_identity(session)
    session.expire_all()


def add(session: Session, name: str, password: str, role: str, departments: list[str], error) -> None:
    call(session, "SELECT public.qjgb_account_add(:n, :v, :r, CAST(:d AS json))",
         {"n": name, "v": verifier(session, name, password), "r": role, "d": json.dumps(departments)}, error)


def set_password(session: Session, name: str, password: str, error) -> None:
    """A new password for `name`; one's own is from then on also the one this program connects with."""
    own = identity(session).login == name
    call(session, "SELECT public.qjgb_account_password(:n, :v)",
         {"n": name, "v": verifier(session, name, password)}, error)
    if own:  # once committed: a rolled-back change leaves the password this program connects with as it was
        from sqlalchemy import event

        from qjgb_desktop.store import credentials

        url = session.get_bind().url.render_as_string(hide_password=False)
        event.listen(session, "after_commit", lambda _s: credentials.remember(url, password), once=True)


def update(session: Session, name: str, role: str, departments: list[str], reason: str, error) -> None:
    call(session, "SELECT public.qjgb_account_update(:n, :r, CAST(:d AS json), :why)",
         {"n": name, "r": role, "d": json.dumps(departments), "why": reason}, error)


def set_disabled(session: Session, name: str, disabled: bool, reason: str, error) -> None:
    call(session, "SELECT public.qjgb_account_disable(:n, :off, :why)",
         {"n": name, "off": disabled, "why": reason}, error)


def check_password(session: Session, name: str, password: str) -> bool:
    """Whether `password` logs `name` in to this server (a connection of its own, closed at once)."""
    import psycopg

    u = session.get_bind().url
    params = {"host": u.query.get("host", u.host), "port": u.query.get("port", u.port), "dbname": u.database,
              "user": name, "password": password, "connect_timeout": 10}
    try:
        psycopg.connect(**{k: v for k, v in params.items() if v is not None}).close()
    except psycopg.OperationalError:
        return False
    return True


def must_change_password(session: Session, name: str) -> bool:
    from qjgb_desktop.store.models import UserAccount

    return bool(session.scalar(select(UserAccount.must_change_password).where(UserAccount.name == name)))


def login_problem(exc: BaseException) -> str | None:
    """What a failed connection says about the login: "no password" (none was given), "wrong" (password or name),
    "disabled" (a login the server does not let in), "no access" (not allowed this database), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text_ = str(exc)
        if "no password supplied" in text_:
            return "no password"
        if "password authentication failed" in text_:
            return "wrong"
        if "is not permitted to log in" in text_:
            return "disabled"
        if "permission denied for database" in text_:
            return "no access"
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return None


def login_refusal(problem: str, user: str) -> str:
    """What to tell the person whose login the server refused (login_problem's answer)."""
    return {"disabled": f"账户“{user}”已停用，不能登录。如需使用，请与管理员联系。",
            "no access": f"登录“{user}”无权使用该数据库（不是本数据库的账户）。"}.get(problem, WRONG_LOGIN)


def record_failed_login(url: str, user: str, problem: str) -> None:
    """A refused login, as this PC saw it, into <data>/logs/login-failures.log (time, account, server; never the
    password). The server's own log (log_connections, see README) has every attempt from every PC."""
    from datetime import datetime

    from qjgb_desktop import paths
    from qjgb_desktop.store import credentials

    line = f"{datetime.now().isoformat(timespec='seconds')}\t{user}\t{problem}\t{credentials.safe(url)}\n"
    try:
        logs = paths.data_dir() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "login-failures.log", "a", encoding="utf-8") as fh:
            fh.write(line)
    except OSError:  # a read-only or full disk: the refusal itself is still told
        pass


def setup_summary(session: Session) -> list[str]:
    """What `init` tells the DBA about a server database: its roles, who is logged in, what to do next."""
    from qjgb_desktop.store import server_security
    from qjgb_desktop.store.models import UserAccount

    conn = session.connection()
    r = server_security.roles(conn)
    ident = identity(session)
    lines = []
    if r is not None:
        groups = "，".join(f"{role} {r.group_of(role)}" for role in server_security.GROUPS)
        lines.append(f"服务器角色：数据表属于 {r.owner}（不能登录）；账户按角色属于：{groups}。")
    waiting = list(session.scalars(select(UserAccount.name).where(UserAccount.must_change_password.is_(True),
                                                                  UserAccount.disabled.is_(False))))
    accounts = session.scalar(select(UserAccount.id).limit(1)) is not None
    if waiting:
        lines.append(f"待设置新密码的账户：{'、'.join(waiting)}（管理员用 qjgb user passwd 账户名 --password-stdin 设置；"
                     "各账户第一次登录时须改成自己的密码）。")
    if ident.owner and not accounts:
        lines.append("下一步：建立第一个管理员账户（密码从标准输入读取，不写在命令行上）：\n"
                     "  qjgb --db postgresql+psycopg://所有者@服务器/数据库 user add 姓名 --role 管理员 --password-stdin\n"
                     "之后管理员在任何一台电脑上用自己的账户添加其他账户；各台电脑的 config.toml 只写 "
                     "database_url = \"postgresql+psycopg://服务器/数据库\"。")
    return lines

"""Bring the database schema to the revision this program was built for, through the Alembic migrations.

The common case, a database already at HEAD, costs one small query and never imports Alembic. An older
database is backed up first (SQLite: a consistent copy beside it) and then migrated; a database written by
a newer program is refused, since this program cannot know what its tables mean.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, inspect, text

from qjgb_desktop.errors import UserError
from qjgb_desktop.paths import resource_path
from qjgb_desktop.store.backup import backup_sqlite
from qjgb_desktop.store.revision import HEAD, REVISIONS

__all__ = ["HEAD", "REVISIONS", "SchemaError", "alembic_config", "current_revision", "ensure_schema"]


class SchemaError(UserError, RuntimeError):
    """A database this program cannot use as it is; the message tells the user what to do."""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _revision_on(conn)


def _revision_on(conn) -> str | None:
    if conn.dialect.name == "postgresql":  # asked without an error, which would end a surrounding transaction
        if conn.scalar(text("SELECT to_regclass('public.alembic_version')")) is None:
            return None
        return conn.scalar(text("SELECT version_num FROM alembic_version"))
    try:
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except Exception:  # no such table: a new or foreign database
        conn.rollback()
        return None
    return row[0] if row else None


def alembic_config(engine: Engine | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resource_path("db")))
    if engine is not None:
        # configparser reads % as interpolation: a path with Chinese characters is percent-encoded in the URL.
        # Never the password: the program hands Alembic its connection, this is only for Alembic's own messages.
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=True).replace("%", "%%"))
    return cfg


def ensure_schema(engine: Engine) -> str:
    """Return what was done: "current", "created" or "migrated from <rev>".

    Creating or migrating holds the data folder's write lock for the whole run (store/locks.py), so no write and
    no restore of another process or thread can come between the backup, the migration and its check; the
    revision is read again inside the lock, since another process may have done the work meanwhile."""
    if engine.dialect.name == "postgresql":
        return _ensure_server_schema(engine)
    rev = current_revision(engine)
    if rev == HEAD:
        return "current"
    _refuse_unknown(engine, rev)

    from qjgb_desktop.store.engine import engine_file, engine_lock_file
    from qjgb_desktop.store.locks import write_lock

    with write_lock(engine_lock_file(engine), purpose="创建或升级数据库"):
        rev = current_revision(engine)
        if rev == HEAD:
            return "current"
        _refuse_unknown(engine, rev)

        db_file = engine_file(engine)
        if rev is not None and db_file is not None and db_file.exists():
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            backup_sqlite(db_file, db_file.with_name(f"{db_file.stem}.before-{HEAD}-{stamp}{db_file.suffix}"))

        from alembic import command

        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return "created" if rev is None else f"migrated from {rev}"


# The advisory lock every creation or migration of a server database takes, for its whole transaction: two PCs (or
# two `migrate-to`) at once get one result, the second finding the work done.
SCHEMA_LOCK_KEY = 0x716A_6773  # "qjgs"


def _server_current(conn) -> tuple[str | None, bool]:
    from qjgb_desktop.store import server_security

    rev = _revision_on(conn)
    return rev, rev == HEAD and server_security.installed_version(conn) == server_security.VERSION


def _ensure_server_schema(engine: Engine) -> str:
    """A server database: the schema at head and its security (store/server_security.py) installed. Only the DBA
    (the owner's login) creates or migrates it, holding the schema advisory lock; an account finds it ready or is
    told to ask the DBA."""
    from qjgb_desktop.store import server_security

    with engine.connect() as conn:
        rev, ready = _server_current(conn)
    if ready:
        return "current"
    _refuse_unknown(engine, rev)
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
        rev, ready = _server_current(conn)  # another PC may have done it while this one waited
        if ready:
            return "current"
        why = server_security.may_install(conn) if server_security.session_is_owner(conn) else "当前登录是一个账户"
        if why is not None:
            login = conn.scalar(text("SELECT session_user"))
            state = "尚未初始化" if rev is None else f"需要升级（{rev} → {HEAD}）"
            raise SchemaError(f"服务器上的数据库{state}，须由数据库管理员完成：{why}（当前登录：{login}）。"
                              "请数据库管理员用数据库所有者的登录运行 qjgb --db postgresql+psycopg://所有者@服务器/数据库 init"
                              "（步骤见 README“服务器模式”）。")
        roles = server_security.prepare(conn)
        from alembic import command

        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        server_security.install(conn, roles)
        conn.execute(text("RESET ROLE"))
    if rev is None:
        return "created"
    return f"migrated from {rev}" if rev != HEAD else "secured"


def _refuse_unknown(engine: Engine, rev: str | None) -> None:
    if rev is not None and rev not in REVISIONS:
        raise SchemaError(
            f"数据库版本（{rev}）比本程序新，可能由更新版本的程序写入。为避免损坏数据，本程序不会打开它。"
            "请安装最新版本的程序后再打开。")
    if rev is None and set(inspect(engine).get_table_names()) - {"alembic_version"}:
        raise SchemaError("该数据库中已有其他表，但不是本程序的数据库。请指定一个空的数据文件夹。")

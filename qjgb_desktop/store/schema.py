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
        # configparser reads % as interpolation: a path with Chinese characters is percent-encoded in the URL
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def ensure_schema(engine: Engine) -> str:
    """Return what was done: "current", "created" or "migrated from <rev>".

    Creating or migrating holds the data folder's write lock for the whole run (store/locks.py), so no write and
    no restore of another process or thread can come between the backup, the migration and its check; the
    revision is read again inside the lock, since another process may have done the work meanwhile."""
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


def _refuse_unknown(engine: Engine, rev: str | None) -> None:
    if rev is not None and rev not in REVISIONS:
        raise SchemaError(
            f"数据库版本（{rev}）比本程序新，可能由更新版本的程序写入。为避免损坏数据，本程序不会打开它。"
            "请安装最新版本的程序后再打开。")
    if rev is None and set(inspect(engine).get_table_names()) - {"alembic_version"}:
        raise SchemaError("该数据库中已有其他表，但不是本程序的数据库。请指定一个空的数据文件夹。")

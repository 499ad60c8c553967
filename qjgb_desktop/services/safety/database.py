"""Open the program's database: create or migrate the schema, seed the built-in plan once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from qjgb_desktop import paths
from qjgb_desktop.store.engine import Sessions, make_engine, make_sessionmaker
from qjgb_desktop.store.schema import SchemaError, ensure_schema

SQLITE_MAGIC = b"SQLite format 3\x00"


class UnusableDatabase(SchemaError):
    """The database file is there but holds no database (empty, cut short, overwritten): never replaced."""


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: Sessions
    schema_action: str  # "current", "created", "migrated from …"
    seeded: bool

    def close(self) -> None:
        """Close every connection made for this database: its engine's and its evidence store's (server mode)."""
        self.engine.dispose()
        if not self.url.startswith("sqlite"):
            from qjgb_desktop.services.evidence.records import close_store_for_url

            close_store_for_url(self.url)


def open_database(url: str | None = None, seed: bool = True) -> Database:
    """Open (creating if needed) the database at `url`, by default the one of the current data folder.

    Raises store.schema.SchemaError for a database this program must not touch.
    """
    from qjgb_desktop.store import credentials

    url = credentials.clean(url or paths.database_url())  # a server's password is kept aside, never in db.url
    db_file = paths.sqlite_path(url)
    if db_file is not None:
        refuse_unusable_file(db_file)
    engine = make_engine(url)
    try:
        action = ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        seeded = False
        if seed:
            seeded = seed_builtin_plan(sessions)
    except BaseException:
        engine.dispose()
        raise
    return Database(url, engine, sessions, action, seeded)


def seed_builtin_plan(sessions: Sessions) -> bool:
    """Load the built-in plan into an empty database. A database that has a plan is left as it is:
    a revised plan is loaded on purpose, with `qjgb plan load`."""
    from qjgb_desktop.store.models import Plan

    with sessions.begin() as session:
        if session.scalar(select(Plan.id).limit(1)) is not None:
            return False
        from qjgb_desktop.services.plan.load import builtin_plan_record, load_plan

        load_plan(session, builtin_plan_record(), actor="system", source="内置计划")
    return True


def _looks_unusable(db_file: Path) -> str | None:
    """Why the existing file cannot be our database ("empty", "not SQLite"), or None (missing or plausible)."""
    try:
        with open(db_file, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return "是一个文件夹，不是数据库文件"
    if not head:
        return "是空文件（0 字节），其中的数据已经丢失"
    if head != SQLITE_MAGIC:
        return "不是 SQLite 数据库文件（已损坏或被其他内容覆盖）"
    return None


def refuse_unusable_file(db_file: Path) -> None:
    """Raise UnusableDatabase for an existing database file that is empty or not SQLite at all.

    Such a file is never replaced by a fresh database: that would hide that the data is gone. A file that does not
    exist yet is created here, under the write lock, so another process starting at the same moment never sees
    the zero-length file SQLite creates before it writes the first page."""
    from qjgb_desktop.store.locks import lock_path_for, write_lock

    db_file = Path(db_file)
    if db_file.is_file() and db_file.stat().st_size >= len(SQLITE_MAGIC):
        if _looks_unusable(db_file) is None:
            return
    # Missing, short or strange: look again under the lock (a creator holds it until the first page is written).
    with write_lock(lock_path_for(db_file), purpose="打开数据库"):
        if not db_file.exists():
            _create_empty(db_file)
            return
        why = _looks_unusable(db_file)
    if why is None:
        return
    from qjgb_desktop.services.safety.checks import newest_backup_hint

    newest = newest_backup_hint()
    raise UnusableDatabase(
        f"数据库文件{why}：{db_file}。为免掩盖数据丢失，本程序不会用新的空数据库替换它，也不会改动它。"
        f"请用“qjgb restore 备份文件”从最近的备份恢复（备份在数据文件夹的 backups 文件夹中{newest}"
        f"{'' if newest else '，但那里没有找到备份文件；如有 U 盘上的完整备份，请用 qjgb restore 备份文件夹'}）。")


def _create_empty(db_file: Path) -> None:
    """A new, empty database file in WAL mode (its first page written), ready for the migrations."""
    import sqlite3

    db_file.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_file)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def sweep_leftovers(data_dir: Path | None = None) -> int:
    """At every start of the window or a command: remove what interrupted writes left behind (partial backups,
    partial evidence copies, temporary export files). Never removes anything else, never raises."""
    from qjgb_desktop.services.safety.folders import clean_leftovers
    from qjgb_desktop.store.blobs import clean_evidence_leftovers

    data_dir = Path(data_dir) if data_dir is not None else paths.data_dir()
    try:
        return len(clean_leftovers(data_dir)) + clean_evidence_leftovers(data_dir)[0]
    except Exception:  # noqa: BLE001 - a sweep must never stop the program from starting
        return 0

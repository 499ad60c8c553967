"""Copy a whole database, with its evidence contents, to another one, and prove the copy.

One machinery for three jobs:
- `qjgb migrate-to --db URL`: a single PC's data folder (SQLite file + evidence files) → an empty server database;
- `qjgb backup` on a server: the server's rows (and for --full its contents) → a fresh SQLite file, the same format
  as a single PC's backup;
- `qjgb restore` against a server: a verified backup → the server, in one transaction.

`copy_database` copies every table of `Base.metadata` in dependency order, keeping ids, in batches, replacing what
the target held (a new database holds only what its migrations made); PostgreSQL sequences are then set past the
largest id. Evidence contents travel through the stores (a file store or a server's chunks), hashed again on the way
in, before the rows that list them. Then, still inside the target's transaction, `compare_databases` proves the
copy: the same number of rows per table, the same digest of every table's rows (in primary-key order, values
normalised so SQLite and PostgreSQL compare equal), and every listed content re-hashed from the target. A mismatch
raises `CopyMismatch` and the target's transaction is rolled back: the copy is all or nothing.

The stored_blob/blob_chunk tables are not copied as rows: they are the server's content store and are compared by
content (hash), not row by row.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.exc import OperationalError

from qjgb_desktop.services.safety.compare import Comparison, CopyMismatch, compare_databases
from qjgb_desktop.services.safety.transfer import (
    MIGRATION_ROWS,
    MigrateError,
    Progress,
    Refused,
    _reading,
    _writing,
    copy_contents,
    data_tables,
    forget_contents,
    listed_contents,
    replace_rows,
    safe_url,
)
from qjgb_desktop.store.models import Base


@dataclass
class CopyResult:
    rows: dict[str, int] = field(default_factory=dict)
    contents_copied: int = 0
    contents_missing: list[str] = field(default_factory=list)  # listed by the source, absent or damaged there
    new_contents: list[str] = field(default_factory=list)  # stored in the target by this copy
    comparison: Comparison | None = None


def copy_database(source, target, source_store=None, target_store=None, progress: Progress | None = None,
                  verify: bool = True, purpose: str = "复制数据") -> CopyResult:
    """Copy everything of `source` into `target` (Engines or Connections), replacing the target's rows, and prove
    the copy before it is committed (CopyMismatch otherwise). With an Engine the source is read in one snapshot and
    the target written in one transaction (on a server under its write lock); with a Connection the caller's
    transaction is used and the caller commits. With both stores the contents the source lists are copied first;
    a copy that fails removes the contents it brought in."""
    result = CopyResult()
    with _reading(source) as sconn, _writing(target, purpose) as tconn:
        if source_store is not None and target_store is not None:
            result.contents_copied, result.contents_missing, result.new_contents = copy_contents(
                source_store, target_store, listed_contents(sconn), progress)
        try:
            result.rows = replace_rows(sconn, tconn, progress)
            if verify:
                result.comparison = compare_databases(sconn, tconn, target_store, result.contents_missing, progress)
                if not result.comparison.ok:
                    raise CopyMismatch(result.comparison)
        except BaseException:
            forget_contents(target_store, result.new_contents)
            raise
    return result


def check_empty(bind) -> None:
    """Refuse a target that holds anything but what its migrations made (Refused, nothing written)."""
    present = set(inspect(bind).get_table_names())
    ours = {t.name for t in Base.metadata.tables.values()}
    foreign = sorted(present - ours - {"alembic_version"})
    if foreign:
        raise Refused(f"服务器数据库中已有不属于本程序的数据表（{'、'.join(foreign[:5])}），未写入任何内容。"
                      "请新建一个空数据库（CREATE DATABASE）后再迁移。")
    with nullcontext(bind) if isinstance(bind, Connection) else bind.connect() as conn:
        if "plan" in present:
            plan = conn.scalar(text("SELECT title FROM plan ORDER BY id LIMIT 1"))
            if plan is not None:
                raise Refused(f"服务器数据库中已有计划（{plan}），不会覆盖，未写入任何内容。"
                              "迁移只能写入一个空的服务器数据库；如要用本机数据替换服务器上的数据，"
                              "请先在服务器上做完整备份，再新建一个空数据库迁移。")
        for table in data_tables():
            if table.name not in present:
                continue
            keep = MIGRATION_ROWS.get(table.name)
            q = select(func.count()).select_from(table)
            if keep:
                q = q.where(table.primary_key.columns[0].not_in(sorted(keep)))
            n = conn.scalar(q)
            if n:
                raise Refused(f"服务器数据库不是空的（数据表 {table.name} 已有 {n} 行），未写入任何内容。"
                              "请新建一个空数据库后再迁移。")


@dataclass
class Migration:
    source: str
    target: str
    result: CopyResult
    converted: list[str] = field(default_factory=list)  # this PC's accounts, now server logins awaiting a password


def migrate_to(target_url: str, progress: Progress | None = None) -> Migration:
    """The current single-PC data folder (database and evidence files) → the empty server database at
    `target_url`, proven equal before the commit. Refused (nothing written) for anything but an empty server."""
    from qjgb_desktop import paths
    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.store.blobs import evidence_store
    from qjgb_desktop.store.engine import CHANGE_CHANNEL, make_engine, server_write_lock
    from qjgb_desktop.store.models import Plan
    from qjgb_desktop.store.server_blobs import DatabaseBlobStore

    source_url = paths.database_url()
    if not source_url.startswith("sqlite"):
        raise Refused(f"当前使用的已经是数据库服务器（{safe_url(source_url)}）。migrate-to 用于把一台电脑上的数据文件夹"
                      "迁移到服务器；服务器之间请用 qjgb backup --full 和 qjgb restore。")
    if not target_url.startswith("postgresql"):
        raise Refused(f"--db 应是 PostgreSQL 服务器数据库的地址，如 postgresql+psycopg://所有者@服务器地址/qjgb（密码在提示时输入），"
                      f"收到的是 {safe_url(target_url)}。")
    db_file = paths.sqlite_path(source_url)
    if db_file is None or not db_file.is_file():
        raise Refused(f"本机没有数据库文件（{db_file}），没有可迁移的数据。")
    source = open_database(source_url, seed=False)
    engine = None
    converted: list[str] = []
    try:
        with source.sessions.write_lock(purpose="迁移到服务器"):  # no write on this PC until the copy is proven
            with source.sessions() as s:
                if s.scalar(select(Plan.id).limit(1)) is None:
                    raise Refused("本机数据库中还没有计划，没有可迁移的数据。")
            try:
                engine = make_engine(target_url)
                check_empty(engine)  # before anything is written there, even the tables
                open_database(target_url, seed=False).close()  # the migrations, as for every server database
                with engine.connect() as tconn:
                    tconn.begin()
                    server_write_lock(tconn, "迁移")
                    check_empty(tconn)  # again under the server's write lock: another PC may have begun meanwhile
                    result = copy_database(source.engine, tconn, evidence_store(), DatabaseBlobStore(engine),
                                           progress, purpose="迁移")
                    from qjgb_desktop.store.server_security import convert_accounts

                    converted = convert_accounts(tconn)  # this PC's accounts become the server's logins
                    tconn.execute(text(f"NOTIFY {CHANGE_CHANNEL}"))
                    tconn.commit()
            except OperationalError as exc:
                raise MigrateError(f"无法连接或写入服务器数据库 {safe_url(target_url)}：{exc.orig}。"
                                   "服务器上未留下本次迁移的数据。") from exc
    finally:
        source.close()
        if engine is not None:
            engine.dispose()
    return Migration(source_url, target_url, result, converted)

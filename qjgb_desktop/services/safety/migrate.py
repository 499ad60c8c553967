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

import hashlib
import json
from collections.abc import Callable, Iterable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import zip_longest

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    collate,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, OperationalError

from qjgb_desktop.errors import UserError
from qjgb_desktop.store.models import Base

CONTENT_TABLES = frozenset({"stored_blob", "blob_chunk"})
BATCH = 1000
# Rows a new database gets from its migrations alone (0005 writes the key that signs Excel templates).
MIGRATION_ROWS = {"setting": frozenset({"template_key"})}

Progress = Callable[[str, int, int], None]  # what, done, total


class MigrateError(UserError):
    """The copy cannot be done or failed; nothing was changed on the target. The message says why."""


class Refused(MigrateError):
    """The target is not one this copy may write to (not empty, not a server…); nothing was written."""


class CopyMismatch(MigrateError):
    """The copy does not equal its source; it was rolled back."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        super().__init__("复制后的核对未通过：" + "；".join(comparison.differences()))


def data_tables() -> list[Table]:
    """Every table of the program, parents before children, except the server's content store."""
    return [t for t in Base.metadata.sorted_tables if t.name not in CONTENT_TABLES]


def safe_url(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all: only what follows an @ (never a password)
        return url.rsplit("@", 1)[-1]


def is_server(bind) -> bool:
    return bind.dialect.name != "sqlite"


# -- reading and writing a whole database ------------------------------------------------------------------

@contextmanager
def snapshot(engine: Engine):
    """A connection that reads one consistent state of the whole database: on PostgreSQL one REPEATABLE READ,
    READ ONLY transaction; on SQLite one read transaction (the program's engines BEGIN before the first read)."""
    with engine.connect() as conn:
        if is_server(engine):
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        try:
            yield conn
        finally:
            conn.rollback()


@contextmanager
def _reading(source):
    if isinstance(source, Connection):
        yield source
    else:
        with snapshot(source) as conn:
            yield conn


@contextmanager
def _writing(target, purpose: str):
    """A target connection in a transaction: the caller's, or a new one committed at the end (on a server after
    taking its write lock, and telling every window at the commit)."""
    if isinstance(target, Connection):
        yield target
        return
    from qjgb_desktop.store.engine import CHANGE_CHANNEL, server_write_lock

    with target.connect() as conn:
        conn.begin()
        if is_server(target):
            server_write_lock(conn, purpose)
        yield conn
        if is_server(target):
            conn.execute(text(f"NOTIFY {CHANGE_CHANNEL}"))
        conn.commit()


def listed_contents(conn) -> list[str]:
    """The evidence contents a database needs: recorded and not purged."""
    from qjgb_desktop.store.models import EvidenceFile

    return list(conn.scalars(select(EvidenceFile.sha256).where(EvidenceFile.purged_at.is_(None))
                             .order_by(EvidenceFile.sha256)))


def content_names(conn) -> dict[str, str]:
    """sha256 → one file name it was attached as, for messages."""
    from qjgb_desktop.store.models import Evidence, EvidenceFile

    return dict(conn.execute(select(EvidenceFile.sha256, func.min(Evidence.original_name))
                             .join(Evidence, Evidence.file_id == EvidenceFile.id).group_by(EvidenceFile.sha256)).all())


# -- evidence contents ---------------------------------------------------------------------------------------

def copy_contents(source_store, target_store, hashes: Iterable[str], progress: Progress | None = None
                  ) -> tuple[int, list[str], list[str]]:
    """Bring these contents from one store into the other, streamed and hashed on the way in. Returns (copied,
    missing: absent or damaged in the source, new: stored by this call, to be removed if the copy is abandoned)."""
    from qjgb_desktop.store.blobs import BlobError

    hashes = list(hashes)
    copied, missing, new = 0, [], []
    try:
        for i, sha in enumerate(hashes, 1):
            if progress is not None:
                progress("佐证文件", i, len(hashes))
            if target_store.has(sha):
                continue
            if not source_store.has(sha):
                missing.append(sha)
                continue
            try:
                with source_store.open(sha) as src:
                    got, _size, made = target_store.put_stream(src)
            except BlobError:  # cut short in the source (a server's missing chunk)
                missing.append(sha)
                continue
            if got != sha:  # the source no longer holds what its name says: never store it under that name
                if made:
                    target_store.remove(got)
                missing.append(sha)
                continue
            if made:
                new.append(sha)
                copied += 1
    except BaseException:
        forget_contents(target_store, new)
        raise
    return copied, missing, new


def forget_contents(store, hashes: Iterable[str]) -> None:
    """Remove contents a failed copy brought in (no record anywhere lists them yet)."""
    if store is None:
        return
    for sha in hashes:
        try:
            store.remove(sha)
        except Exception:  # noqa: BLE001 - what stays is unrecorded: verify reports it, purge removes it
            pass


# -- rows ----------------------------------------------------------------------------------------------------

def _json_columns(table: Table) -> list[Column]:
    return [c for c in table.columns if isinstance(c.type, JSON)]


def _transfer_table(table: Table) -> Table:
    """The table as written by a copy: JSON columns keep SQL NULL and JSON null apart (none_as_null + JSON.NULL)."""
    cols = [Column(c.name, JSON(none_as_null=True) if isinstance(c.type, JSON) else c.type,
                   primary_key=c.primary_key, autoincrement=False) for c in table.columns]
    return Table(table.name, MetaData(), *cols)


def _select_rows(table: Table, dialect_name: str):
    """Every row in primary-key order (text keys in byte order on both databases), with for each nullable JSON
    column a flag telling SQL NULL from JSON null."""
    flags = [c.is_(None).label(f"__null_{c.name}") for c in _json_columns(table) if c.nullable]
    order = [collate(c, "C") if dialect_name == "postgresql" and isinstance(c.type, String) else c
             for c in table.primary_key.columns]
    return select(*table.columns, *flags).order_by(*order)


def _stream(conn, table: Table):
    # Per statement: Connection.execution_options would switch the whole connection to streaming.
    return conn.execute(_select_rows(table, conn.dialect.name).execution_options(yield_per=BATCH))


def _for_insert(table: Table, row) -> dict:
    m = row._mapping
    out = {c.name: m[c.name] for c in table.columns}
    for c in _json_columns(table):
        if out[c.name] is None and not (c.nullable and m[f"__null_{c.name}"]):
            out[c.name] = JSON.NULL
    return out


def _check_lengths(table: Table, rows: list[dict]) -> None:
    """SQLite keeps any length; the server refuses a text longer than its column: say which, before writing."""
    limited = [c for c in table.columns if isinstance(c.type, String) and c.type.length]
    for row in rows:
        for c in limited:
            value = row[c.name]
            if isinstance(value, str) and len(value) > c.type.length:
                key = "、".join(str(row[k.name]) for k in table.primary_key.columns)
                raise MigrateError(f"数据表 {table.name} 中主键为 {key} 的一行，列 {c.name} 有 {len(value)} 个字，"
                                   f"超过服务器上该列的上限 {c.type.length}，未复制任何数据。请先在本机改短后再试。")


def replace_rows(sconn, tconn, progress: Progress | None = None) -> dict[str, int]:
    """Replace every row of the target's tables by the source's, keeping ids; returns rows copied per table."""
    tables = data_tables()
    server = is_server(tconn)
    for table in reversed(tables):
        tconn.execute(table.delete())
    counts = {}
    for i, table in enumerate(tables, 1):
        if progress is not None:
            progress(f"数据表 {table.name}", i, len(tables))
        out = _transfer_table(table)
        n = 0
        try:
            for part in _stream(sconn, table).partitions():
                rows = [_for_insert(table, r) for r in part]
                if server:
                    _check_lengths(table, rows)
                tconn.execute(insert(out), rows)
                n += len(rows)
        except DBAPIError as exc:
            raise MigrateError(f"复制数据表 {table.name} 失败（{getattr(exc, 'orig', exc)}），未复制任何数据。") from exc
        counts[table.name] = n
    if server:
        reset_sequences(tconn)
    return counts


def reset_sequences(conn) -> None:
    """PostgreSQL: each table's id sequence continues after the largest id copied in."""
    for table in data_tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        seq = conn.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name})
        if seq:
            conn.execute(text(f'SELECT setval(:seq, COALESCE((SELECT max("{pk[0].name}") FROM "{table.name}"), 0) + 1, '
                              "false)"), {"seq": seq})


# -- comparing -----------------------------------------------------------------------------------------------

def _normalise(table: Table, row) -> list:
    """One row as plain JSON values that are equal for equal data on SQLite and PostgreSQL."""
    m = row._mapping
    out = []
    for c in table.columns:
        v = m[c.name]
        if isinstance(c.type, JSON):
            sql_null = bool(c.nullable and m[f"__null_{c.name}"])
            out.append(None if sql_null else ["json", json.dumps(v, sort_keys=True, ensure_ascii=False)])
        elif v is None or isinstance(v, (bool, str)):
            out.append(v)
        elif isinstance(v, datetime):
            out.append(["datetime", v.isoformat()])
        elif isinstance(v, date):
            out.append(["date", v.isoformat()])
        elif isinstance(c.type, Float):
            out.append(["float", float(v)])
        elif isinstance(v, int):
            out.append(v)
        elif isinstance(v, (bytes, memoryview)):
            out.append(["bytes", hashlib.sha256(bytes(v)).hexdigest()])
        else:
            out.append(["other", str(v)])
    return out


@dataclass
class TableCheck:
    name: str
    source_rows: int
    target_rows: int
    source_digest: str
    target_digest: str
    difference: str = ""  # the first row that differs, said in words

    @property
    def same(self) -> bool:
        return self.source_rows == self.target_rows and self.source_digest == self.target_digest


@dataclass
class Comparison:
    tables: list[TableCheck] = field(default_factory=list)
    contents_checked: int = 0
    contents_bad: list[str] = field(default_factory=list)  # listed, and missing or wrong in the target
    contents_missing_at_source: list[str] = field(default_factory=list)  # not there to copy (not a copy fault)

    @property
    def ok(self) -> bool:
        return all(t.same for t in self.tables) and not self.contents_bad

    def differences(self) -> list[str]:
        out = [f"数据表 {t.name}：{t.difference or '内容不同'}（源 {t.source_rows} 行，目标 {t.target_rows} 行）"
               for t in self.tables if not t.same]
        if self.contents_bad:
            out.append(f"佐证文件 {len(self.contents_bad)} 个与记录的 SHA-256 不符或缺失：" + "；".join(self.contents_bad[:5])
                       + (" 等" if len(self.contents_bad) > 5 else ""))
        return out

    def summary_lines(self, source_label: str = "源", target_label: str = "目标") -> list[str]:
        width = max([len(t.name) for t in self.tables] + [10])
        lines = [f"{_pad('数据表', width)}  {_pad(source_label, 8, right=True)}  {_pad(target_label, 8, right=True)}  核对"]
        for t in self.tables:
            lines.append(f"{t.name.ljust(width)}  {t.source_rows:>8}  {t.target_rows:>8}  {'一致' if t.same else '不一致'}")
        lines.append(f"佐证文件：在{target_label}上逐个重新计算 SHA-256 {self.contents_checked} 个，"
                     f"{'全部一致' if not self.contents_bad else f'{len(self.contents_bad)} 个不符'}")
        return lines


def _pad(text_: str, width: int, right: bool = False) -> str:
    """Pad for a terminal, where a Chinese character takes two columns."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text_)
    fill = " " * max(0, width - used)
    return fill + text_ if right else text_ + fill


def compare_databases(source, target, target_store=None, missing_ok: Iterable[str] = (),
                      progress: Progress | None = None) -> Comparison:
    """Prove that `target` holds what `source` holds (Engines or Connections; a Connection is read inside its
    transaction): rows per table, a digest of every table's rows, and with `target_store` every content the
    source lists re-hashed from the target (except `missing_ok`: contents the source itself did not have)."""
    result = Comparison()
    with _reading(source) as sconn, _reading(target) as tconn:
        tables = data_tables()
        for i, table in enumerate(tables, 1):
            if progress is not None:
                progress(f"核对数据表 {table.name}", i, len(tables))
            result.tables.append(_compare_table(table, sconn, tconn))
        if target_store is not None:
            missing_ok = set(missing_ok)
            names = content_names(sconn)
            listed = listed_contents(sconn)
            for i, sha in enumerate(listed, 1):
                if progress is not None:
                    progress("核对佐证文件", i, len(listed))
                if sha in missing_ok:
                    result.contents_missing_at_source.append(sha)
                    continue
                result.contents_checked += 1
                label = f"{names.get(sha, '?')}（{sha[:12]}…）"
                if not target_store.has(sha):
                    result.contents_bad.append(f"{label}缺失")
                elif target_store.hash_of(sha) != sha:
                    result.contents_bad.append(f"{label}内容不符")
    return result


def _compare_table(table: Table, sconn, tconn) -> TableCheck:
    ds, dt = hashlib.sha256(), hashlib.sha256()
    ns = nt = 0
    difference = ""
    pk = [c.name for c in table.primary_key.columns]
    for a, b in zip_longest(_stream(sconn, table), _stream(tconn, table)):
        ra = _normalise(table, a) if a is not None else None
        rb = _normalise(table, b) if b is not None else None
        if ra is not None:
            ns += 1
            ds.update(json.dumps(ra, ensure_ascii=False).encode("utf-8") + b"\n")
        if rb is not None:
            nt += 1
            dt.update(json.dumps(rb, ensure_ascii=False).encode("utf-8") + b"\n")
        if ra != rb and not difference:
            row = a if a is not None else b
            key = "、".join(f"{k}={row._mapping[k]}" for k in pk)
            if a is None or b is None:
                difference = f"主键 {key} 的一行只在{'目标' if a is None else '源'}中"
            else:
                cols = [c.name for c, x, y in zip(table.columns, ra, rb) if x != y]
                difference = f"主键 {key} 的一行不同（列 {'、'.join(cols) or '主键'}）"
    return TableCheck(table.name, ns, nt, ds.hexdigest(), dt.hexdigest(), difference)


# -- the whole copy ------------------------------------------------------------------------------------------

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


# -- qjgb migrate-to ------------------------------------------------------------------------------------------

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


def migrate_to(target_url: str, progress: Progress | None = None) -> Migration:
    """The current single-PC data folder (database and evidence files) → the empty server database at
    `target_url`, proven equal before the commit. Refused (nothing written) for anything but an empty server."""
    from qjgb_desktop import paths
    from qjgb_desktop.store.blobs import DatabaseBlobStore, evidence_store
    from qjgb_desktop.store.engine import CHANGE_CHANNEL, make_engine, server_write_lock
    from qjgb_desktop.store.models import Plan
    from qjgb_desktop.services.safety.database import open_database

    source_url = paths.database_url()
    if not source_url.startswith("sqlite"):
        raise Refused(f"当前使用的已经是数据库服务器（{safe_url(source_url)}）。migrate-to 用于把一台电脑上的数据文件夹"
                      "迁移到服务器；服务器之间请用 qjgb backup --full 和 qjgb restore。")
    if not target_url.startswith("postgresql"):
        raise Refused(f"--db 应是 PostgreSQL 服务器数据库的地址，如 postgresql+psycopg://用户:密码@服务器地址/qjgb，"
                      f"收到的是 {safe_url(target_url)}。")
    db_file = paths.sqlite_path(source_url)
    if db_file is None or not db_file.is_file():
        raise Refused(f"本机没有数据库文件（{db_file}），没有可迁移的数据。")
    source = open_database(source_url, seed=False)
    engine = None
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
                    tconn.execute(text(f"NOTIFY {CHANGE_CHANNEL}"))
                    tconn.commit()
            except OperationalError as exc:
                raise MigrateError(f"无法连接或写入服务器数据库 {safe_url(target_url)}：{exc.orig}。"
                                   "服务器上未留下本次迁移的数据。") from exc
    finally:
        source.close()
        if engine is not None:
            engine.dispose()
    return Migration(source_url, target_url, result)

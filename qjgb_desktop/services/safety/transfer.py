"""Moving a database's rows and evidence contents between two databases of either kind (SQLite file, PostgreSQL
server), in batches, from one consistent snapshot of the source, with every column's type kept. Used by
`qjgb migrate-to` (migrate.py) and by the server's backups (server_backup.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    collate,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

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


def data_tables() -> list[Table]:
    """Every table of the program, parents before children, except the server's content store."""
    return [t for t in Base.metadata.sorted_tables if t.name not in CONTENT_TABLES]


def safe_url(url: str) -> str:
    """A database URL fit to print: the password left out."""
    from qjgb_desktop.store.credentials import safe

    return safe(url)


def is_server(bind) -> bool:
    return bind.dialect.name != "sqlite"


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

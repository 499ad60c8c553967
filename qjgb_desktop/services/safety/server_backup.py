"""Back up and restore a database server (server mode) in the single PC's formats.

A backup of a server is what a single PC's backup is: a SQLite database file of this program's revision (and with
--full a folder with that file, evidence/ab/abcdef… files and qjgb-backup.json), so a bureau keeps one kind of
backup on its USB stick whatever it runs, and either kind of installation can restore it. It is made by copying the
server's rows (and contents) into a fresh SQLite file with the machinery of `qjgb migrate-to`
(services/safety/migrate.py), from ONE snapshot of the server (REPEATABLE READ), and proven equal to that snapshot
before the file takes its name.

A restore against a server runs every check of a single PC's restore on the backup first (services/safety/checks.py:
regular files only, integrity, known revision — upgraded on a private copy —, every table and column, every evidence
file's SHA-256); then, holding the server's write lock (every PC's writes wait): a safety copy of the server as it
is now into <data>/backups, the backup's evidence contents the server lacks uploaded, and in ONE transaction every
row replaced by the backup's, sequences reset, the result compared with the backup, committed. Any failure: rolled
back, the uploaded contents removed again, the server as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from qjgb_desktop.errors import UserError
from qjgb_desktop.services.safety.checks import (
    _bring_evidence,
    _check_tree,
    _listed_evidence,
    _remove_staged,
    _stage,
    _verify_evidence,
)
from qjgb_desktop.services.safety.folders import (
    FULL_DB_NAME,
    MANIFEST_NAME,
    BackupError,
    FullBackupResult,
    RestoreResult,
    _clean_folder,
    _enter_guard,
    _fail,
    _unique_backup_path,
    backups_dir,
)
from qjgb_desktop.services.safety.migrate import copy_database
from qjgb_desktop.services.safety.transfer import MigrateError, forget_contents, listed_contents, safe_url, snapshot
from qjgb_desktop.store.files import write_atomically
from qjgb_desktop.store.revision import HEAD


def _server_engine(url: str, purpose: str):
    """An engine for the server, which must be reachable and at this program's revision."""
    from qjgb_desktop.store.engine import make_engine
    from qjgb_desktop.store.schema import current_revision

    engine = make_engine(url)
    try:
        rev = current_revision(engine)
    except OperationalError as exc:
        engine.dispose()
        raise BackupError(f"无法连接数据库服务器 {safe_url(url)}（{exc.orig}），{purpose}未能进行。") from exc
    if rev != HEAD:
        engine.dispose()
        raise BackupError(f"服务器数据库的版本（{rev or '无'}）与本程序（{HEAD}）不一致，{purpose}未能进行。"
                          "请先用本程序打开一次服务器数据库（会自动升级），或安装与服务器一致的版本。")
    return engine


def _create_schema(engine) -> None:
    """This program's tables in a new, empty SQLite file, through the migrations (exactly what `qjgb init` makes)."""
    from alembic import command

    from qjgb_desktop.store.schema import alembic_config

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def write_sqlite_copy(sconn, partial: Path, source_store=None, target_store=None):
    """Fill the new, empty file `partial` with a database of this program's revision holding every row the
    server snapshot `sconn` holds (and bring the contents it lists into `target_store`); proven equal before it
    returns. Left as one self-contained file (rollback journal, nothing beside it). Returns the CopyResult."""
    from qjgb_desktop.store.engine import make_engine

    engine = make_engine(f"sqlite:///{Path(partial).as_posix()}")
    try:
        _create_schema(engine)
        result = copy_database(sconn, engine, source_store, target_store)
    finally:
        engine.dispose()
    conn = sqlite3.connect(partial, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check(10)")]
    finally:
        conn.close()
    if problems != ["ok"]:
        raise BackupError(f"写出的备份未通过完整性检查（{problems[0]}），请换一个位置再备份。")
    return result


def _copy_failed(what: str, exc: BaseException) -> BackupError:
    if isinstance(exc, UserError):
        return BackupError(f"{what}：{exc}")
    return _fail(what, exc)


def backup_server(url: str, target: Path) -> Path:
    """A single-file backup of the server at `target` (the caller holds the folder's guard)."""
    engine = _server_engine(url, "备份")
    try:
        with snapshot(engine) as sconn:
            write_atomically(target, lambda p: write_sqlite_copy(sconn, p))
    except (OSError, sqlite3.Error, DBAPIError, MigrateError) as exc:
        raise _copy_failed(f"备份服务器数据库失败（{target}）", exc) from exc
    finally:
        engine.dispose()
    return Path(target)


def full_backup_server(url: str, folder: Path) -> FullBackupResult:
    """<folder>/qjgb.sqlite3 (a fresh copy of the server), <folder>/evidence (contents new since the last backup into
    this folder added) and <folder>/qjgb-backup.json, all from one snapshot of the server."""
    from qjgb_desktop.store.blobs import BlobStore
    from qjgb_desktop.store.server_blobs import DatabaseBlobStore

    folder = Path(folder)
    engine = _server_engine(url, "完整备份")
    target = BlobStore(folder / "evidence")
    result = None
    try:
        with ExitStack() as stack:
            _enter_guard(stack, folder, "完整备份")
            _clean_folder(folder, "full")
            with snapshot(engine) as sconn:
                source = DatabaseBlobStore(engine, connection=sconn)  # the contents of this very snapshot
                for sha in listed_contents(sconn):  # a copy damaged on the backup medium (cut short) is replaced
                    if target.has(sha) and source.has(sha) and \
                            target.path_for(sha).stat().st_size != source.size_of(sha):
                        target.remove(sha)

                def write(partial: Path) -> None:
                    nonlocal result
                    result = write_sqlite_copy(sconn, partial, source, target)
                write_atomically(folder / FULL_DB_NAME, write)
            manifest = {"program": "qjgb-desktop", "revision": HEAD, "created": datetime.now().isoformat(),
                        "evidence": len(_listed_evidence(folder / FULL_DB_NAME)),
                        "evidence_missing": sorted(result.contents_missing), "source": "server"}
            write_atomically(folder / MANIFEST_NAME, lambda p: p.write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"))
    except (OSError, sqlite3.Error, DBAPIError, MigrateError) as exc:
        raise _copy_failed(f"完整备份服务器数据库失败（{folder}）", exc) from exc
    finally:
        engine.dispose()
    return FullBackupResult(folder / FULL_DB_NAME, result.contents_copied, sorted(result.contents_missing))


def restore_server(url: str, source_db: Path, full_folder: Path | None) -> RestoreResult:
    """Replace the server's contents by a backup's (see the module's notes for what is promised)."""
    from qjgb_desktop.services.safety.database import open_database

    backups = backups_dir()
    label = str(full_folder or source_db)
    with ExitStack() as stack:
        _enter_guard(stack, backups, "恢复备份")
        _clean_folder(backups, "backups")
        if full_folder is not None and os.access(full_folder, os.W_OK):
            _enter_guard(stack, full_folder, "恢复备份")  # nobody may add to the backup while it is read
            _clean_folder(full_folder, "full")
        if full_folder is not None:
            _check_tree(full_folder)
        staged, rev = _stage(source_db, backups, live=None, label=label)
        try:
            wanted, missing_at_backup = (_verify_evidence(staged, full_folder) if full_folder is not None
                                         else ([], []))
            # -- the backup is verified: from here on the server is touched --
            try:
                db = open_database(url, seed=False)  # the server's schema at this program's revision
            except OperationalError as exc:
                raise BackupError(f"无法连接数据库服务器 {safe_url(url)}（{exc.orig}），恢复没有进行，"
                                  "服务器上的数据未作改动。") from exc
            try:
                safety, copied, here = _replace_server(db.engine, staged, wanted, backups)
            finally:
                db.close()
        finally:
            _remove_staged(staged)
    return RestoreResult(source=Path(label), safety=safety, evidence_copied=copied, evidence_missing_here=here,
                         missing_at_backup=missing_at_backup, upgraded_from=rev if rev != HEAD else None,
                         window_open=False)


def _replace_server(engine, staged: Path, wanted, backups: Path) -> tuple[Path, int, int]:
    from qjgb_desktop.store.engine import CHANGE_CHANNEL, server_write_lock
    from qjgb_desktop.store.server_blobs import DatabaseBlobStore

    uri = f"{staged.resolve().as_uri()}?mode=ro"
    source = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool)
    store = DatabaseBlobStore(engine)
    new: list[str] = []
    try:
        with engine.connect() as tconn:
            tconn.begin()
            server_write_lock(tconn, "恢复备份")
            # Under the lock: every write acknowledged before it is in the safety copy, none can come after.
            safety = _unique_backup_path(backups, "before-restore")
            try:
                with snapshot(engine) as snap:
                    write_atomically(safety, lambda p: write_sqlite_copy(snap, p))
            except (OSError, sqlite3.Error, DBAPIError, MigrateError) as exc:
                raise _copy_failed("无法保存服务器恢复前的数据，恢复没有进行，服务器上的数据未作改动", exc) from exc
            try:
                copied = _bring_evidence(wanted, store, new)  # hashed again on the way in
                copy_database(source, tconn, purpose="恢复备份")  # rows replaced and compared, in this transaction
                tconn.execute(text(f"NOTIFY {CHANGE_CHANNEL}"))
                tconn.commit()
            except BaseException as exc:
                # Before the rollback, still under the lock: no attach can have come to rely on them meanwhile.
                forget_contents(store, new)  # the server never listed them: leave its store as it was
                tconn.rollback()
                if isinstance(exc, (OSError, sqlite3.Error, DBAPIError, MigrateError)):
                    raise _copy_failed("恢复失败，服务器上的数据未作改动", exc) from exc
                raise
    finally:
        source.dispose()
    here = sum(1 for sha in _listed_evidence(staged) if not store.has(sha))
    return safety, copied, here


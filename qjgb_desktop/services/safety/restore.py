"""Restoring a backup (a database file or a full backup folder).

What a restore promises:
- It holds the data folder's write lock (store/locks.py) for its whole run, so every write of the window, the CLI
  or an import waits for it; readers go on.
- It verifies the backup completely before it changes anything (checks.py). Any failure: a message saying what is
  wrong, and nothing changed.
- Then it makes a safety copy of the live database (consistent, SQLite's backup API) and copies the verified
  backup INTO the live database through the same API, never deleting or renaming the live file or its -wal/-shm:
  other connections stay valid and simply see the restored content. Every write acknowledged before the restore
  took the lock is in the safety copy; every write after it is on top of the restored database.
- Evidence of a full restore comes in through the content store (hashed again on the way in), before the database,
  so the restored database never lists a file that is not there.
- Success is reported only when all of it is done and on disk.

A restore against a database server runs the same checks, then replaces the server's rows in one transaction
(server_backup.py).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import ExitStack
from pathlib import Path

from qjgb_desktop import paths
from qjgb_desktop.services.safety.checks import (
    _bring_evidence,
    _check_source,
    _check_tree,
    _listed_evidence,
    _page_size,
    _remove_staged,
    _stage,
    _verify_evidence,
)
from qjgb_desktop.services.safety.folders import (
    FULL_DB_NAME,
    BackupError,
    RestoreResult,
    _clean_folder,
    _database_file,
    _enter_guard,
    _fail,
    _server_url,
    _unique_backup_path,
    backups_dir,
)
from qjgb_desktop.store.backup import backup_sqlite, copy_database, folder_guard
from qjgb_desktop.store.files import write_atomically
from qjgb_desktop.store.locks import lock_path_for, write_lock
from qjgb_desktop.store.revision import HEAD


def restore_backup(path: Path) -> RestoreResult:
    """Restore the database from a single-file backup (see the module's notes for what is promised)."""
    path = Path(path)
    _check_source(path, folder=False)
    return _restore(path, None)


def restore_full_backup(folder: Path) -> RestoreResult:
    """Restore the database and evidence of a full backup folder."""
    folder = Path(folder)
    _check_source(folder, folder=True)
    if not os.path.lexists(folder / FULL_DB_NAME):
        raise BackupError(f"文件夹 {folder} 中没有 {FULL_DB_NAME}，不是本程序的完整备份文件夹。")
    return _restore(folder / FULL_DB_NAME, folder)


def _window_open() -> bool:
    try:
        from PySide6.QtCore import QLockFile

        lock = QLockFile(str(paths.data_dir() / "qjgb.lock"))
        lock.setStaleLockTime(0)
        if lock.tryLock(0):
            lock.unlock()
            return False
        return lock.error() == QLockFile.LockError.LockFailedError
    except Exception:
        return False


def _restore(source_db: Path, full_folder: Path | None) -> RestoreResult:
    from qjgb_desktop.store.blobs import evidence_store
    from qjgb_desktop.store.models import Base  # noqa: F401  imported before the lock is taken: writers wait less

    if (server := _server_url()) is not None:
        from qjgb_desktop.services.safety.server_backup import restore_server

        return restore_server(server, source_db, full_folder)
    db_file = _database_file()
    backups = backups_dir()
    label = str(full_folder or source_db)
    with write_lock(lock_path_for(db_file), purpose="恢复备份"), ExitStack() as stack:
        _enter_guard(stack, backups, "恢复备份")
        _clean_folder(backups, "backups")
        if full_folder is not None and os.access(full_folder, os.W_OK):
            # nobody may add to the backup while it is read (a read-only medium needs no guard)
            _enter_guard(stack, full_folder, "恢复备份")
            _clean_folder(full_folder, "full")
        if full_folder is not None:
            _check_tree(full_folder)
        staged, rev = _stage(source_db, backups, live=db_file, label=label)
        try:
            wanted, missing_at_backup = (_verify_evidence(staged, full_folder) if full_folder is not None
                                         else ([], []))
            # -- verified: from here on the live data is touched --
            try:
                safety, usable = _safety_copy(db_file, backups)
            except (OSError, sqlite3.Error) as exc:
                raise _fail("无法保存恢复前的数据，恢复没有进行，当前数据未作改动", exc) from exc
            live_store = evidence_store()
            new_blobs: list[str] = []
            try:
                copied = _bring_evidence(wanted, live_store, new_blobs)
                _restore_into(staged, db_file, usable)
            except BaseException as exc:
                for sha in new_blobs:  # the live database never listed them: leave the store as it was
                    try:
                        live_store.remove(sha)
                    except OSError:
                        pass
                if isinstance(exc, (OSError, sqlite3.Error)):
                    raise _fail("恢复失败，当前数据未作改动", exc) from exc
                raise
            _check_live(db_file, safety)
            here = sum(1 for sha in _listed_evidence(staged) if not live_store.has(sha))
        finally:
            _remove_staged(staged)
    return RestoreResult(source=Path(label), safety=safety, evidence_copied=copied, evidence_missing_here=here,
                         missing_at_backup=missing_at_backup, upgraded_from=rev if rev != HEAD else None,
                         window_open=_window_open())


def _safety_copy(db_file: Path, backups: Path) -> tuple[Path | None, bool]:
    """Keep the live database as it is now, in backups/. Returns (the copy, whether the live file is a database
    SQLite can read and write into); a file SQLite cannot read is kept byte for byte, with its -wal."""
    wal = Path(str(db_file) + "-wal")
    if _page_size(db_file) is not None:
        target = _unique_backup_path(backups, "before-restore")
        try:
            return backup_sqlite(db_file, target), True
        except sqlite3.DatabaseError:
            pass  # damaged: kept as it is, below
    has_main = db_file.is_file() and db_file.stat().st_size > 0
    has_wal = wal.is_file() and wal.stat().st_size > 0
    if not has_main and not has_wal:
        return None, False  # nothing there (or an empty file): nothing to keep
    target = _unique_backup_path(backups, "before-restore", suffix=".damaged")
    for src, dst in ((db_file, target), (wal, Path(str(target) + "-wal"))):
        if src.is_file():
            write_atomically(dst, lambda p, src=src: shutil.copyfile(src, p))
    return target, False


def _restore_into(staged: Path, db_file: Path, usable: bool) -> None:
    src = sqlite3.connect(f"{staged.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if usable:
            # Into the live database, in one transaction: other connections stay valid and see the new content.
            dst = sqlite3.connect(db_file, timeout=60, isolation_level=None)
            try:
                dst.execute("PRAGMA busy_timeout=60000")
                dst.execute("PRAGMA synchronous=FULL")
                src.backup(dst)
                dst.execute("PRAGMA wal_checkpoint(PASSIVE)")  # into the main file too, where no reader is behind
            finally:
                dst.close()
            return
        # No database SQLite can read (missing, empty, overwritten): nobody can be using it, and its bytes are in
        # the safety copy. A stale -wal must go first, or SQLite would replay it onto the restored file.
        with folder_guard(db_file.parent, purpose="恢复备份"):
            for suffix in ("-wal", "-shm"):
                Path(str(db_file) + suffix).unlink(missing_ok=True)
            write_atomically(db_file, lambda p: copy_database(src, p))
    finally:
        src.close()


def _check_live(db_file: Path, safety: Path | None) -> None:
    try:
        conn = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            ok = [r[0] for r in conn.execute("PRAGMA quick_check")] == ["ok"]
            rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        ok, rev, detail = False, None, str(exc)
    else:
        detail = "完整性检查未通过" if not ok else f"数据库版本为 {rev[0] if rev else '无'}"
    if not ok or not rev or rev[0] != HEAD:
        kept = f"恢复前的数据在 {safety}" if safety else "恢复前没有可保留的数据"
        raise BackupError(f"恢复后的检查未通过（{detail}），请再恢复一次或换一个备份；{kept}。")

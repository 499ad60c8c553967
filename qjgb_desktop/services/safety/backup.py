"""Making backups: the database file alone (SQLite's online backup), or a full backup folder with the database and
the evidence files. Evidence is content-addressed, so a full backup into the same folder again copies only the files
that are new since the last one. On a database server the same formats are written by server_backup.py.

Restoring them is restore.py; the checks a backup must pass first are checks.py; the folders, their guards and
leftovers are folders.py.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from qjgb_desktop.services.safety.checks import _listed_evidence
from qjgb_desktop.services.safety.folders import (
    FULL_DB_NAME,
    MANIFEST_NAME,
    BackupError,
    FullBackupResult,
    _clean_folder,
    _database_file,
    _enter_guard,
    _fail,
    _server_url,
    _unique_backup_path,
    backups_dir,
)
from qjgb_desktop.store.backup import backup_sqlite, copy_database
from qjgb_desktop.store.files import write_atomically
from qjgb_desktop.store.locks import lock_path_for, write_lock
from qjgb_desktop.store.revision import HEAD


def create_backup(target: Path | None = None) -> Path:
    server = _server_url()
    if server is None:
        db_file = _database_file()
        if not db_file.is_file():
            raise BackupError(f"数据库文件不存在：{db_file}（请先运行 qjgb init）")
    explicit = target is not None
    target = Path(target) if explicit else None
    if explicit and os.path.lexists(target):
        raise BackupError(f"目标文件已存在，不会覆盖：{target}")
    folder = target.parent if explicit else backups_dir()
    with ExitStack() as stack:
        _enter_guard(stack, folder, "备份")
        _clean_folder(folder, "other" if explicit and folder != backups_dir() else "backups")
        if explicit and os.path.lexists(target):
            raise BackupError(f"目标文件已存在，不会覆盖：{target}")
        target = target if explicit else _unique_backup_path(folder)
        if server is not None:
            from qjgb_desktop.services.safety.server_backup import backup_server

            return backup_server(server, target)
        try:
            return backup_sqlite(db_file, target)
        except (OSError, sqlite3.Error) as exc:
            raise _fail(f"备份失败（{target}）", exc) from exc


def create_full_backup(folder: Path) -> FullBackupResult:
    """<folder>/qjgb.sqlite3 (replaced by a fresh copy), <folder>/evidence (new files added) and
    <folder>/qjgb-backup.json (what it holds, and evidence that was already missing or damaged here)."""
    from qjgb_desktop.store.blobs import BlobStore, evidence_store

    folder = Path(folder)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise BackupError(f"“{folder}”不是文件夹")
    if (server := _server_url()) is not None:
        from qjgb_desktop.services.safety.server_backup import full_backup_server

        return full_backup_server(server, folder)
    db_file = _database_file()
    if not db_file.is_file():
        raise BackupError(f"数据库文件不存在：{db_file}（请先运行 qjgb init）")
    live, target = evidence_store(), BlobStore(folder / "evidence")
    try:
        with ExitStack() as stack:
            _enter_guard(stack, folder, "完整备份")
            _clean_folder(folder, "full")
            copied = _copy_blobs(live, target, list(live.stored()), set())  # the long part, without the lock
            missing: set[str] = set()
            counts = {}

            def snapshot(partial: Path) -> None:
                nonlocal copied
                src = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)
                try:
                    copy_database(src, partial)
                finally:
                    src.close()
                listed = _listed_evidence(partial)
                counts["evidence"] = len(listed)
                for sha in listed:  # a copy damaged on the backup medium (cut short) is replaced
                    if target.has(sha) and live.has(sha) and \
                            target.path_for(sha).stat().st_size != live.path_for(sha).stat().st_size:
                        target.remove(sha)
                copied += _copy_blobs(live, target, [s for s in listed if not target.has(s)], missing)

            # Under the write lock: no purge can delete a file between the snapshot and the copy of what it lists.
            with write_lock(lock_path_for(db_file), purpose="完整备份"):
                write_atomically(folder / FULL_DB_NAME, snapshot)
            manifest = {"program": "qjgb-desktop", "revision": HEAD, "created": datetime.now().isoformat(),
                        "evidence": counts.get("evidence", 0), "evidence_missing": sorted(missing)}
            write_atomically(folder / MANIFEST_NAME, lambda p: p.write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"))
    except (OSError, sqlite3.Error) as exc:
        raise _fail(f"完整备份失败（{folder}）", exc) from exc
    return FullBackupResult(folder / FULL_DB_NAME, copied, sorted(missing))


def _copy_blobs(source, target, hashes, missing: set[str]) -> int:
    """Copy these contents from `source` to `target` (BlobStores), each hashed on the way in; a content absent
    or damaged in `source` goes to `missing`. Returns how many were copied."""
    copied = 0
    for sha in hashes:
        if target.has(sha):
            continue
        if not source.has(sha):
            missing.add(sha)
            continue
        with source.open(sha) as src:
            got, _size, new = target.put_stream(src)
        if got != sha:  # the file here no longer has its content: never store it under its name
            if new:
                target.remove(got)
            missing.add(sha)
            continue
        copied += 1
    return copied

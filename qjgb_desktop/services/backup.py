"""Back up and restore: the database file alone (SQLite's online backup), or a full backup folder with the
database and the evidence files. Evidence is content-addressed, so a full backup into the same folder again
copies only the files that are new since the last one."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

from .. import paths
from ..store.backup import backup_sqlite
from ..store.revision import REVISIONS


class BackupError(RuntimeError):
    """Something the user must fix; the message says what."""


def _database_file() -> Path:
    db_file = paths.sqlite_path(paths.database_url())
    if db_file is None:
        raise BackupError("当前数据库不是本地 SQLite 文件，请使用数据库服务器自身的备份工具。")
    return db_file


def default_backup_path(label: str = "") -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return paths.data_dir() / "backups" / f"qjgb-{label + '-' if label else ''}{stamp}.sqlite3"


def create_backup(target: Path | None = None) -> Path:
    db_file = _database_file()
    if not db_file.is_file():
        raise BackupError(f"数据库文件不存在：{db_file}（请先运行 qjgb init）")
    target = Path(target) if target else default_backup_path()
    if target.exists():
        raise BackupError(f"目标文件已存在，不会覆盖：{target}")
    try:
        return backup_sqlite(db_file, target)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"备份失败（{target}）：{exc}") from exc


def check_backup_file(path: Path) -> str:
    """The schema revision of a backup file, or BackupError saying why it is not one of ours."""
    if not path.is_file():
        raise BackupError(f"找不到备份文件：{path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            conn.execute("SELECT count(*) FROM plan").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} 不是本程序的备份文件（{exc}）") from exc
    if not rev or rev[0] not in REVISIONS:
        raise BackupError(f"{path} 的数据库版本（{rev[0] if rev else '无'}）不是本程序能打开的版本")
    return rev[0]


def restore_backup(path: Path) -> Path:
    """Replace the database with a backup; the current database is first backed up itself.

    Returns the path of that safety copy. The window must be closed (the caller checks the lock).
    """
    path = Path(path)
    check_backup_file(path)
    db_file = _database_file()
    safety = create_backup(default_backup_path("before-restore")) if db_file.is_file() else None
    staged = db_file.with_name(db_file.name + ".restore")
    try:
        backup_sqlite(path, staged)
        for suffix in ("-wal", "-shm"):
            Path(str(db_file) + suffix).unlink(missing_ok=True)
        os.replace(staged, db_file)
    except (OSError, sqlite3.Error) as exc:
        staged.unlink(missing_ok=True)
        raise BackupError(f"恢复失败：{exc}") from exc
    return safety


FULL_DB_NAME = "qjgb.sqlite3"


def _copy_blobs(source, target, on_file=None) -> int:
    """Copy every stored content of `source` missing from `target` (BlobStores); returns how many were copied."""
    copied = 0
    for sha in source.stored():
        if not target.has(sha):
            target.put(source.path_for(sha))  # hashed and fsynced on the way in, like any attach
            copied += 1
            if on_file is not None:
                on_file(sha)
    return copied


def create_full_backup(folder: Path) -> tuple[Path, int]:
    """<folder>/qjgb.sqlite3 (replaced by a fresh copy) and <folder>/evidence (new files added).
    Returns the database copy and the number of evidence files copied this time."""
    from ..store.blobs import BlobStore, evidence_store

    folder = Path(folder)
    db_copy = folder / FULL_DB_NAME
    if folder.exists() and not folder.is_dir():
        raise BackupError(f"“{folder}”不是文件夹")
    folder.mkdir(parents=True, exist_ok=True)
    fresh = folder / (FULL_DB_NAME + ".new")
    fresh.unlink(missing_ok=True)
    try:
        backup_sqlite(_database_file(), fresh)
        copied = _copy_blobs(evidence_store(), BlobStore(folder / "evidence"))
        os.replace(fresh, db_copy)
    except (OSError, sqlite3.Error) as exc:
        fresh.unlink(missing_ok=True)
        raise BackupError(f"完整备份失败（{folder}）：{exc}") from exc
    return db_copy, copied


def restore_full_backup(folder: Path) -> tuple[Path | None, int]:
    """Restore the database of a full backup folder and bring back evidence files missing here."""
    from ..store.blobs import BlobStore, evidence_store

    folder = Path(folder)
    safety = restore_backup(folder / FULL_DB_NAME)
    copied = _copy_blobs(BlobStore(folder / "evidence"), evidence_store())
    return safety, copied

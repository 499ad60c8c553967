"""Backup folders: where backups go and how they are named, the guard held while a folder gets temporary files,
the clean-up of what a failed or killed backup or restore left, and what a backup or restore reports.

Temporary files (`.qjgb-part-…`, and `.incoming-…` in a full backup's evidence) of a failed or killed backup are
removed at the next backup or restore of that folder, and by `clean_leftovers` at start-up; a folder's guard
(store/backup.folder_guard) is held while its temporary files are written, so a running copy is never removed.
"""

from __future__ import annotations

import os
import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from qjgb_desktop import paths
from qjgb_desktop.errors import UserError, explain
from qjgb_desktop.store.backup import folder_guard
from qjgb_desktop.store.locks import LockError

FULL_DB_NAME = "qjgb.sqlite3"


MANIFEST_NAME = "qjgb-backup.json"


SQLITE_MAGIC = b"SQLite format 3\x00"


STAGING_PREFIX = ".qjgb-part-restore-"


_SQLITE_TEMP = re.compile(r"^\.qjgb-part-.+\.(sqlite3|json)(-journal|-wal|-shm)?$")


_OLD_PART = re.compile(r"^.+\.sqlite3\.part(-journal)?$")  # earlier versions' backup temporaries


class BackupError(UserError):
    """Something the user must fix; the message says what."""


def _fail(what: str, exc: BaseException) -> BackupError:
    return BackupError(f"{what}：{explain(exc) or exc}")


def _server_url() -> str | None:
    """The current database's URL when it is a server (server mode): backed up and restored through
    services/safety/server_backup.py, in the same formats."""
    url = paths.database_url()
    return None if url.startswith("sqlite") else url


def _database_file() -> Path:
    db_file = paths.sqlite_path(paths.database_url())
    if db_file is None:
        raise BackupError("当前数据库不是本地 SQLite 文件，请使用数据库服务器自身的备份工具。")
    return db_file


def backups_dir() -> Path:
    return paths.data_dir() / "backups"


def default_backup_path(label: str = "") -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return backups_dir() / f"qjgb-{label + '-' if label else ''}{stamp}.sqlite3"


def _unique_backup_path(folder: Path, label: str = "", suffix: str = ".sqlite3") -> Path:
    """A new name in `folder` (called with the folder's guard held, so no other backup takes it meanwhile)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"qjgb-{label + '-' if label else ''}{stamp}"
    candidate = folder / f"{base}{suffix}"
    n = 2
    while os.path.lexists(candidate):
        candidate = folder / f"{base}-{n}{suffix}"
        n += 1
    return candidate


def _enter_guard(stack: ExitStack, folder: Path, purpose: str, wait_s: float | None = None) -> None:
    """Take the guard of a folder we write temporary files into, or say why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"无法创建文件夹 {folder}", exc) from exc
    if not os.access(folder, os.W_OK):
        raise BackupError(f"文件夹 {folder} 是只读的或没有写入权限，{purpose}未能进行。请换一个可写的位置。")
    try:
        stack.enter_context(folder_guard(folder, purpose=purpose, **({"wait_s": wait_s} if wait_s is not None
                                                                     else {})))
    except LockError as exc:
        raise BackupError(f"另一项备份或恢复正在使用文件夹 {folder}，{purpose}未能开始。请等它完成后再试。") from exc


def _is_leftover(name: str, kind: str) -> bool:
    if _SQLITE_TEMP.match(name) or _OLD_PART.match(name):
        return True
    if kind == "backups":  # our own folder: any temporary of ours
        return name.startswith(".qjgb-part-") or bool(re.match(r"^.+\.part(-journal)?$", name))
    if kind == "full":
        return name in (f"{FULL_DB_NAME}.new", f"{FULL_DB_NAME}.new-journal")
    if kind == "db":
        return name in (f"{FULL_DB_NAME}.restore", f"{FULL_DB_NAME}.restore-journal")
    return False


def _clean_folder(folder: Path, kind: str, wait_s: float | None = None) -> list[Path]:
    """Remove the leftovers of `kind` ("backups", "full", "db", "other") in `folder` under its guard; a folder
    whose guard is held elsewhere (a copy running now) is left alone. Never raises."""
    from qjgb_desktop.store.blobs import BlobStore

    try:
        if not folder.is_dir():
            return []
        with os.scandir(folder) as entries:
            found = [Path(e.path) for e in entries
                     if _is_leftover(e.name, kind) and not e.is_dir(follow_symlinks=False)]
        evidence = BlobStore(folder / "evidence") if kind == "full" else None
        if not found and not (evidence is not None and evidence.leftovers()):
            return []
        removed = []
        with folder_guard(folder, wait_s=0 if wait_s is None else wait_s, purpose="清理临时文件"):
            for path in found:
                try:
                    path.unlink()
                    removed.append(path)
                except FileNotFoundError:
                    pass
            if evidence is not None:
                before = evidence.leftovers()
                evidence.clean_leftovers(min_age_s=0)  # the guard excludes our writers; flock the rest
                removed += [p for p in before if not p.exists()]
        return removed
    except (OSError, UserError):
        return []


def clean_leftovers(data_dir: Path | None = None) -> list[Path]:
    """Start-up: remove temporary files of failed or killed backups and restores of this data folder (its backups
    folder, and the folder of the database). Cheap (a listing of two folders), never removes anything else or a
    file still being written, never raises. Returns what was removed."""
    data_dir = Path(data_dir) if data_dir is not None else paths.data_dir()
    removed = _clean_folder(data_dir / "backups", "backups")
    folders = [data_dir]
    try:
        if Path(data_dir).resolve() == paths.data_dir().resolve():
            db_file = paths.sqlite_path(paths.database_url())
            if db_file is not None and db_file.parent.resolve() != Path(data_dir).resolve():
                folders.append(db_file.parent)
    except Exception:  # a broken config.toml is reported where the database is opened
        pass
    for folder in folders:
        removed += _clean_folder(folder, "db")
    return removed


@dataclass
class FullBackupResult:
    database: Path
    copied: int  # evidence files copied this time
    missing: list[str] = field(default_factory=list)  # listed in the database, missing or damaged here


@dataclass
class RestoreResult:
    source: Path
    safety: Path | None  # the live database as it was just before (None: there was none to keep)
    evidence_copied: int = 0
    evidence_missing_here: int = 0  # files the restored database lists that are not in this computer's store
    missing_at_backup: list[str] = field(default_factory=list)  # already missing when the full backup was made
    upgraded_from: str | None = None  # the backup's revision, when older than this program's
    window_open: bool = False

"""Consistent copies of the SQLite database, safe while the program is running (SQLite's online backup).

Every copy is written under a temporary name (`.qjgb-part-…`, store/files.write_atomically), flushed to disk and
only then renamed, so a failed or killed copy never looks like a backup. While a copy is being written its folder's
guard (`folder_guard`) is held, so the clean-up of leftovers (services/safety/folders.clean_leftovers) never removes a
temporary file that is still being written.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from qjgb_desktop.store.locks import write_lock

GUARD_NAME = ".qjgb-backup.lock"
GUARD_WAIT_SECONDS = 120


def folder_guard(folder: Path, wait_s: float = GUARD_WAIT_SECONDS, purpose: str = "备份"):
    """Held while temporary files of a backup or restore exist in `folder` (re-entrant in a thread)."""
    return write_lock(Path(folder) / GUARD_NAME, wait_s=wait_s, purpose=purpose)


def backup_sqlite(db_file: Path, target: Path) -> Path:
    """Copy `db_file` to `target` (replacing it) through a temporary file; returns `target`.

    Raises sqlite3.DatabaseError for a source SQLite cannot read (a damaged database)."""
    from qjgb_desktop.store.files import write_atomically

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)

    def copy(partial: Path) -> None:
        src = sqlite3.connect(f"{Path(db_file).resolve().as_uri()}?mode=ro", uri=True)
        try:
            copy_database(src, partial)
        finally:
            src.close()

    with folder_guard(target.parent):
        write_atomically(target, copy)
    return target


def copy_database(src: sqlite3.Connection, target: Path) -> None:
    """SQLite's backup of an open connection into the (new or empty) file `target`, left as one self-contained
    file (rollback journal, no -wal beside it)."""
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()

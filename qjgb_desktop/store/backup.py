"""Consistent copies of the SQLite database, safe while the program is running (SQLite's online backup)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def backup_sqlite(db_file: Path, target: Path) -> Path:
    """Copy `db_file` to `target` through a temporary file, so a failed copy never looks like a backup."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"{Path(db_file).as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
    finally:
        src.close()
    with open(partial, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, target)
    return target

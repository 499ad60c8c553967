"""Noticing changes made by anyone else to the same database: another window on a shared folder, the command line,
an import run elsewhere. SQLite's `PRAGMA data_version` changes whenever another connection commits; reading it
costs microseconds, so it is polled every few seconds on the UI thread, and a change makes the views refresh in
place (lights, tables, charts), keeping the selection and the scroll position."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

POLL_MS = 3000


class ChangeWatcher(QObject):
    changed = Signal()

    def __init__(self, db_file: Path, interval_ms: int = POLL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._conn = sqlite3.connect(f"{Path(db_file).as_uri()}?mode=ro", uri=True)
        self._version = self._read()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def _read(self) -> int | None:
        try:
            return self._conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:  # the file is being restored or is unreadable for a moment: try again next time
            return self._version if hasattr(self, "_version") else None

    def poll(self) -> bool:
        """Emit changed if someone committed since the last look; returns whether it did."""
        version = self._read()
        if version is None or version == self._version:
            return False
        self._version = version
        self.changed.emit()
        return True

    def acknowledge(self) -> None:
        """Our own write was committed and its refresh is on its way: no second refresh for it."""
        version = self._read()
        if version is not None:
            self._version = version

    def close(self) -> None:
        self.timer.stop()
        self._conn.close()

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


class ServerChangeWatcher(QObject):
    """Server mode: every write transaction ends with NOTIFY (store/engine.py), so each window LISTENs on one
    connection of its own, in a background thread, and refreshes within a moment of anyone's commit, on any PC.
    Notifications arriving together are answered with one refresh. After one of this window's own writes (already
    refreshed by ctx.write) the next notification carrying this process's mark is not answered twice."""

    changed = Signal()
    _arrived = Signal(str)

    def __init__(self, url: str, parent: QObject | None = None, settle_ms: int = 250) -> None:
        import threading

        super().__init__(parent)
        from sqlalchemy.engine import make_url

        from qjgb_desktop.store.engine import CHANGE_CHANNEL, process_mark

        self._mark = process_mark()
        self._own_pending = 0
        from qjgb_desktop.store import credentials

        u = make_url(credentials.clean(url)).set(drivername="postgresql")
        self._dsn = u.render_as_string(hide_password=False)  # no password: given apart at each connect
        self._password = credentials.password_for(url)
        self._channel = CHANGE_CHANNEL
        self._stop = threading.Event()
        self.timer = QTimer(self, singleShot=True, interval=settle_ms)
        self.timer.timeout.connect(self.changed)
        self._arrived.connect(self._on_notice)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="qjgb-listen", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                extra = {"password": self._password} if self._password is not None else {}
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5, **extra) as conn:
                    conn.execute(f"LISTEN {self._channel}")
                    self._ready.set()
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=0.5):
                            self._arrived.emit(notice.payload or "")
            except Exception:  # noqa: BLE001 - the server went away for a moment: listen again shortly
                self._ready.set()
                self._stop.wait(2.0)

    def _on_notice(self, payload: str) -> None:
        if payload == self._mark and self._own_pending > 0:
            self._own_pending -= 1
            return
        self.timer.start()

    def acknowledge(self) -> None:
        """One of our own writes was committed and its refresh is on its way."""
        self._own_pending += 1

    def poll(self) -> bool:
        return False  # nothing to poll: notifications arrive by themselves

    def close(self) -> None:
        self._stop.set()
        self.timer.stop()
        self._thread.join(timeout=3)

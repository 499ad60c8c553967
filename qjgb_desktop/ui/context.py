"""What the window's parts share: the database (opened in the background after the first paint), the user's
name, "today" (injectable for tests and screenshots) and the background workers."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QObject, QSettings, Signal

from .workers import Workers


def default_user(settings: QSettings | None = None) -> str:
    name = settings.value("user/name") if settings is not None else None
    return str(name) if name else os.environ.get("QJGB_USER") or getpass.getuser()


class AppContext(QObject):
    database_ready = Signal()
    status_ready = Signal(object)  # services.status.StatusSnapshot
    data_changed = Signal()  # something was written: views refresh
    failed = Signal(str)  # a background job failed in a way the user should see

    def __init__(self, db=None, today: date | None = None, settings: QSettings | None = None,
                 open_db: Callable[[], object] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self._today = today
        self.settings = settings
        self.user = default_user(settings)
        self.workers = Workers(self)
        self._open_db = open_db
        self._opening = False

    def today(self) -> date:
        return self._today or date.today()

    def set_user(self, name: str) -> None:
        self.user = name.strip() or self.user
        if self.settings is not None:
            self.settings.setValue("user/name", self.user)

    # -- database ---------------------------------------------------------------------------------------
    def ensure_database(self) -> None:
        """Open the database in the background if it is not open yet; database_ready follows."""
        if self.db is not None:
            self.database_ready.emit()
            return
        if self._opening:
            return
        self._opening = True
        opener = self._open_db
        if opener is None:
            from ..services.database import open_database as opener

        def opened(db) -> None:
            self._opening = False
            self.db = db
            self.database_ready.emit()

        def failed(exc) -> None:
            self._opening = False
            self.failed.emit(f"无法打开数据库：{exc}")
        self.workers.run(opener, opened, failed)

    def read(self, fn: Callable, on_done: Callable, key: str | None = None) -> None:
        """fn(session) in the background, on_done(result) here; with a key only the newest request answers."""
        if self.db is None:
            return
        sessions = self.db.sessions

        def job():
            with sessions() as session:
                return fn(session)
        self.workers.run(job, on_done, lambda exc: self.failed.emit(str(exc)), key=key)

    def write(self, fn: Callable):
        """fn(session) in one transaction, here and now (small writes: one report, one value); then views refresh.
        Raises what fn raises, with nothing written."""
        with self.db.sessions.begin() as session:
            result = fn(session)
        self.data_changed.emit()
        return result

    def refresh_status(self, tree) -> None:
        from ..services.status import compute_status

        today = self.today()
        self.read(lambda s: compute_status(s, today, tree), self.status_ready.emit, key="status")

    def close(self) -> None:
        self.workers.wait()
        if self.db is not None:
            self.db.close()

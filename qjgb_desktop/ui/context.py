"""What the window's parts share: the database (opened in the background after the first paint), the user's
name, "today" (injectable for tests and screenshots) and the background workers."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QObject, QSettings, Signal

from .workers import Workers


def known_user(settings: QSettings | None = None) -> str:
    """The name given at this PC (settings, asked at the first start) or set for it by the administrator
    (QJGB_USER); "" when nobody has said who works here."""
    name = settings.value("user/name") if settings is not None else None
    return str(name).strip() if name else (os.environ.get("QJGB_USER") or "").strip()


def default_user(settings: QSettings | None = None) -> str:
    return known_user(settings) or getpass.getuser()


def interactive() -> bool:
    """A person is in front of the window: not the offscreen platform (tests, `qjgb screenshot`) nor the
    start-up benchmark. Only then may the window ask something on its own."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() not in ("offscreen", "minimal") and not os.environ.get("QJGB_STARTUP_PROBE")


class AppContext(QObject):
    database_ready = Signal()
    status_ready = Signal(object)  # services.status.StatusSnapshot
    data_changed = Signal()  # something was written: views refresh
    failed = Signal(str)  # a background job failed in a way the user should see
    user_changed = Signal()  # set_user: labels showing the name refresh

    def __init__(self, db=None, today: date | None = None, settings: QSettings | None = None,
                 open_db: Callable[[], object] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self._today = today
        self.settings = settings
        self.user = default_user(settings)
        self.user_known = bool(known_user(settings))  # False: the login name stands in until the user says
        self.department = str(settings.value("user/department") or "") if settings is not None else ""
        self.user_dialog = None  # the first-start question, once asked
        self.database_ready.connect(self.ask_user_if_unknown)
        self.workers = Workers(self)
        self._open_db = open_db
        self._opening = False
        self.watcher = None  # ui/watcher.ChangeWatcher once the database is open

    def today(self) -> date:
        return self._today or date.today()

    def set_user(self, name: str, department: str | None = None) -> None:
        """Who works at this PC from now on: every record and audit entry names them (kept in ui.ini)."""
        if name.strip():
            self.user, self.user_known = name.strip(), True
        if department is not None:
            self.department = department.strip()
        if self.settings is not None:
            self.settings.setValue("user/name", self.user)
            if department is not None:
                self.settings.setValue("user/department", self.department)
        self.user_changed.emit()

    def ask_user_if_unknown(self) -> None:
        """First start: ask the name and department (window-modal, without blocking the window's loading), so
        evidence and the audit log do not say "root" or "Administrator". Never offscreen (tests, screenshots)."""
        from PySide6.QtWidgets import QWidget

        if self.user_known or self.user_dialog is not None or not interactive():
            return  # (asked once per start: a clerk who chose 以后再说 is asked again next time)
        from .settings_dialog import UserDialog

        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        self.user_dialog = UserDialog(self, parent, first_start=True)
        self.user_dialog.open()

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
            def opener():  # SQLAlchemy and the schema check are imported in the worker, not on the UI thread
                from ..services.database import open_database

                return open_database()

        def opened(db) -> None:
            self._opening = False
            self.db = db
            self.database_ready.emit()

        def failed(exc) -> None:
            from ..errors import report

            self._opening = False
            self.failed.emit(f"无法打开数据库：{report(exc) or exc}")
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
        if self.watcher is not None:
            self.watcher.acknowledge()
        self.data_changed.emit()
        return result

    def watch_changes(self, interval_ms: int | None = None) -> None:
        """Refresh the views when anyone else changes the database (SQLite files; see ui/watcher.py)."""
        from .. import paths
        from .watcher import POLL_MS, ChangeWatcher, ServerChangeWatcher

        if self.db is None or self.watcher is not None:
            return
        if self.db.sessions.server:
            self.watcher = ServerChangeWatcher(self.db.url, self)
        else:
            db_file = paths.sqlite_path(self.db.url)
            if db_file is None:
                return
            self.watcher = ChangeWatcher(db_file, interval_ms or POLL_MS, self)
        self.watcher.changed.connect(self.data_changed)

    def refresh_status(self, tree) -> None:
        from ..services.status import compute_status

        today = self.today()
        self.read(lambda s: compute_status(s, today, tree), self.status_ready.emit, key="status")

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()
            self.watcher = None
        self.workers.wait()
        if self.db is not None:
            self.db.close()

"""What the window's parts share: the database (opened in the background after the first paint), the user's
name, "today" (injectable for tests and screenshots) and the background workers."""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QObject, QSettings, Qt, Signal

from qjgb_desktop.ui.window.workers import Workers

log = logging.getLogger(__name__)


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
        self.account = None  # services.access.AccountView of the logged-in account (a database with accounts)
        self.accounts_on = False  # the database has accounts: only a logged-in account's name is ever the user
        self.login_dialog = None
        self.database_ready.connect(self.check_login)
        self.data_changed.connect(self._accounts_may_have_appeared)
        self.workers = Workers(self)
        self._open_db = open_db
        self._opening = False
        self.watcher = None  # ui/window/watcher.ChangeWatcher once the database is open

    def today(self) -> date:
        return self._today or date.today()

    def set_user(self, name: str, department: str | None = None) -> None:
        """Who works at this PC from now on: every record and audit entry names them (kept in ui.ini). Not with
        accounts: then only a login (log_in) says who works."""
        if self.accounts_on:
            return
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
        from qjgb_desktop.ui.settings.settings_dialog import UserDialog

        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        self.user_dialog = UserDialog(self, parent, first_start=True)
        self.user_dialog.open()

    # -- accounts -----------------------------------------------------------------------------------------
    def check_login(self) -> None:
        """Once the database is open: with accounts in it, nobody works until an account has logged in (the login
        dialog, window-modal, also offscreen); without, the name asked at the first start stands for whoever works."""
        if self.account is not None:
            return
        from qjgb_desktop.services.accounts.access import accounts_exist

        if self.db.sessions.server and self._server_login():
            return
        with self.db.sessions() as session:
            self.accounts_on = accounts_exist(session)
        if not self.accounts_on:
            self.ask_user_if_unknown()
            return
        if self.user:  # the self-declared name is no account's: nothing may be written in it
            self.user, self.user_known = "", False
            self.user_changed.emit()
        self.ask_login()

    def _server_login(self) -> bool:
        """On a server the connection's login is who works (logged in before the database opened): True when it is an
        account. One whose password a 管理员 set changes it now, or the window closes."""
        from qjgb_desktop.services.accounts.access import identity
        from qjgb_desktop.services.accounts.server import must_change_password

        with self.db.sessions() as session:
            ident = identity(session)
            change = ident.account is not None and must_change_password(session, ident.login)
        if ident.account is None:
            return False
        self.log_in(ident.account)
        if change:
            from PySide6.QtWidgets import QDialog, QLabel, QWidget

            from qjgb_desktop.ui.accounts.accounts_dialog import PasswordDialog

            parent = self.parent() if isinstance(self.parent(), QWidget) else None
            dialog = PasswordDialog(self, ident.login, own=True, parent=parent)
            note = QLabel("您的密码是管理员设置的，请先改成只有您知道的密码。", objectName="passwordMustChange")
            note.setWordWrap(True)
            dialog.layout().insertWidget(0, note)
            dialog.setWindowModality(Qt.WindowModality.WindowModal)

            def finished(result: int) -> None:
                if result != QDialog.DialogCode.Accepted and parent is not None:
                    parent.close()
            dialog.finished.connect(finished)
            dialog.open()
            self.password_dialog = dialog
        return True

    def _accounts_may_have_appeared(self) -> None:
        """Something was written (here, or by another PC or window). If it was the database's first account, this
        window, which has been working account-free, asks for a login from now on; if it changed the logged-in
        account, the window follows: a new role or departments are shown, a disabled account is logged out. Checked
        once the event loop is back, so the window that created the first account has logged in as it by then."""
        if self.db is None:
            return
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, self, self._check_account)

    def _check_account(self) -> None:
        from qjgb_desktop.services.accounts.access import accounts_exist, find_account

        if self.db is None or (self.account is None and self.accounts_on):
            return
        try:
            with self.db.sessions() as session:
                if self.account is None:
                    appeared = accounts_exist(session)
                else:
                    now = find_account(session, self.account.name)
        except Exception:  # noqa: BLE001 - a database busy or gone for a moment: the next change checks again
            log.warning("could not read the accounts after a change", exc_info=True)
            return
        if self.account is None:
            if appeared:
                self.check_login()
            return
        if now is not None and not now.disabled:
            if now != self.account:
                self.log_in(now)  # a 管理员 changed its role or departments: labels and choices follow
            return
        name = self.account.name
        self.account, self.user, self.user_known = None, "", False  # nothing more is written in its name
        self.user_changed.emit()
        dialog = self.ask_login()
        dialog.errors.setText(f"账户“{name}”已被管理员停用，已退出登录；请用其他账户登录。" if now is not None
                              else f"账户“{name}”在数据库中已不存在（例如恢复了较早的备份），请重新登录。")
        dialog.errors.show()

    def ask_login(self, switching: bool = False):
        """The login dialog over the window (one at a time); `switching` from 文件 → 切换账户…."""
        from PySide6.QtWidgets import QWidget

        from qjgb_desktop.ui.accounts.login_dialog import LoginDialog

        if self.login_dialog is not None and self.login_dialog.isVisible():
            return self.login_dialog
        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        self.login_dialog = LoginDialog(self, parent, switching=switching)
        self.login_dialog.open()
        return self.login_dialog

    def switch_server_login(self):
        """服务器模式, 文件 → 切换账户…: another login is another connection. The dialog opens it; the window then works
        over it (the previous connection is closed) and follows the new account. 取消 keeps the current one."""
        from PySide6.QtWidgets import QWidget

        from qjgb_desktop.store import credentials
        from qjgb_desktop.ui.accounts.login_dialog import ServerLoginDialog

        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        dialog = ServerLoginDialog(credentials.account_url(self.db.url), self.settings, parent, switching=True)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda: self.use_database(dialog.db))
        self.login_dialog = dialog
        dialog.open()
        return dialog

    def use_database(self, db) -> None:
        """Work over `db` from now on (another server login): views refresh, the account is the new login's."""
        if self.watcher is not None:
            self.watcher.close()
            self.watcher = None
        self.workers.wait()
        old, self.db, self.account = self.db, db, None
        if old is not None:
            old.close()
        self.watch_changes()
        self.check_login()
        self.data_changed.emit()

    def log_in(self, account) -> None:
        """The account that works from now on: its name is the actor of every record and audit entry. Only the name
        is kept in ui.ini, to be offered at the next login."""
        self.account, self.accounts_on = account, True
        self.user, self.user_known = account.name, True
        self.department = account.departments[0] if account.departments else ""
        if self.settings is not None:
            self.settings.setValue("login/last", account.name)
        self.user_changed.emit()

    @property
    def user_label(self) -> str:
        """For the status bar: 张敏（督导）, 未登录, or the self-declared name."""
        if self.account is not None:
            return self.account.label
        return "未登录" if self.accounts_on else self.user

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
                from qjgb_desktop.services.safety.database import open_database

                return open_database()

        def opened(db) -> None:
            self._opening = False
            self.db = db
            self.database_ready.emit()

        def failed(exc) -> None:
            from qjgb_desktop.errors import report

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
        """Refresh the views when anyone else changes the database (SQLite files; see ui/window/watcher.py)."""
        from qjgb_desktop import paths
        from qjgb_desktop.ui.window.watcher import POLL_MS, ChangeWatcher, ServerChangeWatcher

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
        from qjgb_desktop.services.progress.status import compute_status

        today = self.today()
        self.read(lambda s: compute_status(s, today, tree), self.status_ready.emit, key="status")

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()
            self.watcher = None
        self.workers.wait()
        if self.db is not None:
            self.db.close()

"""登录: when the database has accounts, nobody works in the window until an account has logged in.

Window-modal over the main window (which may already show the plan while the database opened). A wrong password is
said, the name is kept and the password field emptied; Enter logs in. The password is checked in the background
(argon2 takes a noticeable moment on an office PC), with the button saying so meanwhile. 退出 closes the program at
the start; when switching accounts (文件 → 切换账户…) the button is 取消 and the current account stays logged in.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from qjgb_desktop.ui.widgets.dialog_parts import error_banner


class _LoginForm(QDialog):
    """账户 and 密码 with the banner for what went wrong, 登录 (Enter in either field) and a quit button."""

    def __init__(self, intro_text: str, last_name: str, max_name: int, quit_text: str, parent=None) -> None:
        super().__init__(parent)
        intro = QLabel(intro_text, objectName="loginIntro")
        intro.setWordWrap(True)
        self.name = QLineEdit(objectName="loginName", placeholderText="账户名", maxLength=max_name)
        self.name.setText(last_name)
        self.password = QLineEdit(objectName="loginPassword", placeholderText="密码",
                                  echoMode=QLineEdit.EchoMode.Password)
        self.errors = error_banner("loginErrors")
        form = QFormLayout()
        form.addRow("账户", self.name)
        form.addRow("密码", self.password)
        buttons = QDialogButtonBox()
        self.login_button = buttons.addButton("登录", QDialogButtonBox.ButtonRole.AcceptRole)
        self.login_button.setObjectName("loginButton")
        self.login_button.setDefault(True)  # Enter in either field logs in
        self.quit_button = buttons.addButton(quit_text, QDialogButtonBox.ButtonRole.RejectRole)
        self.quit_button.setObjectName("loginQuit")
        self.quit_button.setAutoDefault(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.errors)
        layout.addLayout(form)
        layout.addWidget(buttons)
        (self.password if self.name.text() else self.name).setFocus()

    def _refuse(self, message: str, field: QLineEdit) -> None:
        self.errors.setText(message)
        self.errors.show()
        field.setFocus()


class LoginDialog(_LoginForm):
    def __init__(self, ctx, parent=None, switching: bool = False) -> None:
        last = ctx.settings.value("login/last") if ctx.settings is not None and not switching else None
        super().__init__("本数据库已启用账户登录。请用您的账户登录：每一次填报、修改和上传都记在登录的账户名下。"
                         if not switching else "用另一个账户登录；当前账户在登录成功后退出。",
                         str(last or ""), 100, "取消" if switching else "退出", parent)
        self.ctx = ctx
        self.switching = switching
        self.setObjectName("loginDialog")
        self.setWindowTitle("切换账户" if switching else "登录")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.resize(400, 180)
        self.checking = False

    def accept(self) -> None:
        from qjgb_desktop.services.accounts.accounts import login

        if self.checking:
            return
        name = self.name.text().strip()
        if not name:
            self._refuse("请填写账户名", self.name)
            return
        if self.ctx.db is None:
            self._refuse("数据库尚未打开，请稍候再登录", self.password)
            return
        sessions, password = self.ctx.db.sessions, self.password.text()
        self._checking(True)
        self.ctx.workers.run(lambda: login(sessions, name, password), self._logged_in, self._not_logged_in)

    def _checking(self, on: bool) -> None:
        self.checking = on
        self.login_button.setEnabled(not on)
        self.login_button.setText("正在登录…" if on else "登录")
        self.name.setReadOnly(on)
        self.password.setReadOnly(on)

    def _logged_in(self, account) -> None:
        self._checking(False)
        self.password.clear()
        self.ctx.log_in(account)
        super().accept()

    def _not_logged_in(self, exc: Exception) -> None:
        from qjgb_desktop.errors import UserError, report

        self._checking(False)
        if isinstance(exc, UserError):  # wrong password, unknown name, disabled account: the name stays, the password goes
            self.password.clear()
            self._refuse(str(exc), self.password)
            return
        message = report(exc)  # a locked or unreachable database is the user's to fix; a bug goes on up
        if message is None:
            raise exc
        self._refuse(message, self.password)

    def reject(self) -> None:
        super().reject()
        if not self.switching and self.ctx.account is None:
            window = self.parentWidget()
            if window is not None:
                window.close()  # 退出: the program ends with its window, nobody logged in


class ServerLoginDialog(_LoginForm):
    """服务器模式 at start: the account and password are the connection's login, checked by the server itself, so the
    database opens only after this dialog (`db` then holds it). A refused login is said; after each refusal the next
    attempt waits a little longer (2, 4, 8 … up to 30 seconds), and the refusal is noted in the log (never the
    password)."""

    def __init__(self, url: str, settings=None, parent=None, switching: bool = False) -> None:
        from qjgb_desktop.store import credentials

        last = str(settings.value("login/last") or "") if settings is not None and not switching else ""
        super().__init__(f"连接数据库服务器：{credentials.safe(url)}\n" + (
            "用另一个账户登录；登录成功后，当前账户退出。" if switching else
            "请用管理员为您建立的账户登录；每一次填报和修改都记在您的账户名下。"), last, 63,
            "取消" if switching else "退出", parent)
        self.url, self.settings, self.db = url, settings, None
        self.setObjectName("serverLoginDialog")
        self.setWindowTitle("切换账户" if switching else "登录")
        self.resize(440, 200)
        self.failures = 0

    def accept(self) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtGui import QGuiApplication

        from qjgb_desktop.errors import report
        from qjgb_desktop.services.accounts.server import login_problem, login_refusal, record_failed_login
        from qjgb_desktop.services.safety.database import open_database
        from qjgb_desktop.store import credentials

        name = self.name.text().strip()
        if not name:
            return self._refuse("请填写账户名", self.name)
        if not self.password.text():
            return self._refuse("请填写密码", self.password)
        url = credentials.remember(credentials.with_user(self.url, name), self.password.text())
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.db = open_database(url)
        except Exception as exc:  # noqa: BLE001 - every refusal is told here; a bug goes on up
            problem = login_problem(exc)
            credentials.forget(url)
            self.password.clear()
            if problem is None:
                message = report(exc)
                if message is None:
                    raise
                return self._refuse(message, self.password)
            record_failed_login(url, name, problem)
            self.failures += 1
            wait_s = min(2 ** self.failures, 30)
            self.login_button.setEnabled(False)
            QTimer.singleShot(wait_s * 1000, self, lambda: self.login_button.setEnabled(True))
            return self._refuse(f"{login_refusal(problem, name)}请 {wait_s} 秒后再试。", self.password)
        finally:
            QGuiApplication.restoreOverrideCursor()
        if self.settings is not None:
            self.settings.setValue("login/last", name)
        self.password.clear()
        super().accept()

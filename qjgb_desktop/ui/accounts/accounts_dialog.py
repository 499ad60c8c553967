"""账户管理 (文件 → 账户管理…) and 修改我的密码 (文件 → 修改我的密码…).

A 管理员 lists the accounts and adds one, changes its role or departments, sets a new password, disables or enables
it — the same services as `qjgb user …`, so the same rules and the same audit entries. Accounts are never deleted.
On a database without accounts anyone may create the first one, which must be a 管理员: from then on everybody logs
in, so the dialog says so before, and the one who created it is logged in as it after. Every logged-in account
changes its own password after giving the current one.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from qjgb_desktop.errors import UserError, report
from qjgb_desktop.ui.widgets.dialog_parts import GuardedDialog, close_only, error_banner, row_table, save_cancel

ROLES = ("管理员", "督导", "部门填报员", "只读")  # services.access.ROLES (the window imports SQLAlchemy lazily)
CLERK, ADMIN = "部门填报员", "管理员"
ROLE_HINTS = {
    "管理员": "全部操作：计划、账户、设置、备份恢复、重新开放周期",
    "督导": "查看全部；督办、关闭周期、导入交回的模板、生成报告和通知单",
    "部门填报员": "只为本部门牵头或配合的目标填报进展、指标和佐证",
    "只读": "只能查看和导出",
}
HEADERS = ("账户", "角色", "绑定部门", "状态", "创建", "密码修改于")
AccountRole = Qt.ItemDataRole.UserRole + 1


class AccountsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.accounts: list = []

    def set_accounts(self, accounts: list) -> None:
        self.beginResetModel()
        self.accounts = list(accounts)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.accounts)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        a = self.accounts[index.row()]
        if role == AccountRole:
            return a
        if role == Qt.ItemDataRole.ForegroundRole and a.disabled:
            return QColor("#8A8A8A")
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 2 and a.departments:
            return "\n".join(a.departments)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        changed = a.password_changed_at
        return (a.name, a.role, "、".join(a.departments) or "—", "已停用" if a.disabled else "启用（待本人改密码）" if a.must_change_password else "启用",
                f"{a.created_at:%Y-%m-%d}（{a.created_by}）", f"{changed:%Y-%m-%d %H:%M}" if changed else "—",
                )[index.column()]


def _password_field(name: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit(objectName=name, echoMode=QLineEdit.EchoMode.Password, placeholderText=placeholder, maxLength=1024)
    return edit


def _failure(exc: Exception) -> str:
    """A refusal the user can act on (a UserError or a locked, full or unreachable database); a bug goes on up."""
    if isinstance(exc, UserError):
        return str(exc)
    message = report(exc)
    if message is None:
        raise exc
    return message


class AccountForm(GuardedDialog):
    """新增账户 (name, role, departments, password twice) or 修改角色与部门 of an existing account."""

    def __init__(self, ctx, departments: list[str], account=None, first: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.ctx, self.account, self.first, self.result_account = ctx, account, first, None
        self.setObjectName("accountForm")
        self.setWindowTitle("新增账户" if account is None else f"修改账户 · {account.name}")
        self.errors = error_banner("accountErrors")
        self.name = QLineEdit(objectName="accountName")
        self.name.setMaxLength(100)
        self.name.setPlaceholderText("姓名或工号，如：张敏")
        self.role = QComboBox(objectName="accountRole")
        for role in ROLES:
            self.role.addItem(role)
            self.role.setItemData(self.role.count() - 1, ROLE_HINTS[role], Qt.ItemDataRole.ToolTipRole)
        self.role_hint = QLabel(objectName="accountRoleHint")
        self.role_hint.setWordWrap(True)
        self.role_hint.setStyleSheet("color:#555;")
        self.department_filter = QLineEdit(objectName="accountDepartmentFilter")
        self.department_filter.setPlaceholderText("筛选部门…")
        self.department_filter.setClearButtonEnabled(True)
        self.departments = QListWidget(objectName="accountDepartments")
        bound = set(account.departments) if account is not None else set()
        for d in departments:
            item = QListWidgetItem(d)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if d in bound else Qt.CheckState.Unchecked)
            self.departments.addItem(item)
        self.departments.setMinimumHeight(self.fontMetrics().height() * 6)
        self.password = _password_field("accountPassword", "至少 8 个字符")
        self.confirm = _password_field("accountPasswordConfirm", "再输入一次")
        self.reason = QLineEdit(objectName="accountReason")
        self.reason.setPlaceholderText("如：调到其他科室（记入留痕）")
        self.reason.setMaxLength(500)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        if account is None:
            form.addRow("账户名", self.name)
        form.addRow("角色", self.role)
        form.addRow("", self.role_hint)
        form.addRow("绑定部门", self.department_filter)
        form.addRow("", self.departments)
        if account is None:
            form.addRow("密码", self.password)
            form.addRow("确认密码", self.confirm)
        else:
            form.addRow("修改原因", self.reason)
        layout = QVBoxLayout(self)
        if first:
            intro = QLabel("这是本数据库的第一个账户，须为管理员。保存后即启用账户登录：此后每次打开程序、"
                           "每个命令都须用账户登录，您将以这个账户登录。", objectName="accountFirstNote")
            intro.setWordWrap(True)
            intro.setStyleSheet("color:#B23B00;")
            layout.addWidget(intro)
        layout.addWidget(self.errors)
        layout.addLayout(form)
        layout.addWidget(save_cancel(self, "添加 (Enter)" if account is None else "保存 (Enter)"))

        self.role.setCurrentText(account.role if account is not None else (ADMIN if first else CLERK))
        self.role.setEnabled(not first)
        self.role.currentTextChanged.connect(self._role_changed)
        self.department_filter.textChanged.connect(self._filter_departments)
        self._role_changed(self.role.currentText())
        self.resize(520, 560)
        (self.name if account is None else self.role).setFocus()
        self.remember_state()

    def _role_changed(self, role: str) -> None:
        self.role_hint.setText(ROLE_HINTS.get(role, ""))
        clerk = role == CLERK
        self.departments.setEnabled(clerk)
        self.department_filter.setEnabled(clerk)

    def _filter_departments(self, text: str) -> None:
        text = text.strip()
        for i in range(self.departments.count()):
            item = self.departments.item(i)
            item.setHidden(bool(text) and text not in item.text())

    def checked_departments(self) -> list[str]:
        return [self.departments.item(i).text() for i in range(self.departments.count())
                if self.departments.item(i).checkState() == Qt.CheckState.Checked]

    def form_state(self) -> object:
        return (self.name.text(), self.role.currentText(), tuple(self.checked_departments()), self.password.text(),
                self.confirm.text(), self.reason.text())

    def _refuse(self, message: str, field=None) -> None:
        self.errors.setText(message)
        self.errors.show()
        if field is not None:
            field.setFocus()

    def accept(self) -> None:
        from qjgb_desktop.services.accounts import accounts as svc

        role = self.role.currentText()
        departments = self.checked_departments() if role == CLERK else []
        if self.account is None:
            if not self.name.text().strip():
                return self._refuse("请填写账户名", self.name)
            if self.password.text() != self.confirm.text():
                self.confirm.clear()
                return self._refuse("两次输入的密码不一致，请重新输入确认密码", self.confirm)
        if role == CLERK and not departments:
            return self._refuse("部门填报员须绑定至少一个部门：请在列表中勾选", self.departments)
        actor = self.ctx.user
        try:
            if self.account is None:
                name, password = self.name.text(), self.password.text()
                self.result_account = self.ctx.write(
                    lambda s: svc.add_account(s, actor, name, password, role, departments))
            else:
                name, reason = self.account.name, self.reason.text()
                self.result_account = self.ctx.write(
                    lambda s: svc.update_account(s, actor, name, role, departments, reason))
        except Exception as exc:  # noqa: BLE001 (_failure re-raises a bug)
            return self._refuse(_failure(exc))
        self.password.clear()
        self.confirm.clear()
        QDialog.accept(self)


class PasswordDialog(GuardedDialog):
    """修改我的密码 (current, new, new again) or, for a 管理员, 重设密码 of another account (new twice)."""

    def __init__(self, ctx, name: str, own: bool, parent=None) -> None:
        super().__init__(parent)
        self.ctx, self.account_name, self.own = ctx, name, own
        self.setObjectName("passwordDialog")
        self.setWindowTitle("修改我的密码" if own else f"重设密码 · {name}")
        self.errors = error_banner("passwordErrors")
        self.current = _password_field("passwordCurrent", "当前密码")
        self.new = _password_field("passwordNew", "至少 8 个字符")
        self.confirm = _password_field("passwordConfirm", "再输入一次")
        form = QFormLayout()
        form.addRow("账户", QLabel(name))
        if own:
            form.addRow("当前密码", self.current)
        form.addRow("新密码", self.new)
        form.addRow("确认新密码", self.confirm)
        layout = QVBoxLayout(self)
        if not own:
            note = QLabel("新密码请当面或电话告知本人，并请其登录后用“修改我的密码”改为自己的密码。")
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addWidget(self.errors)
        layout.addLayout(form)
        layout.addWidget(save_cancel(self, "修改密码 (Enter)"))
        self.resize(420, 220)
        (self.current if own else self.new).setFocus()
        self.remember_state()

    def form_state(self) -> object:
        return (self.current.text(), self.new.text(), self.confirm.text())

    def _refuse(self, message: str, field) -> None:
        self.errors.setText(message)
        self.errors.show()
        field.setFocus()

    def accept(self) -> None:
        from qjgb_desktop.services.accounts import accounts as svc

        if self.own and not self.current.text():
            return self._refuse("请填写当前密码", self.current)
        if self.new.text() != self.confirm.text():
            self.confirm.clear()
            return self._refuse("两次输入的新密码不一致，请重新输入确认密码", self.confirm)
        name, current, new, actor = self.account_name, self.current.text(), self.new.text(), self.ctx.user
        try:
            if self.own:
                self.ctx.write(lambda s: svc.change_own_password(s, name, current, new))
            else:
                self.ctx.write(lambda s: svc.change_password(s, actor, name, new))
        except Exception as exc:  # noqa: BLE001
            if self.own and "当前密码" in str(exc):
                self.current.clear()
                return self._refuse(_failure(exc), self.current)
            return self._refuse(_failure(exc), self.new)
        for field in (self.current, self.new, self.confirm):
            field.clear()
        QDialog.accept(self)


class AccountsDialog(QDialog):
    """账户管理: the accounts as a table, and what a 管理员 may do with them."""

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.child: QDialog | None = None
        self.setObjectName("accountsDialog")
        self.setWindowTitle("账户管理")
        self.intro = QLabel(objectName="accountsIntro")
        self.intro.setWordWrap(True)
        self.model = AccountsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = row_table(self.proxy, "accountsTable")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the order they were created in
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.add_button = QPushButton("新增账户…", objectName="accountAdd")
        self.edit_button = QPushButton("修改角色与部门…", objectName="accountEdit")
        self.password_button = QPushButton("重设密码…", objectName="accountPasswordReset")
        self.toggle_button = QPushButton("停用", objectName="accountToggle")
        for button in (self.add_button, self.edit_button, self.password_button, self.toggle_button):
            button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_account)
        self.edit_button.clicked.connect(self.edit_account)
        self.password_button.clicked.connect(self.reset_password)
        self.toggle_button.clicked.connect(self.toggle_account)
        self.table.doubleClicked.connect(lambda _i: self.edit_account())
        row = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.password_button, self.toggle_button):
            row.addWidget(button)
        row.addStretch(1)
        self.errors = error_banner("accountsErrors")
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.errors)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(close_only(self))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.resize(760, 420)
        self.reload()

    # -- reading -------------------------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        from qjgb_desktop.services.accounts.accounts import list_accounts

        selected = select or (self.current().name if self.current() is not None else None)
        with self.ctx.db.sessions() as s:
            items = list_accounts(s)
        self.model.set_accounts(items)
        if not items:
            self.intro.setText("本数据库还没有账户，程序以无账户方式运行。添加第一个账户（须为管理员）后即启用账户"
                               "登录：每个人用自己的账户登录，每一次填报和修改都记在账户名下。账户不删除，只停用。")
        else:
            self.intro.setText(f"共 {len(items)} 个账户（{sum(not a.disabled for a in items)} 个启用）。"
                               "账户不删除，只停用：记录中的姓名始终保留。双击一行修改角色与部门。")
        self.intro.setText(self.intro.text() + (
            "\n服务器模式：账户是数据库服务器上的登录，密码和权限由服务器检查，任何电脑都无法绕过。"
            if self.ctx.db.sessions.server else "\n注意：一台电脑上的账户用于区分使用者、记录是谁填报，但不是安全边界："
            "数据文件就在这台电脑上，能接触这台电脑的人都能改它。需要强制的权限请使用服务器模式。"))
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 0).data(AccountRole).name == selected:
                self.table.selectRow(r)
                break
        self._update_buttons()

    def current(self):
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].data(AccountRole) if rows else None

    def _update_buttons(self) -> None:
        account = self.current()
        for button in (self.edit_button, self.password_button, self.toggle_button):
            button.setEnabled(account is not None)
        self.toggle_button.setText("重新启用" if account is not None and account.disabled else "停用")

    def _departments(self) -> list[str]:
        from qjgb_desktop.services.plan.query import plan_tree

        with self.ctx.db.sessions() as s:
            return list(plan_tree(s).departments)

    def _open(self, dialog: QDialog, on_done) -> QDialog:
        self.child = dialog
        dialog.accepted.connect(on_done)
        dialog.open()
        return dialog

    # -- actions -------------------------------------------------------------------------------------------
    def add_account(self) -> QDialog:
        first = self.model.rowCount() == 0
        form = AccountForm(self.ctx, self._departments(), first=first, parent=self)

        def done() -> None:
            account = form.result_account
            if first:  # whoever created the first account is now logged in as it
                self.ctx.log_in(account)
            self.reload(select=account.name)
            self._said(f"已添加账户：{account.label}" + ("；已启用账户登录，您现在以此账户登录" if first else ""))
        return self._open(form, done)

    def edit_account(self) -> QDialog | None:
        account = self.current()
        if account is None:
            return None
        form = AccountForm(self.ctx, self._departments(), account=account, parent=self)

        def done() -> None:
            if self.ctx.account is not None and self.ctx.account.name == account.name:
                self.ctx.log_in(form.result_account)  # one's own role or departments: the window follows
            self.reload(select=account.name)
            self._said(f"已修改账户：{form.result_account.label}")
        return self._open(form, done)

    def reset_password(self) -> QDialog | None:
        account = self.current()
        if account is None:
            return None
        own = self.ctx.account is not None and self.ctx.account.name == account.name
        dialog = PasswordDialog(self.ctx, account.name, own=own, parent=self)

        def done() -> None:
            self.reload(select=account.name)
            self._said(f"已修改账户“{account.name}”的密码")
        return self._open(dialog, done)

    def toggle_account(self) -> QMessageBox | None:
        from qjgb_desktop.services.accounts import accounts as svc

        account = self.current()
        if account is None:
            return None
        if account.disabled:
            return self._change(lambda s: svc.enable_account(s, self.ctx.user, account.name),
                                f"已重新启用账户“{account.name}”", account.name)
        box = QMessageBox(QMessageBox.Icon.Question, "停用账户",
                          f"停用账户“{account.name}”？\n停用后不能再登录；记录中的姓名保留，可随时重新启用。",
                          parent=self)
        box.setObjectName("accountDisableQuestion")
        yes = box.addButton("停用", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("取消", QMessageBox.ButtonRole.RejectRole)

        def answered(_result: int) -> None:
            if box.clickedButton() is yes:
                self._change(lambda s: svc.disable_account(s, self.ctx.user, account.name),
                             f"已停用账户“{account.name}”", account.name)
        box.finished.connect(answered)
        self.child = box
        box.open()
        return box

    def _change(self, fn, done: str, name: str) -> None:
        try:
            self.ctx.write(fn)
        except Exception as exc:  # noqa: BLE001
            self.errors.setText(_failure(exc))
            self.errors.show()
            return
        self.reload(select=name)
        self._said(done)

    def _said(self, message: str) -> None:
        self.errors.hide()
        window = self.parentWidget()
        if window is not None and hasattr(window, "statusBar"):
            window.statusBar().showMessage(message, 8000)


# -- the window's 文件 menu -----------------------------------------------------------------------------

def switch_account(window):
    """文件 → 切换账户…: log in as another account. Without accounts there is nobody to switch to: say so."""
    if not window.ctx.accounts_on and window.ctx.db is not None:  # the first account may have come since the start
        from qjgb_desktop.services.accounts.access import accounts_exist

        with window.ctx.db.sessions() as s:
            window.ctx.accounts_on = accounts_exist(s)
    if window.ctx.db is not None and window.ctx.db.sessions.server and window.ctx.account is not None:
        return window.ctx.switch_server_login()  # another login is another connection
    if not window.ctx.accounts_on:
        QMessageBox.information(
            window, "切换账户", "本数据库没有登录账户，程序以无账户方式运行；当前用户可在“用户与预警设置”中修改。\n"
            "如需账户登录（服务器模式，或一台电脑多人使用），请在“文件 → 账户管理…”中创建第一个管理员账户。")
        return None
    return window.ctx.ask_login(switching=True)


def manage_accounts(window):
    """文件 → 账户管理…: a 管理员's, or anyone's while the database has no account (to create the first)."""
    if window.ctx.db is None:
        window.statusBar().showMessage("数据库正在打开，请稍候再试", 5000)
        return None
    if window.ctx.accounts_on and (window.ctx.account is None or window.ctx.account.role != ADMIN):
        QMessageBox.information(window, "账户管理", "只有管理员可以管理账户。\n"
                                "修改自己的密码请用“文件 → 修改我的密码…”。")
        return None
    dialog = AccountsDialog(window.ctx, window)
    dialog.open()
    return dialog


def change_own_password(window):
    """文件 → 修改我的密码…: the logged-in account's, after its current password."""
    if window.ctx.account is None:
        QMessageBox.information(window, "修改我的密码", "当前没有登录的账户：本数据库以无账户方式运行，没有密码。")
        return None
    dialog = PasswordDialog(window.ctx, window.ctx.account.name, own=True, parent=window)
    dialog.accepted.connect(lambda: window.statusBar().showMessage("密码已修改，下次登录请用新密码", 8000))
    dialog.open()
    return dialog

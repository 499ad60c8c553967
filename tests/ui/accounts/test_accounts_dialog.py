"""账户管理 and 修改我的密码 in the window: the first 管理员 created there (and logged in), accounts added, changed,
disabled and given a new password through the same services and rules as `qjgb user …`; refusals said in the dialog
with nothing written; only a 管理员 manages accounts; one's own password only after the current one."""

import pytest
from gui_helpers import open_window, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from qjgb_desktop.services.accounts import accounts
from qjgb_desktop.services.accounts.access import ADMIN, CLERK, READER
from qjgb_desktop.store.models import AuditEvent

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("cheap_hashes", "no_dialogs_left_open")]
PW = "correct-horse-1"


@pytest.fixture
def told(monkeypatch):
    said = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, title, text, *a, **k: said.append((title, text)))
    return said


def start_window(qtbot, db, login_as=None):
    win = open_window(qtbot, db)
    if login_as is not None:
        dialog = win.ctx.login_dialog
        dialog.name.setText(login_as)
        dialog.password.setText(PW)
        dialog.accept()
        settle(win)
        assert win.ctx.account.name == login_as
    return win


def listed(db):
    with db.sessions() as s:
        return [(a.name, a.role, a.departments, a.disabled) for a in accounts.list_accounts(s)]


def table_rows(dialog):
    model = dialog.table.model()
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


def select_account(dialog, name):
    model = dialog.table.model()
    for r in range(model.rowCount()):
        if model.index(r, 0).data() == name:
            dialog.table.selectRow(r)
            return
    raise AssertionError(f"{name} not listed")


def fill_new(form, name, role, departments=(), password=PW, confirm=None):
    form.name.setText(name)
    form.role.setCurrentText(role)
    for i in range(form.departments.count()):
        item = form.departments.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.text() in departments else Qt.CheckState.Unchecked)
    form.password.setText(password)
    form.confirm.setText(password if confirm is None else confirm)


def test_the_first_administrator_is_created_in_the_window_and_logged_in(qtbot, db):
    win = start_window(qtbot, db)
    assert not win.ctx.accounts_on
    dialog = win.manage_accounts()
    assert dialog.isVisible() and table_rows(dialog) == []
    assert "还没有账户" in dialog.intro.text()
    assert not dialog.edit_button.isEnabled() and not dialog.toggle_button.isEnabled()

    form = dialog.add_account()
    assert form.findChild(type(dialog.intro), "accountFirstNote").isVisible()
    assert form.role.currentText() == ADMIN and not form.role.isEnabled()  # the first account is a 管理员
    fill_new(form, "张敏", ADMIN, confirm="not-the-same-1")
    form.accept()
    assert form.isVisible() and "不一致" in form.errors.text() and form.confirm.text() == ""
    assert listed(db) == []  # nothing written
    fill_new(form, "张敏", ADMIN, password="short")
    form.accept()
    assert form.isVisible() and "至少 8" in form.errors.text() and listed(db) == []

    fill_new(form, "张敏", ADMIN)
    form.accept()
    settle(win)
    assert not form.isVisible()
    assert listed(db) == [("张敏", ADMIN, (), False)]
    assert win.ctx.accounts_on and win.ctx.account.name == "张敏"  # whoever created it works as it now
    assert "张敏（管理员）" in win.context_label.text()
    assert [r[:4] for r in table_rows(dialog)] == [["张敏", ADMIN, "—", "启用"]]
    assert "已启用账户登录" in win.statusBar().currentMessage()
    assert accounts.login(db.sessions, "张敏", PW).role == ADMIN


def test_an_administrator_adds_changes_disables_and_resets_accounts(qtbot, db):
    with db.sessions.begin() as s:
        accounts.add_account(s, "王老师", "张敏", PW, ADMIN)
    win = start_window(qtbot, db, login_as="张敏")
    dialog = win.manage_accounts()

    form = dialog.add_account()
    fill_new(form, "填报员丙", CLERK)
    form.accept()
    assert form.isVisible() and "至少一个部门" in form.errors.text() and len(listed(db)) == 1
    form.department_filter.setText("体育")  # the filter narrows the list; checked items stay checked
    shown = [form.departments.item(i).text() for i in range(form.departments.count())
             if not form.departments.item(i).isHidden()]
    assert shown == ["区体育局"]
    fill_new(form, "填报员丙", CLERK, ["区教委", "区体育局"])
    form.accept()
    settle(win)
    assert not form.isVisible()
    assert listed(db)[1] == ("填报员丙", CLERK, ("区教委", "区体育局"), False)
    assert dialog.current().name == "填报员丙"  # the new account is selected

    form = dialog.add_account()
    fill_new(form, "填报员丙", READER)
    form.accept()
    assert "已存在" in form.errors.text() and len(listed(db)) == 2
    form.done(0)

    # role and departments: a 只读 has none, so the list is switched off
    select_account(dialog, "填报员丙")
    form = dialog.edit_account()
    assert form.windowTitle() == "修改账户 · 填报员丙" and form.departments.isEnabled()
    form.role.setCurrentText(READER)
    assert not form.departments.isEnabled()
    form.reason.setText("改为只读")
    form.accept()
    settle(win)
    assert listed(db)[1] == ("填报员丙", READER, (), False)
    with db.sessions() as s:
        entry = s.scalars(select(AuditEvent).where(AuditEvent.action == "account.update")).one()
        assert (entry.actor, entry.reason) == ("张敏", "改为只读")

    # the last 管理员 cannot be demoted: said in the form, nothing written
    select_account(dialog, "张敏")
    form = dialog.edit_account()
    form.role.setCurrentText(READER)
    form.accept()
    assert form.isVisible() and "唯一启用的管理员" in form.errors.text()
    assert listed(db)[0][1] == ADMIN
    form.done(0)

    # disable after a question; enable again without one
    select_account(dialog, "填报员丙")
    assert dialog.toggle_button.text() == "停用"
    box = dialog.toggle_account()
    assert box.objectName() == "accountDisableQuestion"
    box.buttons()[0].click()
    settle(win)
    assert listed(db)[1][3] is True
    assert dialog.current().name == "填报员丙" and dialog.toggle_button.text() == "重新启用"
    assert table_rows(dialog)[1][3] == "已停用"
    with pytest.raises(accounts.LoginFailed, match="已停用"):
        accounts.login(db.sessions, "填报员丙", PW)
    dialog.toggle_account()
    assert listed(db)[1][3] is False

    # the only enabled 管理员 is not disabled: said in the dialog
    select_account(dialog, "张敏")
    dialog.toggle_account().buttons()[0].click()
    assert "唯一启用的管理员" in dialog.errors.text() and listed(db)[0][3] is False

    # a new password for someone else: typed twice, no current password asked
    select_account(dialog, "填报员丙")
    reset = dialog.reset_password()
    assert reset.windowTitle() == "重设密码 · 填报员丙" and reset.current.isHidden()
    reset.new.setText("reset-password-4")
    reset.confirm.setText("reset-password-4")
    reset.accept()
    assert not reset.isVisible()
    assert accounts.login(db.sessions, "填报员丙", "reset-password-4").name == "填报员丙"


def test_only_an_administrator_manages_accounts(qtbot, db, told):
    with db.sessions.begin() as s:
        accounts.add_account(s, "王老师", "张敏", PW, ADMIN)
        accounts.add_account(s, "张敏", "只读丁", PW, READER)
    win = start_window(qtbot, db, login_as="只读丁")
    assert win.manage_accounts() is None
    assert told[-1][0] == "账户管理" and "只有管理员" in told[-1][1]


def test_an_account_changes_its_own_password_after_the_current_one(qtbot, db, told):
    win = start_window(qtbot, db)
    assert win.change_own_password() is None and "无账户" in told[-1][1]  # no accounts: no password
    with db.sessions.begin() as s:
        accounts.add_account(s, "王老师", "张敏", PW, ADMIN)
        accounts.add_account(s, "张敏", "只读丁", PW, READER)
    win = start_window(qtbot, db, login_as="只读丁")
    dialog = win.change_own_password()
    assert dialog.windowTitle() == "修改我的密码" and dialog.current.isVisible()
    dialog.current.setText("wrong-password")
    dialog.new.setText("new-password-2")
    dialog.confirm.setText("new-password-2")
    dialog.accept()
    assert dialog.isVisible() and "当前密码不正确" in dialog.errors.text() and dialog.current.text() == ""
    dialog.current.setText(PW)
    dialog.confirm.setText("new-password-3")
    dialog.accept()
    assert "不一致" in dialog.errors.text()
    assert accounts.login(db.sessions, "只读丁", PW).name == "只读丁"  # unchanged so far
    dialog.confirm.setText("new-password-2")
    dialog.accept()
    settle(win)
    assert not dialog.isVisible() and "密码已修改" in win.statusBar().currentMessage()
    assert accounts.login(db.sessions, "只读丁", "new-password-2").name == "只读丁"


def test_closing_a_half_filled_form_asks_first(qtbot, db):
    win = start_window(qtbot, db)
    form = win.manage_accounts().add_account()
    form.name.setText("张敏")
    form.reject()
    assert form.isVisible() and form.discard_question is not None


@pytest.mark.parametrize("size", [(1024, 700), (1366, 768)])
def test_the_dialogs_fit_the_screen_and_show_every_column(qtbot, db, size):
    with db.sessions.begin() as s:
        accounts.add_account(s, "王老师", "张敏", PW, ADMIN)
        accounts.add_account(s, "张敏", "填报员丙", PW, CLERK, ["区教委", "区人力社保局", "区发展改革委"])
    win = start_window(qtbot, db, login_as="张敏")
    win.resize(*size)
    dialog = win.manage_accounts()
    settle(win)
    assert dialog.width() <= size[0] and dialog.height() <= size[1] - 60
    metrics = dialog.table.fontMetrics()
    model = dialog.table.model()
    for c in (0, 1, 3, 4, 5):  # the contents-sized columns show their whole text
        for r in range(model.rowCount()):
            assert dialog.table.columnWidth(c) >= metrics.horizontalAdvance(model.index(r, c).data()), (c, r)
    for button in (dialog.add_button, dialog.edit_button, dialog.password_button, dialog.toggle_button):
        assert button.width() >= button.sizeHint().width()
    form = dialog.add_account()
    settle(win)
    assert form.width() <= size[0] and form.height() <= size[1] - 60
    assert form.departments.height() >= 5 * form.departments.sizeHintForRow(0)


def test_a_window_working_without_accounts_asks_for_a_login_once_another_creates_the_first(qtbot, db):
    here, there = start_window(qtbot, db), start_window(qtbot, db)
    form = here.manage_accounts().add_account()
    fill_new(form, "张敏", ADMIN)
    form.accept()
    settle(here)
    assert here.ctx.account.name == "张敏" and here.ctx.login_dialog is None  # the creator is not asked
    assert there.ctx.login_dialog is None and not there.ctx.accounts_on
    there.ctx.data_changed.emit()  # what its watcher says when another PC or window has written
    settle(there)
    assert there.ctx.accounts_on and there.ctx.user == ""  # its self-declared name may no longer write
    assert there.ctx.login_dialog is not None and there.ctx.login_dialog.isVisible()


def test_a_window_follows_changes_to_its_own_account_made_elsewhere(qtbot, db):
    with db.sessions.begin() as s:
        accounts.add_account(s, "王老师", "张敏", PW, ADMIN)
        accounts.add_account(s, "张敏", "填报员丙", PW, CLERK, ["区教委"])
    win = start_window(qtbot, db, login_as="填报员丙")
    with db.sessions.begin() as s:  # another PC's 管理员 adds a department
        accounts.update_account(s, "张敏", "填报员丙", departments=["区教委", "区人力社保局"])
    win.ctx.data_changed.emit()  # what the window's watcher says
    settle(win)
    assert win.ctx.account.departments == ("区教委", "区人力社保局")
    assert "区人力社保局" in win.context_label.text()
    with db.sessions.begin() as s:  # … and then disables the account
        accounts.disable_account(s, "张敏", "填报员丙")
    win.ctx.data_changed.emit()
    settle(win)
    assert win.ctx.account is None and win.ctx.user == ""  # nothing more is written in its name
    dialog = win.ctx.login_dialog
    assert dialog.isVisible() and "填报员丙" in dialog.errors.text() and "停用" in dialog.errors.text()
    dialog.name.setText("张敏")
    dialog.password.setText(PW)
    dialog.accept()
    settle(win)
    assert win.ctx.account.name == "张敏" and win.isVisible()

"""The window with accounts: a login dialog before anything can be done, the account as the user of every record,
refusals shown where they were asked, 切换账户…; and no login at all on a database without accounts."""

import pytest
from gui_helpers import open_window, select_target, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from qjgb_desktop.services.accounts import accounts
from qjgb_desktop.services.accounts.access import ADMIN, CLERK, READER

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("cheap_hashes", "no_dialogs_left_open")]
PW = "correct-horse-1"


def make_accounts(db):
    with db.sessions.begin() as s:
        accounts.add_account(s, "王老师", "张敏", PW, ADMIN)
        accounts.add_account(s, "张敏", "只读丁", PW, READER)
        accounts.add_account(s, "张敏", "填报员丙", PW, CLERK, ["区教委"])
        accounts.add_account(s, "张敏", "体育局刘", PW, CLERK, ["区体育局"])


def start_window(qtbot, db):
    return open_window(qtbot, db)


def log_in(qtbot, win, name, password=PW):
    dialog = win.ctx.login_dialog
    dialog.name.setText(name)
    dialog.password.setText(password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # Enter logs in
    settle(win)
    return dialog


def test_no_login_without_accounts(qtbot, db):
    win = start_window(qtbot, db)
    assert win.ctx.login_dialog is None and not win.ctx.accounts_on
    assert win.ctx.user and "未登录" not in win.context_label.text()


def test_the_login_dialog_comes_first_and_a_wrong_password_is_refused(qtbot, db):
    make_accounts(db)
    win = start_window(qtbot, db)
    dialog = win.ctx.login_dialog
    assert dialog is not None and dialog.isVisible() and dialog.parent() is win
    assert dialog.windowModality() == Qt.WindowModality.WindowModal  # the window is not usable meanwhile
    assert win.ctx.user == "" and win.ctx.user_dialog is None  # no self-declared name with accounts
    assert "未登录" in win.context_label.text()
    assert (dialog.login_button.text(), dialog.quit_button.text()) == ("登录", "退出")

    log_in(qtbot, win, "张敏", "wrong-password")
    assert dialog.isVisible() and "账户或密码不正确" in dialog.errors.text()
    assert dialog.name.text() == "张敏" and dialog.password.text() == ""  # the name stays
    assert win.ctx.account is None and win.ctx.user == ""

    log_in(qtbot, win, "张敏")
    assert not dialog.isVisible()
    assert (win.ctx.user, win.ctx.account.role) == ("张敏", ADMIN)
    assert "张敏" in win.context_label.text() and "管理员" in win.context_label.text()
    assert win.ctx.settings.value("login/last") == "张敏"


def test_the_account_is_the_user_of_every_record_and_refusals_show_in_the_form(qtbot, db):
    from qjgb_desktop.store.models import AuditEvent, ProgressReport

    make_accounts(db)
    win = start_window(qtbot, db)
    log_in(qtbot, win, "只读丁")
    select_target(win, 13, 2026)
    form = win.new_report()
    form.percent.setValue(60)
    form.work_done.setPlainText("首次填报")
    form.accept()
    assert form.isVisible() and "只读丁" in form.errors.text() and "无权填报进展" in form.errors.text()
    form.reject()

    dialog = win.switch_account()
    assert dialog.isVisible() and dialog.quit_button.text() == "取消" and dialog.name.text() == ""
    log_in(qtbot, win, "体育局刘")
    assert win.ctx.user == "体育局刘" and "部门填报员：区体育局" in win.context_label.text()
    select_target(win, 3, 2026)  # 区体育局 cooperates: the form starts in its name, not the lead's
    form = win.new_report()
    assert form.department.currentText().startswith("区体育局")
    form.percent.setValue(60)
    form.work_done.setPlainText("首次填报")
    form.accept()
    assert not form.isVisible(), form.errors.text()
    with db.sessions() as s:
        assert s.scalars(select(ProgressReport.created_by)).all() == ["体育局刘"]
        assert s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "report.add")).all() == ["体育局刘"]


def test_a_period_close_refused_for_the_role_is_told_and_writes_nothing(qtbot, db, monkeypatch):
    from qjgb_desktop.services.progress.reports import closed_periods
    from qjgb_desktop.ui.window import entry_actions as main_window

    make_accounts(db)
    win = start_window(qtbot, db)
    log_in(qtbot, win, "填报员丙")
    monkeypatch.setattr(main_window.QInputDialog, "getText", staticmethod(lambda *a, **k: ("2026Q2", True)))
    told = []
    monkeypatch.setattr(main_window.QMessageBox, "warning", staticmethod(lambda _p, title, text: told.append(text)))
    win.close_period()
    assert told and "填报员丙" in told[0] and "无权关闭填报周期" in told[0]
    with db.sessions() as s:
        assert not closed_periods(s)


def test_settings_show_the_account_and_do_not_rename_it(qtbot, db):
    make_accounts(db)
    win = start_window(qtbot, db)
    log_in(qtbot, win, "张敏")
    dialog = win.edit_settings()
    assert dialog.user.isReadOnly() and dialog.user.text() == "张敏"
    dialog.green.setValue(12)
    dialog.accept()
    assert not dialog.isVisible(), dialog.errors.text()
    assert win.ctx.user == "张敏"
    win.ctx.set_user("冒名")  # a self-declared name never replaces the login
    assert win.ctx.user == "张敏"


def test_the_password_is_checked_in_the_background_and_the_button_says_so(qtbot, db, monkeypatch):
    import threading

    make_accounts(db)
    win = start_window(qtbot, db)
    dialog = win.ctx.login_dialog
    release, ui_thread, seen = threading.Event(), threading.current_thread(), []
    real_login = accounts.login

    def slow_login(sessions, name, password):  # a slow office PC: the window keeps responding meanwhile
        seen.append(threading.current_thread() is not ui_thread)
        release.wait(10)
        return real_login(sessions, name, password)
    monkeypatch.setattr(accounts, "login", slow_login)
    dialog.name.setText("张敏")
    dialog.password.setText(PW)
    dialog.accept()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [True]  # not on the window's thread
    assert not dialog.login_button.isEnabled() and dialog.login_button.text() == "正在登录…"
    assert dialog.password.isReadOnly() and win.ctx.account is None
    dialog.accept()  # Enter again while checking: ignored
    release.set()
    settle(win)
    assert seen == [True] and win.ctx.account.name == "张敏" and not dialog.isVisible()
    assert dialog.login_button.isEnabled() and dialog.login_button.text() == "登录"


def test_quitting_the_login_closes_the_window(qtbot, db):
    make_accounts(db)
    win = start_window(qtbot, db)
    win.ctx.login_dialog.quit_button.click()
    assert not win.isVisible() and win.ctx.account is None


def test_switch_account_without_accounts_says_how_to_start(qtbot, db, monkeypatch):
    told = []
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda _p, _t, text: told.append(text)))
    win = start_window(qtbot, db)
    assert win.switch_account() is None and "文件 → 账户管理…" in told[0]


def test_a_disabled_account_cannot_log_in(qtbot, db):
    make_accounts(db)
    with db.sessions.begin() as s:
        accounts.disable_account(s, "张敏", "只读丁")
    win = start_window(qtbot, db)
    dialog = log_in(qtbot, win, "只读丁")
    assert dialog.isVisible() and "已停用" in dialog.errors.text() and win.ctx.account is None


def test_the_last_name_is_offered_at_the_next_start(qtbot, db):
    make_accounts(db)
    first = start_window(qtbot, db)
    log_in(qtbot, first, "张敏")
    second = start_window(qtbot, db)
    dialog = second.ctx.login_dialog
    assert dialog.name.text() == "张敏" and dialog.password.text() == ""

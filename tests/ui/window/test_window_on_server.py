"""The window in server mode: it opens on a PostgreSQL database and refreshes when another PC commits
(LISTEN/NOTIFY), keeping the clerk's selection."""

from datetime import date

import pytest
from conftest import GUI_TODAY
from gui_helpers import open_window, select_target, settle

from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.store.models import YearlyTarget

pytestmark = pytest.mark.gui


@pytest.fixture
def server_window(qtbot, data_dir, server_url):
    from qjgb_desktop.services.safety.database import open_database

    win = open_window(qtbot, open_database(server_url), "王老师")
    yield win
    settle(win)
    win.ctx.close()


def other_pc_reports(url, measure, percent, done):
    """Another PC: its own program instance, its own connections."""
    from qjgb_desktop.services.safety.database import open_database

    other = open_database(url)
    try:
        with other.sessions.begin() as s:
            tid = svc.target_id_for(s, measure, 2026)
            lead = svc.measure_departments(s, s.get(YearlyTarget, tid).measure_id)[0]
            return svc.add_report(s, tid, ReportInput("2026Q3", date(2026, 7, 1), lead, "李强", "正常推进", percent,
                                                      done=done), "李强", GUI_TODAY)
    finally:
        other.close()


def test_the_window_refreshes_when_another_pc_commits(server_window, server_url, qtbot):
    win = server_window
    assert win.ctx.db.sessions.server and type(win.ctx.watcher).__name__ == "ServerChangeWatcher"
    select_target(win, 3, 2026)
    other_pc_reports(server_url, 3, 50, "第一份")
    qtbot.waitUntil(lambda: win.reports.model.rowCount() == 1, timeout=5000)  # pushed, not polled
    settle(win)
    win.reports.table.selectRow(0)
    other_pc_reports(server_url, 3, 55, "第二份")
    qtbot.waitUntil(lambda: win.reports.model.rowCount() == 2, timeout=5000)
    settle(win)
    assert win.reports.selected_report().done == "第一份"  # the selection stayed
    tid = win.current_node().id
    assert win.model.status().targets[tid].percent in (50, 55)


def test_a_write_in_the_window_reaches_the_server(server_window, server_url):
    win = server_window
    select_target(win, 4, 2026)
    target = win.current_node()
    win.ctx.write(lambda s: svc.add_report(s, target.id, ReportInput(
        "2026Q3", date(2026, 7, 1), target.measure.lead, "甲", "正常推进", 40, done="本窗口"), "王老师", GUI_TODAY))
    settle(win)
    from qjgb_desktop.services.safety.database import open_database

    other = open_database(server_url)
    try:
        with other.sessions() as s:
            assert [r.done for r in svc.list_reports(s, measure_no=4)] == ["本窗口"]
    finally:
        other.close()


def test_evidence_on_the_server_shows_its_thumbnail_and_saves_a_copy(server_window, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage

    from qjgb_desktop.services.evidence import records as ev
    from qjgb_desktop.ui.evidence import evidence_panel

    win = server_window
    image = QImage(120, 80, QImage.Format.Format_RGB32)
    image.fill(QColor("#0072B2"))
    photo = tmp_path / "现场照片.png"
    image.save(str(photo))
    select_target(win, 4, 2026)
    node = win.current_node()
    win.ctx.write(lambda s: ev.attach(s, node.id, [photo], "王老师"))
    settle(win)
    assert not (tmp_path / "data" / "evidence").exists()  # the content went to the server, not to this PC
    panel = win.evidence
    [item] = panel.model.items()
    settle(win)
    thumb = panel.model.index(0, 0).data(Qt.ItemDataRole.DecorationRole)
    assert thumb is not None and not thumb.isNull() and thumb.width() <= 48  # decoded from the server's chunks
    out = tmp_path / "另存.png"
    monkeypatch.setattr(evidence_panel, "save_file_name", lambda *a, **k: str(out))
    assert panel.save_copy(item) == out and out.read_bytes() == photo.read_bytes()


def test_each_person_logs_in_to_the_server_with_their_own_account(qtbot, data_dir, server_url, monkeypatch):
    """A PC's config names only the server: the login dialog's account and password are the connection's login, a
    wrong one is refused (and the next try waits), and a password the 管理员 set must be changed first."""
    from PySide6.QtWidgets import QLabel
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from qjgb_desktop.services.accounts import accounts
    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.ui.accounts.login_dialog import ServerLoginDialog

    dba = open_database(server_url)
    with dba.sessions.begin() as s:
        accounts.add_account(s, "DBA", "管理员甲", "admin-pass-1", "管理员")
        accounts.add_account(s, "DBA", "张敏", "clerk-pass-1", "部门填报员", ["区体育局"])
    with dba.sessions.begin() as s:
        accounts.change_password(s, "DBA", "张敏", "set-by-admin-2")
    dba.close()
    pc_url = make_url(server_url)._replace(username=None, password=None).render_as_string(hide_password=False)

    dialog = ServerLoginDialog(pc_url)
    qtbot.addWidget(dialog)
    assert "qjgb_dba" not in dialog.findChild(type(dialog.errors), "loginIntro").text()
    dialog.name.setText("张敏")
    dialog.password.setText("not-it-at-all")
    dialog.accept()
    assert dialog.db is None and "账户或密码不正确" in dialog.errors.text() and "秒后再试" in dialog.errors.text()
    assert not dialog.login_button.isEnabled()
    assert "张敏\twrong" in (data_dir / "logs" / "login-failures.log").read_text(encoding="utf-8")
    dialog.password.setText("set-by-admin-2")
    dialog.accept()
    assert dialog.db is not None and dialog.result() == dialog.DialogCode.Accepted

    win = open_window(qtbot, dialog.db, "")
    try:
        qtbot.waitUntil(lambda: win.ctx.account is not None, timeout=5000)
        assert win.ctx.account.name == "张敏" and win.ctx.user == "张敏"
        change = win.ctx.password_dialog
        qtbot.waitUntil(change.isVisible, timeout=5000)
        change.current.setText("set-by-admin-2")
        change.new.setText("only-mine-345")
        change.confirm.setText("only-mine-345")
        change.accept()
        assert not change.isVisible()
        from qjgb_desktop.services.accounts.server import must_change_password

        with win.ctx.db.sessions() as s:
            assert not must_change_password(s, "张敏")

        # 文件 → 切换账户…: another login, another connection; the window follows it
        from qjgb_desktop.ui.accounts.accounts_dialog import switch_account

        before = win.ctx.db
        switching = switch_account(win)
        assert switching.windowTitle() == "切换账户" and switching.quit_button.text() == "取消"
        switching.name.setText("管理员甲")
        switching.password.setText("admin-pass-1")
        switching.accept()
        qtbot.waitUntil(lambda: win.ctx.account is not None and win.ctx.account.name == "管理员甲", timeout=5000)
        assert win.ctx.db is switching.db and win.ctx.db is not before and win.ctx.user == "管理员甲"
        with win.ctx.db.sessions() as s:
            assert s.scalar(text("SELECT session_user")) == "管理员甲"
        assert "管理员甲（管理员）" in win.statusBar().currentMessage() + " ".join(
            w.text() for w in win.statusBar().findChildren(QLabel))
    finally:
        settle(win)
        win.ctx.close()
        win.ctx.db.close()

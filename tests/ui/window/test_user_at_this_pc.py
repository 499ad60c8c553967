"""Who works at this PC: asked at the first start (never offscreen, never when known), then named in every record;
and file dialogs that start where the user was last time for the same purpose, else in Documents."""

from pathlib import Path

import pytest
from gui_helpers import open_window, select_target, settle
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QInputDialog
from sqlalchemy import select

from qjgb_desktop.ui.window import context as context_module

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def no_dialogs_left_open():
    yield
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QDialog) and w.isVisible():
            QDialog.reject(w)


def start_window(qtbot, db, interactive=True, monkeypatch=None):
    if interactive:
        monkeypatch.setattr(context_module, "interactive", lambda: True)
    return open_window(qtbot, db)


def test_first_start_asks_the_name_and_every_record_names_that_person(qtbot, db, monkeypatch, tmp_path):
    from qjgb_desktop.store.models import AuditEvent, Evidence, ProgressReport

    monkeypatch.delenv("QJGB_USER", raising=False)
    win = start_window(qtbot, db, monkeypatch=monkeypatch)
    dialog = win.ctx.user_dialog
    assert dialog is not None and dialog.isVisible() and dialog.parent() is win
    assert dialog.user.text() == ""  # not the login name offered as if it were a person's
    assert dialog.department.findText("区教委") >= 0
    dialog.accept()  # no name: refused, said so
    assert dialog.isVisible() and "姓名" in dialog.errors.text()
    dialog.user.setText("张敏")
    dialog.department.setCurrentText("区教委")
    dialog.accept()
    assert not dialog.isVisible()
    assert (win.ctx.user, win.ctx.department) == ("张敏", "区教委")
    assert win.ctx.settings.value("user/name") == "张敏"

    select_target(win, 13, 2026)
    form = win.new_report()
    assert form.reporter.text() == "张敏"
    form.percent.setValue(60)
    form.work_done.setPlainText("首次填报")
    form.accept()
    assert not form.isVisible(), form.errors.text()
    scan = tmp_path / "批复.pdf"
    scan.write_bytes(b"%PDF-1.4 approval" * 50)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(scan)], "")))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("", True)))
    win.evidence.add_button.click()
    settle(win)
    with db.sessions() as s:
        assert s.scalars(select(ProgressReport.created_by)).all() == ["张敏"]
        assert s.scalars(select(ProgressReport.reporter)).all() == ["张敏"]
        assert s.scalars(select(Evidence.created_by)).all() == ["张敏"]
        actors = set(s.scalars(select(AuditEvent.actor).where(AuditEvent.action.notlike("plan%"))).all())
    assert actors == {"张敏"}


def test_the_name_is_asked_once_and_not_again_at_the_next_start(qtbot, db, monkeypatch):
    monkeypatch.delenv("QJGB_USER", raising=False)
    first = start_window(qtbot, db, monkeypatch=monkeypatch)
    first.ctx.user_dialog.user.setText("张敏")
    first.ctx.user_dialog.accept()
    second = start_window(qtbot, db, monkeypatch=monkeypatch)
    assert second.ctx.user == "张敏" and second.ctx.user_dialog is None


def test_not_asked_when_the_administrator_set_qjgb_user(qtbot, db, monkeypatch):
    monkeypatch.setenv("QJGB_USER", "李老师")
    win = start_window(qtbot, db, monkeypatch=monkeypatch)
    assert win.ctx.user == "李老师" and win.ctx.user_dialog is None


def test_never_asked_offscreen_so_tests_and_screenshots_do_not_block(qtbot, db, monkeypatch):
    monkeypatch.delenv("QJGB_USER", raising=False)
    assert not context_module.interactive()  # the offscreen platform
    win = start_window(qtbot, db, interactive=False)
    assert win.ctx.user_dialog is None and not win.ctx.user_known


def test_settings_change_name_and_department(window):
    dialog = window.edit_settings()
    dialog.user.setText("赵老师")
    dialog.department.setCurrentText("区教委")
    dialog.accept()
    assert not dialog.isVisible(), dialog.errors.text()
    assert (window.ctx.user, window.ctx.department) == ("赵老师", "区教委")
    assert window.ctx.settings.value("user/department") == "区教委"


def test_settings_refuse_an_out_of_range_threshold_visibly(qtbot, window):
    from PySide6.QtCore import Qt

    dialog = window.edit_settings()
    dialog.green.setFocus()
    dialog.green.selectAll()
    qtbot.keyClicks(dialog.green, "150")
    assert dialog.green.value() == 15 and dialog.numbers[0].note.isVisible()
    dialog.accept()
    assert dialog.isVisible() and "150" in dialog.errors.text()
    qtbot.keyClick(dialog.green, Qt.Key.Key_Escape)
    assert dialog.isVisible() and dialog.discard_question is not None  # changed: asks before discarding


# -- file dialogs ----------------------------------------------------------------------------------------------

@pytest.fixture
def ini(tmp_path):
    return QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)


def fake_dialog(monkeypatch, kind, answer):
    calls = []

    def dialog(parent, caption, start="", *rest, **kw):
        calls.append(start)
        return answer() if callable(answer) else answer
    monkeypatch.setattr(QFileDialog, kind, staticmethod(dialog))
    return calls


def test_a_file_dialog_starts_in_documents_then_where_it_was_last_used(qapp, ini, tmp_path, monkeypatch):
    from qjgb_desktop.ui.widgets import file_dialogs as fd

    exports = tmp_path / "给领导"
    exports.mkdir()
    calls = fake_dialog(monkeypatch, "getSaveFileName", (str(exports / "进展.xlsx"), ""))
    assert fd.save_file_name(None, "excel-export", "导出", "进展.xlsx", settings=ini) == str(exports / "进展.xlsx")
    assert Path(calls[0]) == fd.documents_folder() / "进展.xlsx"
    fd.save_file_name(None, "excel-export", "导出", "进展-2.xlsx", settings=ini)
    assert Path(calls[1]) == exports / "进展-2.xlsx"  # remembered for this purpose …
    opened = fake_dialog(monkeypatch, "getOpenFileNames", ([], ""))
    assert fd.open_file_names(None, "evidence-add", "添加", settings=ini) == []
    assert Path(opened[0]) == fd.documents_folder()  # … not for another, and a cancel remembers nothing
    assert ini.value("dialogs/evidence-add") is None

    folders = fake_dialog(monkeypatch, "getExistingDirectory", str(exports))
    fd.existing_folder(None, "templates", "选择文件夹", settings=ini)
    fd.existing_folder(None, "templates", "选择文件夹", settings=ini)
    assert [Path(f) for f in folders] == [fd.documents_folder(), exports]
    exports.rmdir()  # a remembered folder that is gone: Documents again
    assert fd.start_folder("templates", settings=ini) == fd.documents_folder()


def test_the_windows_dialogs_remember_their_folder_in_ui_ini(window, tmp_path, monkeypatch):
    scans = tmp_path / "扫描件"
    scans.mkdir()
    scan = scans / "批复.pdf"
    scan.write_bytes(b"%PDF-1.4" * 50)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("", True)))
    calls = fake_dialog(monkeypatch, "getOpenFileNames", ([str(scan)], ""))
    select_target(window, 13, 2026)
    window.evidence.add_button.click()
    settle(window)
    window.evidence.add_button.click()
    settle(window)
    assert Path(calls[1]) == scans
    window.ctx.settings.sync()
    stored = QSettings(str(window.ctx.settings.fileName()), QSettings.Format.IniFormat)
    assert Path(stored.value("dialogs/evidence-add")) == scans
    assert Path(window.ctx.settings.fileName()).name == "ui.ini"

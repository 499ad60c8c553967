"""Opening evidence in the window: documents open, programs are only shown in their folder after a warning."""

from pathlib import Path

import pytest
from gui_helpers import select_target, settle
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QInputDialog, QMessageBox, QPushButton

from qjgb_desktop.services.evidence.opening import BLOCKED_SUFFIX

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(window, tmp_path, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("", True)))
    program = tmp_path / "安装程序.exe"
    program.write_bytes(b"MZ\x90\x00" + b"\0" * 500)
    scan = tmp_path / "纪要.pdf"
    scan.write_bytes(b"%PDF-1.4 minutes" * 50)
    select_target(window, 13, 2026)
    window.evidence.attach_files([program, scan], window.evidence.target())
    settle(window)
    return window.evidence


@pytest.fixture
def opened(monkeypatch):
    seen = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: seen.append(Path(url.toLocalFile()))))
    return seen


def answer_warning(monkeypatch, show: bool):
    warnings = []

    def fake_exec(box):
        warnings.append(box.text() + box.informativeText())
        if show:
            box.findChild(QPushButton, "showInFolderButton").click()
        return 0
    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    return warnings


def select(panel, name):
    row = next(r for r, e in enumerate(panel.model.items()) if e.original_name == name)
    panel.table.selectRow(row)


def test_a_document_opens_directly(panel, opened, monkeypatch):
    warnings = answer_warning(monkeypatch, show=True)
    select(panel, "纪要.pdf")
    panel.open_button.click()
    assert warnings == []
    assert [p.name for p in opened] == ["纪要.pdf"]


def test_a_program_is_only_shown_in_its_folder_after_a_warning(panel, opened, monkeypatch):
    warnings = answer_warning(monkeypatch, show=True)
    select(panel, "安装程序.exe")
    panel.open_button.click()
    assert len(warnings) == 1 and "安装程序.exe" in warnings[0] and "运行" in warnings[0]
    (folder,) = opened
    assert folder.is_dir()  # the folder is handed to the system, never the file
    assert [p.name for p in folder.iterdir()] == ["安装程序.exe" + BLOCKED_SUFFIX]
    opened.clear()
    panel.table.doubleClicked.emit(panel.table.currentIndex())  # a double-click goes the same way
    assert len(warnings) == 2 and opened == [folder]


def test_cancelling_the_warning_opens_nothing(panel, opened, monkeypatch):
    warnings = answer_warning(monkeypatch, show=False)
    select(panel, "安装程序.exe")
    panel.open_button.click()
    assert len(warnings) == 1 and opened == []


def test_show_in_folder_never_exposes_a_runnable_name(panel, opened, monkeypatch):
    answer_warning(monkeypatch, show=False)
    select(panel, "安装程序.exe")
    panel.folder_button.click()
    (folder,) = opened
    assert all(p.name.endswith(BLOCKED_SUFFIX) for p in folder.iterdir())

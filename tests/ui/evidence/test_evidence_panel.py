"""Evidence in the window: drag and drop onto the tree, add, cancel, open, remove; counts in the columns."""

from pathlib import Path

import pytest
from gui_helpers import select_target, settle, target_index
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from qjgb_desktop.qtmodels.plan_tree import COL_EVIDENCE

pytestmark = pytest.mark.gui


@pytest.fixture
def photos(tmp_path):
    made = []
    from PySide6.QtGui import QColor, QImage

    for i, name in enumerate(("现场照片一.png", "现场照片二.png")):
        image = QImage(320, 200, QImage.Format.Format_RGB32)
        image.fill(QColor(40 * i, 120, 200))
        path = tmp_path / name
        image.save(str(path))
        made.append(path)
    scan = tmp_path / "批复扫描件.pdf"
    scan.write_bytes(b"%PDF-1.4 approval" * 400)
    made.append(scan)
    return made


def drop_on(view, index, files: list[Path]):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    pos = QPointF(view.visualRect(index).center())
    for cls in (QDragEnterEvent, QDragMoveEvent):
        event = cls(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view.viewport(), event)
        assert event.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)
    return drop


def no_note(monkeypatch, note=""):
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: (note, True)))


def test_dropping_files_on_a_target_attaches_them(window, photos, monkeypatch):
    no_note(monkeypatch, "现场检查")
    index = target_index(window, 4, 2026)
    drop = drop_on(window.tree_view, index, photos)
    assert drop.isAccepted()
    settle(window)
    panel = window.evidence
    assert sorted(e.original_name for e in panel.model.items()) == sorted(p.name for p in photos)
    assert all(e.description == "现场检查" and e.year == 2026 and e.measure_no == 4 for e in panel.model.items())
    assert window.bottom_tabs.tabText(1) == "佐证材料（3）"
    assert target_index(window, 4, 2026).siblingAtColumn(COL_EVIDENCE).data() == "3"
    measure = window.proxy.mapFromSource(window.model.measure_index(4))
    assert measure.siblingAtColumn(COL_EVIDENCE).data() == "3"
    settle(window)  # thumbnails are decoded in the background
    png = next(r for r, e in enumerate(panel.model.items()) if e.original_name.endswith(".png"))
    thumb = panel.model.index(png, 0).data(Qt.ItemDataRole.DecorationRole)
    assert thumb.width() <= 48 and thumb.height() <= 48 and not thumb.isNull()


def test_actions_do_not_take_files(window, photos):
    action = window.proxy.index(0, 0)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photos[0]))])
    event = QDragMoveEvent(window.tree_view.visualRect(action).center(), Qt.DropAction.CopyAction, mime,
                           Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.tree_view.viewport(), event)
    assert not event.isAccepted()


def test_add_button_open_and_remove(window, photos, monkeypatch, tmp_path):
    no_note(monkeypatch)
    select_target(window, 13, 2026)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(photos[2])], "")))
    window.evidence.add_button.click()
    settle(window)
    panel = window.evidence
    assert [e.original_name for e in panel.model.items()] == ["批复扫描件.pdf"]
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toLocalFile())))
    panel.table.selectRow(0)
    panel.open_button.click()
    assert Path(opened[0]).name == "批复扫描件.pdf"
    assert Path(opened[0]).read_bytes() == photos[2].read_bytes()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "副本.pdf"), "")))
    panel.save_button.click()
    assert (tmp_path / "副本.pdf").read_bytes() == photos[2].read_bytes()
    no_note(monkeypatch, "放错了目标")
    panel.remove_button.click()
    settle(window)
    assert panel.model.rowCount() == 0
    assert target_index(window, 13, 2026).siblingAtColumn(COL_EVIDENCE).data() == ""


def test_a_missing_file_is_refused_and_nothing_is_added(window, photos, monkeypatch, tmp_path):
    no_note(monkeypatch)
    warnings = []
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: warnings.append(a[2])))
    select_target(window, 13, 2026)
    window.evidence.attach_files([photos[0], tmp_path / "已删除.jpg"], window.evidence.target())
    settle(window)
    assert "已删除.jpg" in warnings[0] and "未添加任何文件" in warnings[0]
    assert window.evidence.model.rowCount() == 0


def test_cancel_adds_nothing(window, photos, monkeypatch):
    no_note(monkeypatch)
    select_target(window, 13, 2026)
    import qjgb_desktop.ui.evidence.evidence_panel as panel_module

    real = panel_module.threading.Event

    class CancelledAtOnce(real):
        def is_set(self):
            return True
    monkeypatch.setattr(panel_module.threading, "Event", CancelledAtOnce)
    window.evidence.attach_files(photos, window.evidence.target())
    settle(window)
    assert window.evidence.model.rowCount() == 0
    assert "已取消" in window.statusBar().currentMessage()


def test_dropping_files_on_a_report_links_them_to_it(window, photos, monkeypatch):
    no_note(monkeypatch)
    select_target(window, 13, 2026)
    from qjgb_desktop.domain.validation import ReportInput
    from qjgb_desktop.services.progress.reports import add_report

    report = window.ctx.write(lambda s: add_report(
        s, window.current_node().id, ReportInput("2026Q3", window.ctx.today(), "区教委", "王老师", "正常推进", 50),
        "王老师", window.ctx.today()))
    settle(window)
    table = window.reports.table
    drop = drop_on(table, window.reports.model.index(0, 1), [photos[2]])
    assert drop.isAccepted()
    settle(window)
    assert [(e.original_name, e.report_id) for e in window.evidence.model.items()] == [("批复扫描件.pdf", report.id)]

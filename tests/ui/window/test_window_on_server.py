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

"""Word documents from the window: the progress report and the 督办 notices, with the 交办 recorded."""

from datetime import date

import pytest
from docx import Document
from gui_helpers import settle

from qjgb_desktop.services.supervision import items as supervision
from qjgb_desktop.ui.documents import document_dialogs

pytestmark = pytest.mark.gui


def test_the_report_is_written_in_the_background_and_offered_to_open(qtbot, window, tmp_path):
    out = tmp_path / "报告"
    document_dialogs.generate_report(window, {"period": "2026Q3"}, str(out))
    settle(window)
    path = tmp_path / "报告.docx"
    assert path.exists()
    text = "\n".join(p.text for p in Document(path).paragraphs)
    assert "2026年第三季度推进情况的报告" in text.replace("\n", "")
    box = window.last_document
    assert box.isVisible() and str(path) in box.text()
    box.reject()


def test_notices_for_all_departments_record_the_sending(qtbot, window, db, tmp_path):
    snap = window.model.status()
    from qjgb_desktop.services.progress.status_core import follow_ups

    groups = follow_ups(snap)
    document_dialogs.generate_notices(window, None, str(tmp_path), register=True)
    settle(window)
    files = sorted(tmp_path.glob("督办通知单-*.docx"))
    assert len(files) == len(groups)
    with db.sessions() as s:
        items = supervision.list_items(s, date(2026, 7, 2))
    assert len(items) == sum(len(v) for v in groups.values())  # one item per lagging target, each sent
    assert all(i.stage == "交办" and i.steps[-1].notice_file.startswith(f"督办通知单-{i.department}-")
               for i in items)
    assert all(i.feedback_due == date(2026, 7, 9) for i in items)
    with db.sessions() as s:  # each notice numbered in the 发文登记, and its items' 交办 name the number
        numbers = {n.department: n.number for n in supervision.list_notices(s)}
    assert sorted(numbers.values()) == sorted(f"督办〔2026〕{i}号" for i in range(1, len(groups) + 1))
    assert all(i.steps[-1].notice_no == numbers[i.department] for i in items)
    assert all(n in window.last_document.text() for n in numbers.values())
    window.last_document.reject()
    register = window.items.show_notice_register()  # 督办 tab → 发文登记…
    rows = [[register.model.item(r, c).text() for c in range(3)] for r in range(register.model.rowCount())]
    assert register.year.currentData() == 2026 and [r[0] for r in rows] == sorted(numbers.values())
    assert all(row[1:] == ["2026-07-02", d] for d in numbers for row in rows if row[0] == numbers[d])
    register.year.setCurrentIndex(register.year.findData(None))
    assert register.model.rowCount() == len(numbers) and register.summary.text() == f"共 {len(numbers)} 份"
    register.reject()
    # Again: nothing is opened or sent twice.
    document_dialogs.generate_notices(window, None, str(tmp_path), register=True)
    settle(window)
    with db.sessions() as s:
        again = supervision.list_items(s, date(2026, 7, 2))
    assert len(again) == len(items) and all(len(i.steps) == 2 for i in again)
    window.last_document.reject()


def test_the_menu_has_both_documents(window):
    from PySide6.QtGui import QAction

    texts = [a.text() for a in window.findChildren(QAction)]
    assert "生成进展报告（Word）…" in texts and "生成督办通知单（Word）…" in texts


def test_the_choices_offered(window):
    dialog = document_dialogs.ReportScopeDialog(window)
    codes = [dialog.period.itemData(i) for i in range(dialog.period.count())]
    assert codes[0] == "2025Q1" and codes[-1] == "2026Q3"  # nothing that has not begun on 2026-07-02
    assert dialog.scope() == {"period": "2026Q3"} and not dialog.year.isEnabled()
    dialog.by_year.setChecked(True)
    assert dialog.scope() == {"year": 2026} and dialog.year.isEnabled() and not dialog.period.isEnabled()
    notices = document_dialogs.NoticeDialog(window)
    entries = [notices.department.itemText(i) for i in range(notices.department.count())]
    assert entries[0].startswith("全部（") and any(e.startswith("区教委（") for e in entries[1:])
    assert notices.register.isChecked()

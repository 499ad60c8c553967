"""Excel from the window: export, and importing returns through the preview (untick = send back)."""

import pytest
from excel_helpers import fill, row_of
from gui_helpers import settle
from openpyxl import load_workbook

from qjgb_desktop.services.progress import reports as svc

pytestmark = pytest.mark.gui


def test_export_from_the_window(window, tmp_path):
    from qjgb_desktop.ui.collection.excel_dialogs import export_excel

    export_excel(window, str(tmp_path / "导出"))
    settle(window)
    wb = load_workbook(tmp_path / "导出.xlsx")
    assert wb.sheetnames[0] == "年度目标进度安排表"


def test_import_preview_untick_sends_back_and_commits_the_rest(window, tmp_path):
    from qjgb_desktop.services.collection.templates import write_template
    from qjgb_desktop.ui.collection.excel_dialogs import import_returns

    tpl = tmp_path / "jw.xlsx"
    with window.ctx.db.sessions() as s:
        write_template(s, "区教委", "2026Q3", tpl)
    r13, r3, r4 = row_of(tpl, 13), row_of(tpl, 3), row_of(tpl, 4)
    filled = fill(tpl, tmp_path / "回.xlsx", rows={
        r13: ["正常推进", 50, "进行中", "", "", "李"], r3: ["正常推进", 55, "体测", "", "", "王"],
        r4: ["正常推进", 999, "", "", "", "王"]})
    import_returns(window, [str(filled)])
    settle(window)
    dialog = window.import_dialog
    head = dialog.model.item(0, 0)
    rows = {head.child(i, 1).text(): head.child(i, 0) for i in range(head.rowCount())}
    assert head.child([head.child(i, 1).text() for i in range(head.rowCount())].index("措施4·2026年"), 2).text() == "错误"
    from PySide6.QtCore import Qt

    rows["措施3·2026年"].setCheckState(Qt.CheckState.Unchecked)  # the reviewer sends this one back
    returned = dialog.make_returns(str(tmp_path / "退回"))
    sheet = load_workbook(returned[0])["退回"]
    assert sorted(r[2] for r in sheet.iter_rows(min_row=3, values_only=True)) == ["措施3·2026年", "措施4·2026年"]
    dialog.commit()
    settle(window)
    with window.ctx.db.sessions() as s:
        reports = svc.list_reports(s)
    assert [(r.measure_no, r.percent) for r in reports] == [(13, 50)]
    dialog.close()


def test_import_preview_shows_changes_whole_problems_and_filters_errors(window, tmp_path):
    from PySide6.QtCore import Qt

    from qjgb_desktop.services.collection.templates import write_template
    from qjgb_desktop.ui.collection.excel_dialogs import import_returns

    tpl = tmp_path / "jw.xlsx"
    with window.ctx.db.sessions() as s:
        write_template(s, "区教委", "2026Q3", tpl)
    r13, r4 = row_of(tpl, 13), row_of(tpl, 4)
    long_cause = "场地改造延期，" * 30
    filled = fill(tpl, tmp_path / "回.xlsx", rows={r13: ["正常推进", 50, "招聘完成一半", "", "", "李"],
                                                    r4: ["滞后", 999, "", long_cause, "", "王"]})
    import_returns(window, [str(filled)])
    settle(window)
    dialog = window.import_dialog
    view, proxy = dialog.view, dialog.proxy
    head = proxy.index(0, 0)
    shown = {proxy.index(i, 1, head).data(): i for i in range(proxy.rowCount(head))}
    assert "措施13·2026年" in shown and "措施4·2026年" in shown
    assert proxy.rowCount(head) == 2  # 未填 rows are hidden by default
    assert "完成度：空 → 50%" in proxy.index(shown["措施13·2026年"], 3, head).data()
    view.setCurrentIndex(proxy.index(shown["措施13·2026年"], 0, head))
    html = dialog.detail.toPlainText()
    assert "招聘完成一半" in html and "新增" in html
    view.setCurrentIndex(proxy.index(shown["措施4·2026年"], 0, head))
    assert "0–100" in dialog.detail.toPlainText()  # the whole problem text is readable
    dialog.filter.setCurrentIndex(dialog.filter.findData("errors"))
    assert [proxy.index(i, 2, head).data() for i in range(proxy.rowCount(head))] == ["错误"]
    dialog.filter.setCurrentIndex(dialog.filter.findData("all"))
    assert proxy.rowCount(head) > 10
    assert "新增 1" in proxy.index(0, 3).data() and "错误 1" in proxy.index(0, 3).data()
    assert proxy.index(0, 1).data() == "区教委 2026Q3"
    assert dialog.model.item(0, 0).child(0, 0).flags() & Qt.ItemFlag.ItemIsEnabled
    dialog.close()

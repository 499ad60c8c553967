"""Reporting progress in the window, as a clerk does: select, Ctrl+N, type, Enter; lights update in place."""

import pytest
from gui_helpers import select_target, settle, target_index
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from qjgb_desktop.qtmodels.plan_tree import COL_LAST, COL_PERCENT, COL_STATE, StateRole
from qjgb_desktop.services.plan.query import TargetNode

pytestmark = pytest.mark.gui


def open_form(qtbot, win):
    qtbot.keyClick(win.tree_view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    return _form_of(win)


def _form_of(win):
    """This window's open report form (a form a previous test left asking whether to discard is not this one)."""
    return next(w for w in QApplication.topLevelWidgets()
                if w.objectName() == "reportForm" and w.isVisible() and w.parent() is win)


def test_status_columns_show_after_start(window):
    index = target_index(window, 13, 2026)
    assert index.data(StateRole) == "未填报"
    assert index.siblingAtColumn(COL_STATE).data() == "未填报"
    assert index.siblingAtColumn(COL_PERCENT).data() == "0%"
    past = target_index(window, 13, 2025)
    assert past.data(StateRole) == "逾期"
    assert target_index(window, 13, 2027).data(StateRole) == "未开始"
    assert window.tabs.tabText(1).startswith("督办（")


def test_ctrl_n_opens_the_form_with_sensible_defaults(qtbot, window):
    select_target(window, 13, 2026)
    form = open_form(qtbot, window)
    assert form.period.currentText() == "2026Q3"
    assert form.report_date.date().toString("yyyy-MM-dd") == "2026-07-02"
    assert form.department.currentData() == "区教委"
    assert form.reporter.text() == "王老师"
    assert form.indicators.rowCount() == 7  # measure 13's indicators, to enter actuals
    form.reject()


def test_a_refused_save_keeps_what_was_typed_then_saving_updates_the_row_in_place(qtbot, window):
    index = select_target(window, 13, 2026)
    form = open_form(qtbot, window)
    form.percent.setValue(30)  # 20 points behind on 2 July: 关注, so a cause is asked for
    form.work_done.setPlainText("完成春季招聘")
    qtbot.keyClick(form.reporter, Qt.Key.Key_Return)  # Enter saves
    assert form.isVisible()
    assert "存在问题" in form.errors.text() and "下步计划" in form.errors.text()
    assert form.work_done.toPlainText() == "完成春季招聘" and form.percent.value() == 30

    resets = []
    window.model.modelReset.connect(lambda: resets.append(1))
    changed = []
    window.model.dataChanged.connect(lambda a, b, roles: changed.append(window.model.node(a)))
    form.problems.setPlainText("非京生源指标下达较晚")
    form.next_steps.setPlainText("9月补充招聘")
    form.indicators.item(1, 2).setText("9.5")
    qtbot.keyClick(form.reporter, Qt.Key.Key_Return)
    assert not form.isVisible(), form.errors.text()
    settle(window)
    assert resets == []  # rows updated, not the model reset
    assert any(isinstance(n, TargetNode) and n.measure.no == 13 and n.year == 2026 for n in changed)
    assert window.tree_view.currentIndex() == index  # selection kept
    assert index.data(StateRole) == "关注"
    assert index.siblingAtColumn(COL_PERCENT).data() == "30%"
    assert index.siblingAtColumn(COL_LAST).data() == "2026-07-02"
    assert window.reports.model.rowCount() == 1
    report = window.reports.model.report(0)
    assert (report.reporter, report.percent, report.problems) == ("王老师", 30, "非京生源指标下达较晚")
    text = window.detail.toPlainText()
    assert "关注" in text and "9.5" in text  # the state line and the indicator's actual value


def add_report(qtbot, window, percent=60):
    select_target(window, 13, 2026)
    form = open_form(qtbot, window)
    form.percent.setValue(percent)
    form.work_done.setPlainText("首次填报")
    form.accept()
    assert not form.isVisible(), form.errors.text()
    settle(window)


def test_correction_creates_a_revision_visible_in_history(qtbot, window):
    add_report(qtbot, window)
    window.reports.correct_button.click()
    form = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "reportForm" and w.isVisible())
    assert form.percent.value() == 60 and form.work_done.toPlainText() == "首次填报"
    form.percent.setValue(65)
    form.work_done.setPlainText("更正：实际完成65%")
    form.accept()
    settle(window)
    assert window.reports.model.rowCount() == 1
    assert window.reports.model.report(0).revision == 2
    dialog = window.show_history(window.reports.model.report(0))
    assert dialog.model.rowCount() == 2
    assert [r.percent for r in dialog.model.reports()] == [65, 60]
    dialog.close()


def test_delete_asks_for_a_reason_and_keeps_the_record(qtbot, window, monkeypatch):
    add_report(qtbot, window)
    report = window.reports.model.report(0)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("重复填报", True)))
    window.reports.delete_button.click()
    settle(window)
    assert window.reports.model.rowCount() == 0
    dialog = window.show_history(report)
    assert dialog.model.report(0).deleted and dialog.model.report(0).delete_reason == "重复填报"
    dialog.close()


def test_follow_up_tab_and_jumping_to_a_target(qtbot, window):
    follow = window.follow_up
    assert follow.model.rowCount() >= 2  # lead departments with overdue 2025 targets
    first_dept = follow.model.item(0, 0)
    child = first_dept.child(0, 0)
    target_id = child.data(Qt.ItemDataRole.UserRole + 1)
    window.tabs.setCurrentIndex(1)
    follow.view.doubleClicked.emit(follow.model.indexFromItem(child))
    assert window.tabs.currentIndex() == 0
    assert window.current_node().id == target_id


def test_department_tab_lists_each_departments_targets(window):
    deps = window.departments
    names = [deps.model.item(r, 0).text() for r in range(deps.model.rowCount())]
    assert "区教委" in names and "区政府教育督导室" in names
    deps.table.selectRow(names.index("区政府教育督导室"))
    rows = [(deps.targets_model.item(r, 0).text(), deps.targets_model.item(r, 1).text())
            for r in range(deps.targets_model.rowCount())]
    assert rows == [("配合", "20. 完善教育督导机制")] * 3


def test_year_filter_changes_what_measure_rows_summarise(window):
    window.select_measure(13)
    measure = window.tree_view.currentIndex()
    assert window.model.focus_year() == 2026
    assert measure.siblingAtColumn(COL_STATE).data() == "未填报"
    window.filter_bar.select_year(2025)
    measure = window.proxy.mapFromSource(window.model.measure_index(13))
    assert measure.siblingAtColumn(COL_STATE).data() == "逾期"


def test_closing_a_period_in_the_window_locks_it(qtbot, window, monkeypatch):
    add_report(qtbot, window)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: (k.get("text", "2026Q3"), True)))
    window.close_period()
    window.reports.correct_button.click()
    form = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "reportForm" and w.isVisible())
    form.percent.setValue(70)
    form.accept()
    assert form.isVisible() and "已关闭" in form.errors.text()
    form.reject()


def test_an_indicator_value_entered_on_its_own(qtbot, window):
    select_target(window, 12, 2026)
    dialog = window.enter_indicator_value()
    dialog.indicator.setCurrentIndex(dialog.indicator.findText("校科级干部平均年龄", Qt.MatchFlag.MatchStartsWith))
    dialog.value.setText("四十九")
    dialog.accept()
    assert dialog.isVisible() and "请输入数字" in dialog.errors.text()
    dialog.value.setText("49.1")
    qtbot.keyClick(dialog.value, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    settle(window)
    text = window.detail.toPlainText()
    assert "49.1" in text and "达标" in text  # 2026 target ≤ 49.2


def _someone_else_corrects(window, report, percent, done):
    from datetime import date

    from qjgb_desktop.domain.validation import ReportInput
    from qjgb_desktop.services.progress import reports as svc

    with window.ctx.db.sessions.begin() as s:  # another PC: its own session, straight to the database
        return svc.correct_report(s, report.id, ReportInput(report.period, report.report_date, report.department,
                                                            report.reporter, "正常推进", percent, done=done),
                                  "另一台电脑的李强", date(2026, 7, 2))


@pytest.mark.parametrize("choice", ["keepMine", "keepTheirs", "backToForm"])
def test_two_people_correcting_one_report_never_overwrite_each_other(qtbot, window, choice):
    add_report(qtbot, window)
    opened = window.reports.model.report(0)
    window.reports.correct_button.click()
    form = _form_of(window)
    form.percent.setValue(70)
    form.work_done.setPlainText("我的更正")
    theirs = _someone_else_corrects(window, opened, 66, "李强的更正")
    form.accept()
    dialog = form.conflict
    assert dialog is not None and dialog.isVisible() and form.isVisible()
    cells = {(r, c): dialog.table.item(r, c).text() for r in range(dialog.table.rowCount()) for c in range(3)}
    done_row = [dialog.table.verticalHeaderItem(r).text() for r in range(dialog.table.rowCount())].index("工作进展")
    assert (cells[(done_row, 0)], cells[(done_row, 1)], cells[(done_row, 2)]) == ("首次填报", "李强的更正", "我的更正")
    assert "另一台电脑的李强" in dialog.table.horizontalHeaderItem(1).text()
    getattr(dialog, {"keepMine": "mine", "keepTheirs": "theirs", "backToForm": "back"}[choice]).click()
    settle(window)
    from qjgb_desktop.services.progress import reports as svc

    with window.ctx.db.sessions() as s:
        history = svc.report_history(s, opened.id)
    if choice == "keepMine":  # mine becomes revision 3, built on theirs; theirs stays in the history
        assert not form.isVisible()
        assert [(r.revision, r.done) for r in history] == [(3, "我的更正"), (2, "李强的更正"), (1, "首次填报")]
    elif choice == "keepTheirs":
        assert not form.isVisible()
        assert [(r.revision, r.done) for r in history] == [(2, "李强的更正"), (1, "首次填报")]
    else:  # back in the form with what was typed, now correcting their version
        assert form.isVisible() and form.work_done.toPlainText() == "我的更正" and form.base.id == theirs.id
        assert "第 2 版上修订" in form.errors.text()
        form.accept()
        settle(window)
        with window.ctx.db.sessions() as s:
            assert [r.done for r in svc.report_history(s, opened.id)] == ["我的更正", "李强的更正", "首次填报"]

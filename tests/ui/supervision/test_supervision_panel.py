"""督办 items in the window: 立项 from the follow-up list, every step through its form, the history per target."""

from datetime import date

import pytest
from gui_helpers import select_target, settle
from PySide6.QtWidgets import QApplication

from qjgb_desktop.services.supervision import items as supervision

pytestmark = pytest.mark.gui


def dialog():
    return next(w for w in QApplication.topLevelWidgets()
                if w.objectName() == "supervisionStepDialog" and w.isVisible())


def select_follow_up(win, measure_no, year):
    view, model = win.follow_up.view, win.follow_up.model
    for r in range(model.rowCount()):
        head = model.index(r, 0)
        for c in range(model.rowCount(head)):
            index = model.index(c, 0, head)
            if index.data().startswith(f"{measure_no}. ") and model.index(c, 1, head).data() == str(year):
                view.setCurrentIndex(index)
                return index
    raise AssertionError("not in the follow-up list")


def items(win):
    return [win.items.model.index(r, 0).data() for r in range(win.items.model.rowCount())]


def test_an_item_from_the_follow_up_list_to_closure(qtbot, window, db, tmp_path):
    window.tabs.setCurrentIndex(1)
    select_follow_up(window, 13, 2026)  # 未填报 on 2026-07-02
    window.items.start_step("open")
    form = dialog()
    assert "措施13·2026年度目标" in form.for_target.text() and form.for_target.isChecked()
    form.fields["reason"].setPlainText("本季度尚未报送")
    form.accept()
    settle(window)
    assert not form.isVisible() and items(window) == ["#1"]
    assert window.items.model.index(0, 1).data() == "区教委"
    window.items.table.selectRow(0)
    buttons = window.items.buttons
    assert buttons["交办"].isEnabled() and not buttons["办结"].isEnabled() and not buttons["反馈"].isEnabled()

    # 交办 with nobody to send it to is refused in the form; nothing is written.
    window.items.start_step("交办")
    form = dialog()
    form.accept()
    assert form.isVisible() and "交办对象" in form.errors.text()
    notice = tmp_path / "督办通知单.docx"
    notice.write_bytes(b"docx")
    form.fields["to_whom"].setText("区教委 李科长")
    form.notice.setText(str(notice))
    form.accept()
    settle(window)
    assert not form.isVisible()
    assert window.items.model.index(0, 3).data() == "交办"
    assert window.items.model.index(0, 5).data() == "2026-07-09"  # 7 days, the default feedback period

    window.items.table.selectRow(0)
    window.items.start_step("反馈")
    form = dialog()
    form.fields["answer"].setPlainText("已报送第三季度进展")
    form.accept()
    settle(window)
    window.items.table.selectRow(0)
    window.items.start_step("办结")
    form = dialog()
    form.fields["note"].setPlainText("同意办结")
    form.accept()
    settle(window)
    # 未办结 (the default filter) no longer lists it; 全部 does, with every step in the history pane.
    assert items(window) == []
    window.items.stage.setCurrentText("全部")
    settle(window)
    window.items.table.selectRow(0)
    steps = window.items.steps.toPlainText()
    for line in ("立项  经办：王老师", "交办  经办：王老师", "交办给 区教委 李科长", "通知单 督办通知单.docx",
                 "反馈  经办：王老师", "已报送第三季度进展", "办结  经办：王老师", "同意办结"):
        assert line in steps, line
    with db.sessions() as s:
        [item] = supervision.list_items(s, date(2026, 7, 2))
    assert [st.kind for st in item.steps] == ["立项", "交办", "反馈", "办结"]
    assert item.steps[1].notice_sha256


def test_the_target_shows_its_items_and_overdue_ones_are_marked(qtbot, window, db):
    with db.sessions.begin() as s:
        from qjgb_desktop.services.progress.reports import target_id_for

        tid = target_id_for(s, 13, 2026)
        item = supervision.open_item(s, "督导", date(2026, 6, 1), target_id=tid, reason="进度慢")
        supervision.assign(s, item.id, "督导", date(2026, 6, 2), "李科长", feedback_due=date(2026, 6, 20))
    window.ctx.data_changed.emit()
    settle(window)
    select_target(window, 13, 2026)
    settle(window)
    panel = window.target_items
    assert panel.model.rowCount() == 1
    assert panel.model.index(0, 3).data() == "交办（逾期）"
    assert panel.model.item(0, 0).foreground().color().name() == "#b23b00"
    window.items.stage.setCurrentText("逾期未反馈")
    settle(window)
    assert items(window) == ["#1"] and "逾期未反馈 1 项" in window.items.summary.text()
    select_target(window, 3, 2026)
    settle(window)
    assert panel.model.rowCount() == 0


def test_opening_for_all_lagging_targets_once(qtbot, window):
    made = window.items.open_for_all()
    settle(window)
    assert made == int(window.tabs.tabText(1).removeprefix("督办（").removesuffix("）"))  # one per lagging target
    assert window.items.model.rowCount() == made
    assert window.items.open_for_all() == 0
    assert "没有需要新立项" in window.items.summary.text()


def test_a_department_item_needs_a_reason(qtbot, window):
    window.tabs.setCurrentIndex(1)
    window.follow_up.view.setCurrentIndex(window.follow_up.model.index(0, 0))  # a department row: no target
    window.tree_view.setCurrentIndex(window.proxy.index(0, 0))  # an action in the plan: no target either
    window.items.start_step("open")
    form = dialog()
    assert not form.for_target.isChecked() and form.fields["department"].isEnabled()
    form.fields["department"].setCurrentText("区体育局")
    form.accept()
    assert form.isVisible() and "立项原因" in form.errors.text()
    form.fields["reason"].setPlainText("体育场馆开放进度")
    form.accept()
    settle(window)
    assert window.items.model.index(0, 1).data() == "区体育局"
    assert window.items.model.index(0, 2).data() == "（部门事项）"


def test_calendar_and_weights_in_the_settings_dialog(qtbot, window, db):
    from qjgb_desktop.services.settings.record import load_settings

    dialog_ = window.edit_settings()
    dialog_.due_days.setValue(15)
    dialog_.feedback_days.setValue(5)
    dialog_.weights["completion"].setValue(60)
    dialog_.overrides.setText("2026Q4=2027-01-15，2026Q3=十月")
    dialog_.accept()
    assert dialog_.isVisible() and "2026Q3=十月" in dialog_.errors.text()
    with db.sessions() as s:
        assert load_settings(s).due_days == 10  # nothing of the refused save was written
    dialog_.overrides.setText("2026q4=2027-01-15")
    dialog_.notice_prefix.setText("延教督〔")
    dialog_.accept()
    assert dialog_.isVisible() and "机关代字" in dialog_.errors.text()
    with db.sessions() as s:
        assert load_settings(s).feedback_days == 7  # nothing of the refused save was written
    dialog_.notice_prefix.setText("延教督")
    dialog_.accept()
    assert not dialog_.isVisible()
    with db.sessions() as s:
        st = load_settings(s)
    assert (st.due_days, st.feedback_days, st.weights["completion"]) == (15, 5, 60)
    assert st.due_overrides == {"2026Q4": "2027-01-15"} and st.notice_prefix == "延教督"
    again = window.edit_settings()
    assert again.overrides.text() == "2026Q4=2027-01-15" and again.due_days.value() == 15
    assert again.notice_prefix.text() == "延教督"
    again.overrides.setText("")
    again.accept()
    with db.sessions() as s:
        assert load_settings(s).due_overrides == {}

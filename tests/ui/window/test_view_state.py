"""What the window keeps for each clerk (filters, selection, expanded branches, tabs), how a jump from 督办 treats
the filters, and the order of the department list."""

import pytest
from conftest import GUI_TODAY
from gui_helpers import open_window, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from qjgb_desktop.app import create_main_window, load_tree
from qjgb_desktop.qtmodels.plan_tree import NodeRole
from qjgb_desktop.services.plan.query import ActionNode, TargetNode, departments_by_load

pytestmark = pytest.mark.gui


def expanded_actions(win):
    out = []
    for row in range(win.proxy.rowCount()):
        index = win.proxy.index(row, 0)
        if win.tree_view.isExpanded(index):
            out.append(index.data(NodeRole).no)
    return out


def test_view_state_is_restored_per_user(qtbot, db):
    from qjgb_desktop.app import ui_settings

    ui_settings().setValue("user/name", "王老师")
    first = open_window(qtbot, db)
    assert first.ctx.user == "王老师"
    bar = first.filter_bar
    bar.select_department("区教委", "lead")
    bar.select_year(2026)
    target = next(t for m in first.model.tree().measures() if m.no == 13 for t in m.targets if t.year == 2026)
    assert first.select_target(target.id)
    first.tree_view.collapse(first.proxy.index(1, 0))  # the second task folded away by hand
    first.bottom_tabs.setCurrentIndex(1)
    first.tabs.setCurrentWidget(first.departments)
    expanded = expanded_actions(first)
    assert 2 not in expanded and expanded
    first.close()

    second = open_window(qtbot, db)
    assert second.filter_bar.department.currentData() == "区教委"
    assert second.filter_bar.role.currentData() == "lead"
    assert second.filter_bar.year.currentData() == 2026
    node = second.current_node()
    assert isinstance(node, TargetNode) and node.id == target.id
    assert expanded_actions(second) == expanded
    assert second.tabs.currentWidget() is second.departments
    assert second.bottom_tabs.currentIndex() == 1
    assert "13" in second.reports.title.text()  # the selection's reports are loaded too
    second.ctx.set_user("李老师")  # another clerk on the same PC
    second.filter_bar.reset()
    second.close()

    ui_settings().setValue("user/name", "王老师")
    third = open_window(qtbot, db)
    assert third.filter_bar.department.currentData() == "区教委"  # 王老师's view, not 李老师's
    third.close()

    ui_settings().setValue("user/name", "李老师")
    fourth = open_window(qtbot, db)
    assert fourth.filter_bar.department.currentData() is None and not fourth.proxy.is_filtering()
    fourth.close()


def test_a_restored_filter_is_said(qtbot, db):
    first = open_window(qtbot, db)
    first.filter_bar.keyword.setText("冰雪")
    first.close()
    second = open_window(qtbot, db)
    assert second.visible_measure_numbers() == [3, 10]
    assert "冰雪" in second.statusBar().currentMessage()


def double_click_follow_up(win, measure_no, year):
    from qjgb_desktop.ui.supervision.panel import TargetIdRole

    follow = win.follow_up
    target = next(t for m in win.model.tree().measures() if m.no == measure_no for t in m.targets if t.year == year)
    for r in range(follow.model.rowCount()):
        head = follow.model.item(r, 0)
        for c in range(head.rowCount()):
            if head.child(c, 0).data(TargetIdRole) == target.id:
                win.tabs.setCurrentWidget(follow)
                follow.view.doubleClicked.emit(follow.model.indexFromItem(head.child(c, 0)))
                return target
    raise AssertionError(f"措施{measure_no}·{year} is not in 督办")


def test_follow_up_double_click_keeps_filters_that_show_the_target(window):
    window.filter_bar.select_year(2026)
    window.filter_bar.select_department("区教委")
    target = double_click_follow_up(window, 13, 2026)
    assert window.tabs.currentIndex() == 0 and window.current_node().id == target.id
    assert window.filter_bar.year.currentData() == 2026 and window.filter_bar.department.currentData() == "区教委"
    assert window.filter_notice.isHidden()


def test_follow_up_double_click_says_which_filter_it_cleared(window):
    window.filter_bar.select_department("区教委")
    window.filter_bar.keyword.setText("冰雪")
    target = double_click_follow_up(window, 13, 2025)  # 13 does not mention 冰雪
    assert window.current_node().id == target.id
    assert window.filter_bar.keyword.text() == ""
    assert window.filter_bar.department.currentData() == "区教委"  # this one still shows it: kept
    assert not window.filter_notice.isHidden()
    assert "已清除筛选" in window.filter_notice.text() and "冰雪" in window.filter_notice.text()
    assert "冰雪" in window.statusBar().currentMessage()
    window.filter_notice.linkActivated.emit("undo")  # 恢复筛选
    assert window.filter_bar.keyword.text() == "冰雪" and window.filter_notice.isHidden()
    # a filter the user then changes makes the notice stale: it goes
    double_click_follow_up(window, 13, 2025)
    assert not window.filter_notice.isHidden()
    window.filter_bar.select_year(2026)
    assert window.filter_notice.isHidden()


def test_department_list_order(window):
    combo = window.filter_bar.department
    items = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    names = [data for _text, data in items if data]
    tree = window.model.tree()
    assert sorted(names) == sorted(tree.departments) and len(names) == 45
    # those that lead first, most led first; then by how many measures they take part in
    assert names[:5] == ["区教委", "区委教育工委", "区科信局", "区财政局", "各街乡镇"]
    loads = {d.name: d for d in departments_by_load(tree)}
    cooperating = [loads[n].cooperating for n in names[3:]]
    assert cooperating == sorted(cooperating, reverse=True)
    # the two groups are headed, and a heading cannot be chosen
    headings = [i for i, (_text, data) in enumerate(items) if data is None and i > 0]
    assert len(headings) == 2 and "牵头" in items[headings[0]][0] and "配合" in items[headings[1]][0]
    model = combo.model()
    assert not model.flags(model.index(headings[0], 0)) & Qt.ItemFlag.ItemIsEnabled
    assert "牵头 10 项措施" in combo.itemData(combo.findData("区教委"), Qt.ItemDataRole.ToolTipRole)
    # the 部门 tab lists them in the same order
    deps = window.departments
    assert [deps.model.item(r, 0).text() for r in range(deps.model.rowCount())] == names


def test_dashboard_task_click_keeps_filters_that_show_it(window):
    window.filter_bar.select_department("区教委", "lead")
    assert window.select_action(3)
    assert window.filter_bar.department.currentData() == "区教委"  # 13 (task 三) is led by 区教委
    assert isinstance(window.current_node(), ActionNode) and window.filter_notice.isHidden()
    window.filter_bar.select_department("区科信局", "lead")  # leads only 16 (task 四)
    assert window.select_action(3)
    assert window.filter_bar.department.currentData() is None and not window.filter_notice.isHidden()
    QApplication.processEvents()


def test_a_chart_tab_is_restored_after_the_first_paint(qtbot, db):
    first = open_window(qtbot, db)
    first.tabs.setCurrentWidget(first.dashboard)
    settle(first)
    first.close()
    second = create_main_window(load_tree(db), db=db, today=GUI_TODAY)
    qtbot.addWidget(second)
    assert second.tabs.currentIndex() == 0 and second.dashboard.content is None  # not built before showing
    second.show()
    second.start()
    qtbot.waitUntil(lambda: second.tabs.currentWidget() is second.dashboard)
    settle(second)
    assert second.dashboard.content is not None

"""The main window as a clerk uses it: select, filter, search; layout remembered."""

import pytest
from PySide6.QtCore import Qt

from qjgb_desktop.app import create_main_window, load_tree
from qjgb_desktop.services.plan.query import MeasureNode, TargetNode

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, db):
    win = create_main_window(load_tree(db))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def type_text(widget, text):
    """Chinese arrives through the input method one committed character at a time (QTest types ASCII only)."""
    for ch in text:
        widget.insert(ch)


def click_row(qtbot, win, index):
    view = win.tree_view
    view.scrollTo(index)
    rect = view.visualRect(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_window_opens_with_the_whole_plan(window):
    assert window.windowTitle().startswith("强基固本")
    assert window.visible_measure_numbers() == list(range(1, 21))
    assert "20 / 20" in window.count_label.text()
    assert "5 项改革任务" in window.detail.toPlainText()


def test_clicking_a_measure_shows_its_text_departments_and_indicators(qtbot, window):
    index = window.proxy.mapFromSource(window.model.measure_index(13))
    click_row(qtbot, window, index)
    node = window.current_node()
    assert isinstance(node, MeasureNode) and node.no == 13
    text = window.detail.toPlainText()
    assert "13. 提升教师队伍育人水平" in text
    assert "加大教师自主招聘力度，拓宽教师招聘渠道" in text
    assert "牵头部门：区教委" in text
    assert "配合部门：区人力社保局、区委编办、区财政局" in text
    assert "专任教师本科及以上学历占比" in text and "96.5" in text and "96.7" in text
    assert "2027年度目标" in text


def test_selecting_a_yearly_target_shows_its_text_and_that_years_indicators(qtbot, window):
    window.select_measure(12)
    measure_index = window.tree_view.currentIndex()
    target_index = window.proxy.index(2, 0, measure_index)
    click_row(qtbot, window, target_index)
    node = window.current_node()
    assert isinstance(node, TargetNode) and node.year == 2027
    text = window.detail.toPlainText()
    assert "2027年度目标" in text
    assert "探索副校级干部竞聘试点" in text
    assert "校科级干部平均年龄" in text and "≤ 49 岁" in text
    assert "49.5" not in text  # only 2027's targets


def test_filtering_by_a_department_leaves_only_its_measures(qtbot, window):
    combo = window.filter_bar.department
    combo.setCurrentIndex(combo.findText("区体育局"))
    assert window.visible_measure_numbers() == [3]
    assert "1 / 20" in window.count_label.text()
    role = window.filter_bar.role
    combo.setCurrentIndex(combo.findText("区科信局"))
    role.setCurrentIndex(role.findData("lead"))
    assert window.visible_measure_numbers() == [16]
    window.filter_bar.clear.click()
    assert window.visible_measure_numbers() == list(range(1, 21))


def test_typing_a_keyword_filters_as_you_type(qtbot, window):
    type_text(window.filter_bar.keyword, "冰雪")
    assert window.visible_measure_numbers() == [3, 10]
    type_text(window.filter_bar.keyword, "普及")
    assert window.visible_measure_numbers() == [3]
    window.filter_bar.keyword.clear()
    assert len(window.visible_measure_numbers()) == 20


def test_nothing_matching_says_so(qtbot, window):
    type_text(window.filter_bar.keyword, "不存在的内容")
    assert window.visible_measure_numbers() == []
    assert window.empty_label.isVisible()


def test_year_filter(qtbot, window):
    year = window.filter_bar.year
    year.setCurrentIndex(year.findData(2026))
    window.select_measure(7)
    measure_index = window.tree_view.currentIndex()
    assert window.proxy.rowCount(measure_index) == 1
    assert window.proxy.index(0, 0, measure_index).data().startswith("2026年")


def test_window_layout_is_remembered(qtbot, db):
    first = create_main_window(load_tree(db))
    qtbot.addWidget(first)
    first.show()
    first.resize(760, 560)  # the offscreen screen is 800×600 and restoreGeometry keeps windows on screen
    first.splitter.setSizes([450, 290])
    sizes = first.splitter.sizes()
    first.close()  # saves
    second = create_main_window(load_tree(db))
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (760, 560)
    assert second.splitter.sizes() == sizes


def test_default_size_fits_a_small_laptop_screen(window):
    assert window.width() <= 1366 and window.height() <= 740
    assert window.minimumSizeHint().width() <= 1366


def test_search_words_are_marked_in_the_details(qtbot, window):
    type_text(window.filter_bar.keyword, "科学节")
    window.select_measure(5)
    assert window.detail.toHtml().count("background-color:#ffe58f") >= 3  # the three yearly targets
    window.filter_bar.keyword.clear()
    assert "background-color:#ffe58f" not in window.detail.toHtml()

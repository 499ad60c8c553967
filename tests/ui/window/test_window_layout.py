"""The window as a clerk sees it from 1024×700 up: names readable, figures whole, charts uncut, every state with
its own shape, and a summary row's state naming its year."""

import pytest
from gui_helpers import settle
from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

from qjgb_desktop.domain.status import STATE_SYMBOLS, STATES
from qjgb_desktop.qtmodels.plan_tree import COL_NAME, COL_PERCENT, COL_STATE, NodeRole, StateRole, YearLabelRole
from qjgb_desktop.services.plan.query import MeasureNode
from qjgb_desktop.ui.plan.plan_view import NAME_MIN_CHARS

pytestmark = pytest.mark.gui


def at_size(win, width, height):
    win.resize(width, height)
    QApplication.processEvents()
    settle(win)
    QApplication.processEvents()


def text_margin(view) -> int:
    # What QStyledItemDelegate leaves on each side of a cell's text (QCommonStyle: focus frame margin + 1).
    return view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1


def measure_rows(win):
    out = []
    for ar in range(win.proxy.rowCount()):
        action = win.proxy.index(ar, 0)
        for mr in range(win.proxy.rowCount(action)):
            index = win.proxy.index(mr, 0, action)
            if isinstance(index.data(NodeRole), MeasureNode):
                out.append(index)
    return out


def assert_names_readable(win):
    """Every measure row shows its number and at least NAME_MIN_CHARS characters of its title (or all of it)."""
    view = win.tree_view
    view.expandAll()
    QApplication.processEvents()
    fm = view.fontMetrics()
    rows = measure_rows(win)
    assert len(rows) == 20
    for index in rows:
        node = index.data(NodeRole)
        text = index.data()
        prefix = f"{node.no}. "
        shown = text if len(node.title) <= NAME_MIN_CHARS else prefix + node.title[:NAME_MIN_CHARS] + "…"
        rect = view.visualRect(index)
        room = rect.width() - 2 * text_margin(view)
        assert room >= fm.horizontalAdvance(shown), (text, room, fm.horizontalAdvance(shown))
        assert rect.left() >= 0 and rect.right() <= view.viewport().width()  # not scrolled out of sight
    # the figures that always stay are whole
    for col in (COL_PERCENT, COL_STATE):
        assert not view.isColumnHidden(col)
        assert view.header().sectionSize(col) >= view.sizeHintForColumn(col)
    assert view.horizontalScrollBar().maximum() == 0


def test_tree_at_1024x700_shows_every_measures_name(window):
    at_size(window, 1024, 700)
    assert_names_readable(window)
    window.filter_bar.select_year(2026)  # another width of the state column
    settle(window)
    assert_names_readable(window)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_tree_at_larger_sizes_shows_every_column(window, size):
    at_size(window, *size)
    assert_names_readable(window)
    view = window.tree_view
    assert not any(view.isColumnHidden(c) for c in range(window.model.columnCount()))
    # the name column takes the spare width
    others = sum(view.header().sectionSize(c) for c in range(1, window.model.columnCount()))
    assert view.header().sectionSize(COL_NAME) + others == view.viewport().width()


def test_splitter_keeps_sensible_minimums_and_can_be_widened(window):
    at_size(window, 1024, 700)
    total = sum(window.splitter.sizes())
    window.splitter.setSizes([0, total])  # the tree pushed as narrow as it goes
    QApplication.processEvents()
    assert_names_readable(window)
    window.splitter.setSizes([total, 0])  # the tree as wide as it goes: the details keep a readable minimum
    QApplication.processEvents()
    left, right = window.splitter.sizes()
    assert right == window.right_splitter.minimumWidth() and right <= 0.4 * total
    assert window.detail.width() >= 20 * window.detail.fontMetrics().horizontalAdvance("国")


def test_window_fits_1024x700(window):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700


def test_department_tab_names_are_readable_at_1024x700(window):
    at_size(window, 1024, 700)
    window.tabs.setCurrentWidget(window.departments)
    settle(window)
    QApplication.processEvents()
    deps = window.departments
    table, fm = deps.table, deps.table.fontMetrics()
    assert deps.model.rowCount() == 45
    room = table.columnWidth(0) - 2 * text_margin(table)
    for row in range(deps.model.rowCount()):
        name = deps.model.item(row, 0).text()
        assert fm.horizontalAdvance(name) <= room, name  # whole, not "区…"
        assert deps.model.item(row, 0).toolTip().startswith(name)
    assert table.horizontalScrollBar().maximum() == 0
    for col in range(1, deps.model.columnCount()):  # figures whole
        assert table.columnWidth(col) >= table.sizeHintForColumn(col)
    targets = deps.targets
    assert targets.columnWidth(1) - 2 * text_margin(targets) >= fm.horizontalAdvance("20. 完善教育督导机制")


def test_department_tab_rows_match_its_heading(window):
    deps = window.departments
    deps.table.selectRow([deps.model.item(r, 0).text() for r in range(deps.model.rowCount())].index("区教委"))
    years = {deps.targets_model.item(r, 2).text() for r in range(deps.targets_model.rowCount())}
    assert years == {"2025", "2026", "2027"} and "2025–2027年" in deps.summary.text()
    deps.year.setCurrentIndex(deps.year.findData(2026))
    years = {deps.targets_model.item(r, 2).text() for r in range(deps.targets_model.rowCount())}
    assert years == {"2026"} and deps.summary.text().startswith("2026年度")
    deps.year.setCurrentIndex(deps.year.findData(2025))
    assert deps.summary.text().startswith("2025年度")
    row = [deps.model.item(r, 0).text() for r in range(deps.model.rowCount())].index("区教委")
    assert deps.model.item(row, 2).text().startswith("10 /")  # all ten 2025 targets it leads are 逾期 (red)


def test_every_state_has_its_own_shape():
    """Icons differ from each other even without colour (grey print, colour-blind readers)."""
    from qjgb_desktop.qtmodels.lights import state_icon

    assert STATE_SYMBOLS["逾期"] == "‼" and STATE_SYMBOLS["滞后"] == "✕"
    assert len(set(STATE_SYMBOLS.values())) == len(STATES)

    def grey(state):
        """The icon as printed in black and white: its 28×28 device pixels on white paper, lightness only."""
        pixmap = state_icon(state).pixmap(QSize(14, 14), 2.0)
        pixmap.setDevicePixelRatio(1)
        image = QImage(pixmap.size(), QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        p = QPainter(image)
        p.drawPixmap(0, 0, pixmap)
        p.end()
        return [QColor(image.pixel(x, y)).lightness() for y in range(image.height()) for x in range(image.width())]

    shapes = {state: grey(state) for state in STATES}
    for i, a in enumerate(STATES):
        for b in STATES[i + 1:]:
            differing = sum(abs(x - y) > 60 for x, y in zip(shapes[a], shapes[b]))
            assert differing >= len(shapes[a]) // 10, (a, b, differing)  # at least a tenth of the icon


def test_a_measures_state_names_its_year_under_all_years(window):
    view = window.tree_view
    measure = window.proxy.mapFromSource(window.model.measure_index(13)).siblingAtColumn(COL_STATE)
    assert measure.data(YearLabelRole) == "2026年"
    delegate = view.itemDelegateForColumn(COL_STATE)
    option = QStyleOptionViewItem()
    delegate.initStyleOption(option, measure)
    assert option.text == "2026年 未填报"  # what the cell shows
    assert "2026年" in measure.data(Qt.ItemDataRole.ToolTipRole)
    target = window.proxy.index(0, COL_STATE, measure.siblingAtColumn(0))
    delegate.initStyleOption(option, target)
    assert option.text == "逾期"  # a target's name already starts with its year
    window.filter_bar.select_year(2025)  # the filter names the year: no label needed
    measure = window.proxy.mapFromSource(window.model.measure_index(13)).siblingAtColumn(COL_STATE)
    delegate.initStyleOption(option, measure)
    assert option.text == "逾期" and measure.data(StateRole) == "逾期"


def draw_and_check_inside(view):
    view.canvas.draw()
    fig = view.figure
    renderer = view.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        assert box.x0 >= -1 and box.y0 >= -1, (view.objectName(), box)
        assert box.x1 <= width + 1 and box.y1 <= height + 1, (view.objectName(), box, width, height)


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)])
def test_dashboard_labels_are_not_clipped(window, size):
    at_size(window, *size)
    window.tabs.setCurrentWidget(window.dashboard)
    settle(window)
    QApplication.processEvents()
    board = window.dashboard.content
    for view in (board.overview, board.distribution, board.actions, board.departments, board.activity):
        draw_and_check_inside(view)
    # the task labels are whole (or elided in the middle, with the whole text on hover)
    ax = board.actions.figure.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("（一）立德树人")
    # no sideways scrolling of the dashboard at 1024 wide
    scroll = board.findChild(type(board.layout().itemAt(board.layout().count() - 1).widget()))
    assert scroll.horizontalScrollBar().maximum() == 0


def test_value_labels_sit_above_the_expected_line():
    from qjgb_desktop.services.charts import figures as charts
    from qjgb_desktop.services.charts.data import Bar

    fig = charts.new_figure(6, 3)
    bars = [Bar(str(i), f"（{i}）一个相当长的改革任务名称用来测试省略效果", 45.0 + i, "关注") for i in range(3)]
    charts.draw_bars(fig, bars, "t", expected=50.0)
    ax = fig.axes[0]
    line = ax.lines[0]
    labels = [t for t in ax.texts if t.get_text()]
    assert labels
    for text in labels:
        ground = text.get_bbox_patch()
        assert ground is not None and ground.get_facecolor()[:3] == (1.0, 1.0, 1.0)
        assert text.get_zorder() > line.get_zorder()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert all("…" in t and len(t) <= 16 for t in ticks)  # elided in the middle: both ends kept
    assert ticks[0].startswith("（0）一个") and ticks[0].endswith("省略效果")


def test_indicator_chart_starts_at_zero():
    from qjgb_desktop.services.charts import figures as charts
    from qjgb_desktop.services.charts.data import IndicatorSeries

    for series in (IndicatorSeries(3, "国家学生体质健康监测优秀率", "%", ">=", [2025, 2026, 2027], [21, 22, 23],
                                   [21.5, None, None], [True, None, None]),
                   IndicatorSeries(12, "校科级干部平均年龄", "岁", "<=", [2025, 2026, 2027], [49.5, 49.2, 49],
                                   [49.8, 49.1, None], [False, True, None])):
        fig = charts.new_figure(6, 3)
        charts.draw_indicator(fig, series)
        ax = fig.axes[0]
        low, high = ax.get_ylim()
        assert low == 0 and high >= max(series.targets) * 1.2
        heights = sorted(p.get_height() for p in ax.patches if (p.get_gid() or "").startswith("target"))
        assert heights == sorted(series.targets)


def test_indicator_names_are_readable_with_tooltips(window):
    at_size(window, 1024, 700)
    window.tabs.setCurrentWidget(window.indicators)
    settle(window)
    QApplication.processEvents()
    page = window.indicators.content
    tree, fm = page.tree, page.tree.fontMetrics()
    room = tree.columnWidth(0) - tree.indentation() * 2 - 2 * text_margin(tree)
    assert room >= fm.horizontalAdvance("国" * page.NAME_MIN_CHARS + "…")
    head = page.model.item(0, 0)
    assert head.text().startswith("措施1 ")
    for row in range(head.rowCount()):
        name = head.child(row, 0)
        assert name.text() in name.toolTip()
    # the chart's title is elided to its width and shown whole on hover
    from qjgb_desktop.services.charts import figures as charts

    fig = page.chart.chart.figure
    titles = getattr(fig, "_qjgb_titles", [])
    assert titles and titles[0][1].startswith("措施1 ")
    assert charts.text_width([titles[0][0].get_text()], 11) <= fig.get_figwidth()


def test_disabled_report_button_says_why(window):
    window.tree_view.setCurrentIndex(QModelIndex())
    settle(window)
    add = window.reports.add_button
    assert not add.isEnabled() and "请先" in add.toolTip()
    window.select_action(2)
    settle(window)
    assert not add.isEnabled() and "改革任务" in add.toolTip()
    window.select_measure(13)
    settle(window)
    assert add.isEnabled() and "措施13" in add.toolTip() and "2026年度目标" in add.toolTip()


def test_the_window_never_opens_larger_than_the_screen(window):
    """The default size, or one remembered on a bigger monitor, must not put the status bar off a small screen."""
    free = window.screen().availableGeometry()
    window.resize(free.width() + 900, free.height() + 600)
    window._fit_screen()
    assert window.width() <= free.width() and window.height() <= free.height()
    assert free.contains(window.geometry().topLeft())

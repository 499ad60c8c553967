"""The 填报日历 and 考核 tabs over hand-made records with known answers, and their layout at 1024×700."""

from collections import Counter
from datetime import date, datetime

import pytest
from gui_helpers import settle
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QStyle
from sqlalchemy import update

from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress import reports as progress
from qjgb_desktop.services.supervision import items as supervision
from qjgb_desktop.store.models import ProgressReport
from qjgb_desktop.ui.supervision.assessment_panel import GROUP_SHORT, AssessmentPanel, ScoreSortProxy, SortRole
from qjgb_desktop.ui.supervision.calendar_panel import CalendarPanel
from qjgb_desktop.ui.window.context import AppContext

pytestmark = pytest.mark.gui
MEASURE = 17  # measure 17 has several cooperating departments that are in no other measure: one report a period


def add(db, department, entered, period="2026Q3", measure=MEASURE, year=2026, percent=50):
    """A report as if it reached the program at `entered` (timeliness is measured on created_at)."""
    with db.sessions.begin() as s:
        tid = progress.target_id_for(s, measure, year)
        data = ReportInput(period=period, report_date=entered.date(), department=department, reporter="张三",
                           status="正常推进", percent=percent, done="做了", problems="人手不足",
                           next_steps="加派人员")
        view = progress.add_report(s, tid, data, "clerk", entered.date())
        s.execute(update(ProgressReport).where(ProgressReport.id == view.id).values(created_at=entered))
    return tid


@pytest.fixture
def singles(db):
    """Three departments that owe exactly one report a period (measure 17's cooperating, in nothing else), with every
    cooperating department owing reports of its own (the setting; by default only the lead owes them)."""
    from qjgb_desktop.services.settings.record import set_cooperating_duty

    with db.sessions.begin() as s:
        set_cooperating_duty(s, "all", "admin")
    with db.sessions() as s:
        tree = plan_tree(s)
    count = Counter(d for m in tree.measures() for d in m.departments)
    names = [d for d in tree.measure(MEASURE).cooperating if count[d] == 1]
    assert len(names) >= 3
    return names[:3]


def panel(qtbot, db, cls, today):
    ctx = AppContext(db=db, today=today)
    widget = cls(ctx)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    settle(widget)
    return widget


def rows(model, column=0):
    return [model.item(r, column).text() for r in range(model.rowCount())]


def row_of(model, name, column=0):
    return [model.item(r, c).text() for r in range(model.rowCount()) if model.item(r, column).text() == name
            for c in range(model.columnCount())]


def choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def double_click(qtbot, view, rect):
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


# -- 填报日历 ----------------------------------------------------------------------------------------------
def test_calendar_on_time_late_and_missing(qtbot, db, singles):
    on_time, late, missing = singles
    tid = add(db, on_time, datetime(2026, 10, 9, 17, 0))
    add(db, late, datetime(2026, 10, 12, 9, 30))
    cal = panel(qtbot, db, CalendarPanel, date(2026, 10, 15))
    assert cal.period.currentData() == "2026Q4" and "（本期）" in cal.period.currentText()  # contains today
    assert cal.due_line.text() == "2026年第4季度 报送截止 2027-01-10，还有 87 天"
    choose(cal.period, "2026Q3")
    settle(cal)
    assert cal.due_line.text() == "2026年第3季度 报送截止 2026-10-10，已过 5 天"
    assert row_of(cal.model, on_time) == [on_time, "已报", "1", "1", "0", "0"]
    assert row_of(cal.model, late) == [late, "逾期报", "1", "0", "1", "0"]
    assert row_of(cal.model, missing) == [missing, "未报（已逾期）", "1", "0", "0", "1"]
    red = cal.model.item(rows(cal.model).index(missing), 1).foreground().color()
    assert red.red() > 150 and red.green() < 80
    n = cal.model.rowCount()
    assert n == 45 and cal.summary.text() == f"{n} 个部门中 2 个已报齐（按期 1、逾期 1），{n - 2} 个未报齐"
    # what one department owes, and a double-click shows the target in the plan
    cal.select_department(late)
    assert rows(cal.owed_model) == [f"措施{MEASURE} · 2026"]
    assert [cal.owed_model.item(0, c).text() for c in range(2, 6)] == ["配合", "逾期报", "2026-10-12 09:30", "2026-10-10"]
    with qtbot.waitSignal(cal.target_activated) as signal:
        double_click(qtbot, cal.owed, cal.owed.visualRect(cal.owed_model.index(0, 4)))
    assert signal.args == [tid]
    # only those still owing
    choose(cal.show_filter, cal.INCOMPLETE)
    shown = [name for r, name in enumerate(rows(cal.model)) if not cal.table.isRowHidden(r)]
    assert missing in shown and on_time not in shown and late not in shown and len(shown) == n - 2
    assert cal.selected_department() in shown
    choose(cal.show_filter, cal.ALL)
    # a new report: reload keeps the period and the selected department
    cal.select_department(late)
    add(db, missing, datetime(2026, 10, 14, 8, 0))
    cal.reload()
    settle(cal)
    assert cal.period.currentData() == "2026Q3" and cal.selected_department() == late
    assert row_of(cal.model, missing)[1:] == ["逾期报", "1", "0", "1", "0"]
    assert "3 个已报齐（按期 1、逾期 2）" in cal.summary.text()


def test_calendar_names_what_falls_due_within_seven_days(qtbot, db, singles):
    on_time, _late, missing = singles
    add(db, on_time, datetime(2026, 10, 1, 10, 0))
    cal = panel(qtbot, db, CalendarPanel, date(2026, 10, 5))  # 2026Q3 is due on 10-10: in 5 days
    assert cal.soon.isVisible() and not cal.soon_empty.isVisible()
    assert cal.soon.topLevelItemCount() == 1
    head = cal.soon.topLevelItem(0)
    assert head.text(0).startswith("2026年第3季度 报送截止 2026-10-10（还有 5 天）")
    owing = [head.child(i).text(0).split("：")[0] for i in range(head.childCount())]
    assert missing in owing and on_time not in owing
    assert f"{len(owing)} 个部门未报齐" in head.text(0)
    # before the due date nothing missing is overdue
    choose(cal.period, "2026Q3")
    settle(cal)
    assert row_of(cal.model, missing)[1] == "未报" and row_of(cal.model, on_time)[1] == "已报"
    # double-clicking a department there shows its period and selects it
    choose(cal.period, "2026Q4")
    settle(cal)
    head = cal.soon.topLevelItem(0)
    child = next(head.child(i) for i in range(head.childCount()) if head.child(i).text(0).startswith(missing))
    cal.soon.scrollToItem(child)
    double_click(qtbot, cal.soon, cal.soon.visualItemRect(child))
    settle(cal)
    assert cal.period.currentData() == "2026Q3" and cal.selected_department() == missing
    # nothing due within 7 days
    later = panel(qtbot, db, CalendarPanel, date(2026, 10, 11))
    assert later.soon_empty.isVisible() and not later.soon.isVisible()


# -- 考核 --------------------------------------------------------------------------------------------------
def shown_rows(asm):
    p = asm.proxy
    return [[p.index(r, c).data() for c in range(p.columnCount())] for r in range(p.rowCount())]


def test_assessment_figures_are_assess_and_traceable(qtbot, db):
    from qjgb_desktop.services.supervision.assessment import assess

    today = date(2026, 11, 20)
    add(db, "区教委", datetime(2026, 10, 1, 9, 0), measure=13, percent=80)
    sent = date(2026, 11, 2)  # answers due by the 9th: both items have fallen due by the 20th
    with db.sessions.begin() as s:  # one of two 督办 items closed: 50.0, where nobody else has any to count
        tid = progress.target_id_for(s, 13, 2026)
        item = supervision.open_item(s, "督导", sent, target_id=tid, reason="进度偏慢")
        other = supervision.open_item(s, "督导", sent, department="区教委", reason="会议安排")
        supervision.assign(s, item.id, "督导", sent, "李")
        supervision.assign(s, other.id, "督导", sent, "李")
        supervision.answer(s, item.id, "李", sent, "已整改")
        supervision.close(s, item.id, "督导", sent)
    with db.sessions() as s:
        scores = assess(s, 2026, today)
    asm = panel(qtbot, db, AssessmentPanel, today)
    assert asm.year.currentData() == 2026
    table = {r[1]: r for r in shown_rows(asm)}
    assert len(table) == len(scores) == 45
    for s in scores:
        figures = [None if c.score is None else f"{c.score:.1f}" for c in s.components]
        total = f"{s.total:.1f}" if any(c.counted for c in s.components) else "—"  # nothing to measure: no total
        assert table[s.department] == [f"{GROUP_SHORT[s.group]}·{s.rank_label}", s.department, total,
                                       *[f or "不计" for f in figures]], s.department
    me = next(s for s in scores if s.department == "区教委")
    assert table["区教委"][6] == "50.0"
    # a department leading nothing: completion and evidence are 不计, not 0
    nothing = next(s for s in scores if s.component("completion").denominator == 0)
    assert table[nothing.department][3] == "不计" and table[nothing.department][5] == "不计"
    # the detail: weight, score, basis and every record line behind each score
    asm.select_department("区教委")
    text = asm.detail.toPlainText().replace("\u3000", " ")
    for c in me.components:
        assert f"{c.label} 权重 {c.weight:g} 得分 {c.score:.1f}" in text and c.basis in text
        for record in c.records:
            assert record in text
    assert any("督办 #" in r for r in me.component("supervision").records)
    assert "2026Q3 措施13·2026年（牵头）：已报" in text
    assert asm.rule.text().startswith("权重：完成度 40、按时报送率 30")  # the weights under the table
    assert "考核规则" in text and "考核得分 = Σ" in text  # the whole rule under every department's detail
    # sorting by clicking headers: numbers, not text; 不计 last either way
    header = asm.table.horizontalHeader()

    def click(column):
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(header.sectionViewportPosition(column) + 5, 5))
        return [r[column] for r in shown_rows(asm)]
    supervised = click(6)
    order = asm.proxy.sortOrder()
    values = [float(v) for v in supervised if v != "不计"]  # only 区教委 has items that fell due
    assert values == [50.0] and supervised[1:] == ["不计"] * (len(supervised) - 1)
    assert click(6)[:1] == ["50.0"] and asm.proxy.sortOrder() != order  # 不计 last in either order
    for _ in range(2):
        completion = click(3)
        counted = [float(v) for v in completion if v != "不计"]
        assert completion[len(counted):] == ["不计"] * (len(completion) - len(counted))
        assert counted == sorted(counted, reverse=asm.proxy.sortOrder() == Qt.SortOrder.DescendingOrder)
    totals = click(2)
    measured = [float(v) for v in totals if v != "—"]
    assert totals[len(measured):] == ["—"] * (len(totals) - len(measured))
    assert measured == sorted((s.total for s in scores if any(c.counted for c in s.components)),
                              reverse=asm.proxy.sortOrder() == Qt.SortOrder.DescendingOrder)
    # reload keeps the year and the selected department
    choose(asm.year, 2025)
    settle(asm)
    asm.select_department(nothing.department)
    asm.reload()
    settle(asm)
    assert asm.year.currentData() == 2025 and asm.selected_department() == nothing.department
    assert asm.detail.toPlainText().startswith(nothing.department)


def test_score_sort_is_numeric_with_not_counted_last():
    model = QStandardItemModel()
    for value in (99.5, None, 100.0, 7.0):
        item = QStandardItem("不计" if value is None else f"{value:.1f}")
        item.setData(value, SortRole)
        model.appendRow(item)
    proxy = ScoreSortProxy()
    proxy.setSourceModel(model)
    proxy.setSortRole(SortRole)
    proxy.sort(0, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, 0).data() for r in range(4)] == ["7.0", "99.5", "100.0", "不计"]
    proxy.sort(0, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, 0).data() for r in range(4)] == ["100.0", "99.5", "7.0", "不计"]


# -- layout -------------------------------------------------------------------------------------------------
def text_margin(view) -> int:
    return view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1


def assert_table_whole(table, name_column, min_chars):
    """Figures as wide as their contents and header; names whole or elided with the whole name in the tooltip;
    no sideways scrolling."""
    model, header, fm = table.model(), table.horizontalHeader(), table.fontMetrics()
    assert table.horizontalScrollBar().maximum() == 0
    for c in range(model.columnCount()):
        if c != name_column and not table.isColumnHidden(c):
            assert table.columnWidth(c) >= max(table.sizeHintForColumn(c), header.sectionSizeHint(c)), c
    room = table.columnWidth(name_column) - 2 * text_margin(table)
    for r in range(model.rowCount()):
        name = model.index(r, name_column).data()
        if fm.horizontalAdvance(name) > room:
            assert room >= fm.horizontalAdvance("国" * min_chars + "…"), (name, room)
            assert name in model.index(r, name_column).data(Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize("size", [(1024, 700), (1366, 768)])
def test_tabs_are_not_clipped(qtbot, db, window, size):
    from qjgb_desktop.services.settings.record import set_cooperating_duty

    with db.sessions.begin() as s:  # every department owes reports: all 45 names in the calendar's table
        set_cooperating_duty(s, "all", "admin")
    with db.sessions() as s:
        first = plan_tree(s).departments[0]  # listed first, so selected first: its owed rows are on screen
    # late for 2026Q1 (the tab opens on 2026Q3): the widest texts of 状态 and 首次录入 come with another period
    add(db, first, datetime(2026, 4, 12, 9, 30), period="2026Q1", measure=1)
    cal, asm = CalendarPanel(window.ctx), AssessmentPanel(window.ctx)
    window.tabs.addTab(cal, "填报日历")
    window.tabs.addTab(asm, "考核")
    window.resize(*size)
    assert window.minimumSizeHint().width() <= 1024 and window.minimumSizeHint().height() <= 700
    for widget, tables in ((cal, ((cal.table, 0, 10), (cal.owed, 1, 6))), (asm, ((asm.table, 1, 10),))):
        window.tabs.setCurrentWidget(widget)
        settle(window)
        QApplication.processEvents()
        assert widget.minimumSizeHint().width() <= widget.width()
        assert tables[0][0].model().rowCount() == 45
        for table, name_column, min_chars in tables:
            assert_table_whole(table, name_column, min_chars)
            if size == (1024, 700) and table is tables[0][0]:  # with room, every department's name is whole
                fm, room = table.fontMetrics(), table.columnWidth(name_column) - 2 * text_margin(table)
                assert all(fm.horizontalAdvance(table.model().index(r, name_column).data()) <= room
                           for r in range(table.model().rowCount()))
        if widget is cal:  # another period, then back: new rows, wider texts; the columns follow them
            assert cal.period.currentData() == "2026Q3"
            for code in ("2026Q1", "2026Q4", "2026Q1"):
                choose(cal.period, code)
                settle(window)
                QApplication.processEvents()
                for table, name_column, min_chars in tables:
                    assert_table_whole(table, name_column, min_chars)
            assert cal.owed_model.item(0, 4).text() == "2026-04-12 09:30"
        splitter = widget.splitter  # pushed as narrow as it goes, the list keeps its figures and readable names
        total = sum(splitter.sizes())
        splitter.setSizes([0, total])
        QApplication.processEvents()
        for table, name_column, min_chars in tables:
            assert_table_whole(table, name_column, min_chars)
        splitter.setSizes([total, 0])
        QApplication.processEvents()
        for table, name_column, min_chars in tables:
            assert_table_whole(table, name_column, min_chars)

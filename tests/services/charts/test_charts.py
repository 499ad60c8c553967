"""Charts: the numbers behind them, the dashboard in the window (no matplotlib warnings), clicking a bar,
and a PNG of every chart kind from the command line."""

import struct
from datetime import date

import pytest
from gui_helpers import settle
from PySide6.QtCore import QPoint, Qt

from qjgb_desktop.cli.entry import main
from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.charts import data as cd
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.progress.status import compute_status

TODAY = date(2026, 7, 2)


def report(db, measure, year, percent, status="正常推进", day=date(2026, 7, 1), period="2026Q3", **kw):
    with db.sessions.begin() as s:
        tid = svc.target_id_for(s, measure, year)
        dept = svc.form_defaults(s, tid, TODAY).department
        svc.add_report(s, tid, ReportInput(period, day, dept, "张三", status, percent, **kw), "clerk", TODAY)


@pytest.fixture
def data(db):
    report(db, 3, 2026, 60)
    report(db, 4, 2026, 20, "滞后", problems="场地不足", next_steps="协调场地")
    report(db, 13, 2026, 100, "已完成")
    report(db, 1, 2026, 45, day=date(2026, 5, 10), period="2026Q2")
    with db.sessions() as s:
        return compute_status(s, TODAY)


def test_overview_and_distribution(data):
    ov = cd.overview(data, 2026)
    assert ov.percent == round((60 + 20 + 100 + 45) / 20, 1)
    assert ov.expected == pytest.approx(50.1, abs=0.1)
    assert ov.counts["正常"] == 1 and ov.counts["滞后"] == 1 and ov.counts["已完成"] == 1
    assert ov.counts["未填报"] == 17 and sum(ov.counts.values()) == 20


def test_action_and_department_bars(data):
    actions = cd.action_bars(data, 2026)
    assert [b.key for b in actions] == ["1", "2", "3", "4", "5"]
    assert actions[0].percent == round((45 + 0 + 60 + 20 + 0) / 5, 1) and actions[0].red == 1
    assert actions[2].label.startswith("（三）队伍建设")
    depts = cd.department_bars(data, 2026)
    assert depts[0].label == "区教委" and depts[0].red == 1  # most red first
    assert {b.label for b in depts} == {"区教委", "区委教育工委", "区科信局"}
    assert cd.department_bars(data, 2025)[0].state == "逾期"  # another year is computed on request


def test_most_lagging_puts_red_first_and_skips_done(data):
    lagging = cd.most_lagging(data, 2026)
    assert len(lagging) == 10
    assert lagging[0].label.startswith("4.") and lagging[0].state == "滞后"
    assert all(b.state != "已完成" for b in lagging)


def test_monthly_activity_lists_every_month(db, data):
    with db.sessions() as s:
        months = cd.monthly_activity(s, date(2026, 1, 1), date(2026, 7, 31))
    assert [m for m, _ in months] == [f"2026-{m:02d}" for m in range(1, 8)]
    assert dict(months)["2026-07"] == 3 and dict(months)["2026-05"] == 1


def test_indicator_series_reads_the_direction(db):
    with db.sessions.begin() as s:
        age = svc.find_indicator(s, 12, "平均年龄")
        svc.set_indicator_value(s, age.id, 49.8, date(2025, 12, 1), "clerk", TODAY)
        svc.set_indicator_value(s, age.id, 49.1, date(2026, 6, 1), "clerk", TODAY)
    from qjgb_desktop.services.progress.indicators import indicator_rows

    with db.sessions() as s:
        row = next(r for r in indicator_rows(s, 12) if r["name"] == "校科级干部平均年龄")
    series = cd.indicator_series(row, [2025, 2026, 2027])
    assert series.targets == [49.5, 49.2, 49]
    assert series.actuals == [49.8, 49.1, None]
    assert series.met == [False, True, None]  # ≤: 49.8 misses 49.5, 49.1 meets 49.2


@pytest.mark.gui
def test_dashboard_renders_without_warnings_and_a_click_selects_the_action(qtbot, window, recwarn):
    report(window.ctx.db, 13, 2026, 40, problems="招聘延后", next_steps="补招")
    window.ctx.data_changed.emit()
    settle(window)
    window.tabs.setCurrentIndex(window.tabs.indexOf(window.dashboard))
    settle(window)
    board = window.dashboard.content
    assert board is not None
    assert "2026年总体完成" in board.summary.text()
    assert board.lagging_model.rowCount() == 10
    canvas = board.actions.canvas
    canvas.draw()
    ax = board.actions.figure.axes[0]
    third = next(p for p in ax.patches if p.get_gid() == "3")
    x, y = ax.transData.transform((third.get_x() + max(third.get_width(), 2) / 2,
                                   third.get_y() + third.get_height() / 2))
    ratio = canvas.devicePixelRatioF()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(x / ratio), int(canvas.height() - y / ratio)))
    assert window.tabs.currentIndex() == 0
    node = window.current_node()
    assert node is not None and getattr(node, "numeral", None) == "三"
    assert not [w for w in recwarn if "Glyph" in str(w.message) or "matplotlib" in str(w.filename)]


@pytest.mark.gui
def test_charts_redraw_after_a_progress_edit(qtbot, window):
    window.tabs.setCurrentIndex(window.tabs.indexOf(window.dashboard))
    settle(window)
    board = window.dashboard.content
    before = board.summary.text()
    report(window.ctx.db, 3, 2026, 90)
    window.ctx.data_changed.emit()
    settle(window)
    assert board.summary.text() != before and "4.5%" in board.summary.text()


@pytest.mark.gui
def test_indicator_page_and_measure_chart(qtbot, window):
    window.tabs.setCurrentIndex(window.tabs.indexOf(window.indicators))
    settle(window)
    page = window.indicators.content
    assert page.model.rowCount() == 18  # measures with indicators
    window.tabs.setCurrentIndex(0)
    window.select_measure(12)
    settle(window)
    window.bottom_tabs.setCurrentWidget(window.indicator_chart)
    chart = window.indicator_chart.content
    assert chart.choice.count() == 8
    assert "平均年龄" in [chart.choice.itemText(i) for i in range(chart.choice.count())][4]


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("kind,extra", [
    ("overview", []), ("actions", []), ("departments", []), ("status", []), ("activity", []), ("lagging", []),
    ("indicator", ["--measure", "13", "--indicator", "本科"]),
])
def test_cli_renders_each_chart_kind(data_dir, tmp_path, capsys, kind, extra, recwarn):
    main(["init"])
    out = tmp_path / f"{kind}.png"
    assert main(["chart", "--kind", kind, "--out", str(out), "--today", "2026-07-02", *extra]) == 0
    width, height = png_size(out)
    assert width >= 800 and height >= 400
    assert not [w for w in recwarn if "Glyph" in str(w.message)]


def test_cli_chart_formats_and_bad_arguments(data_dir, tmp_path, capsys):
    main(["init"])
    for suffix in ("svg", "pdf"):
        assert main(["chart", "--kind", "actions", "--out", str(tmp_path / f"a.{suffix}")]) == 0
    assert (tmp_path / "a.svg").read_text(encoding="utf-8").count("<svg") == 1
    assert (tmp_path / "a.pdf").read_bytes()[:4] == b"%PDF"
    assert main(["chart", "--kind", "actions", "--out", str(tmp_path / "a.gif")]) == 2
    assert main(["chart", "--kind", "indicator", "--out", str(tmp_path / "i.png")]) == 2
    assert "--measure" in capsys.readouterr().err


def click_bar(qtbot, view, gid):
    canvas = view.canvas
    canvas.draw()
    ax = view.figure.axes[0]
    bar = next(p for p in ax.patches if p.get_gid() == gid)
    x, y = ax.transData.transform((bar.get_x() + max(bar.get_width(), 2) / 2, bar.get_y() + bar.get_height() / 2))
    ratio = canvas.devicePixelRatioF()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(x / ratio), int(canvas.height() - y / ratio)))
    return x, y


@pytest.mark.gui
def test_clicking_a_department_filters_the_plan_and_hover_shows_values(qtbot, window):
    window.tabs.setCurrentIndex(window.tabs.indexOf(window.dashboard))
    settle(window)
    view = window.dashboard.content.departments
    x, y = click_bar(qtbot, view, "区科信局")
    assert window.tabs.currentIndex() == 0
    assert window.filter_bar.department.currentData() == "区科信局"
    assert window.filter_bar.role.currentData() == "lead"
    assert window.visible_measure_numbers() == [16]
    from matplotlib.backend_bases import MouseEvent

    from qjgb_desktop.services.charts import figures as charts

    event = MouseEvent("motion_notify_event", view.canvas, x, y)
    assert charts.hover_text(view.figure, event).startswith("区科信局：0%")


@pytest.mark.gui
def test_dashboard_as_of_another_day(qtbot, window):
    window.tabs.setCurrentIndex(window.tabs.indexOf(window.dashboard))
    settle(window)
    board = window.dashboard.content
    from PySide6.QtCore import QDate

    board.as_of.setDate(QDate(2026, 12, 31))
    settle(window)
    assert "2026-12-31" in board.summary.text() and "应完成约 100%" in board.summary.text()
    board.as_of.setDate(QDate(2026, 7, 2))
    settle(window)
    assert "2026-07-02" in board.summary.text()

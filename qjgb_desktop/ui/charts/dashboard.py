"""总览 (dashboard) and 指标 (indicators) tabs, and the indicator chart of the selected measure.

This module imports matplotlib; the window imports it only when one of these is first shown (LazyTab), so
start-up stays fast. Figures are redrawn from each new status snapshot: after a progress edit they change
without a restart, and the numbers behind them come from the background worker.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QStyle,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop.domain.status import expected_percent
from qjgb_desktop.qtmodels.lights import state_icon
from qjgb_desktop.services.charts import data as cd
from qjgb_desktop.services.charts import figures as charts
from qjgb_desktop.ui.charts.chart_view import ChartView, font_notice
from qjgb_desktop.ui.widgets.dialog_parts import date_field, picked_date, row_table


def first_day(years: list[int]) -> date:
    return date(years[0], 1, 1)

TargetIdRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2


class Dashboard(QWidget):
    action_clicked = Signal(int)
    department_clicked = Signal(str)
    target_clicked = Signal(int)

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self.ctx = ctx
        self._snap = None
        self._activity: list[tuple[str, int]] = []
        self.year = QComboBox(objectName="dashboardYear")
        self.as_of = date_field(ctx.today(), "dashboardDate")
        self.as_of.setToolTip("按这一天计算红黄绿灯和应完成进度（默认今天）")
        self.summary = QLabel(objectName="dashboardSummary")
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("年度"))
        top.addWidget(self.year)
        top.addWidget(QLabel("截至"))
        top.addWidget(self.as_of)
        top.addWidget(self.summary, 1)

        self.overview = ChartView("总体完成度", 6, 2.2)
        self.distribution = ChartView("状态分布", 6, 2.2)
        self.actions = ChartView("各改革任务", 6, 3.0)
        self.departments = ChartView("各牵头部门", 6, 3.0)
        self.activity = ChartView("每月填报", 6, 3.0)
        self.lagging_model = QStandardItemModel(self)
        self.lagging_model.setHorizontalHeaderLabels(["最滞后的十个目标", "状态", "完成度"])
        self.lagging = row_table(self.lagging_model, "laggingTable", single=False)
        self.lagging.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.lagging.doubleClicked.connect(
            lambda i: self.target_clicked.emit(int(i.siblingAtColumn(0).data(TargetIdRole))))

        grid = QGridLayout()
        grid.addWidget(self.overview, 0, 0)
        grid.addWidget(self.distribution, 0, 1)
        grid.addWidget(self.actions, 1, 0)
        grid.addWidget(self.departments, 1, 1)
        grid.addWidget(self.activity, 2, 0)
        grid.addWidget(self.lagging, 2, 1)
        body = QWidget()
        body.setLayout(grid)
        body.setMinimumSize(720, 900)  # no sideways scrolling from a 1024-wide window up
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        notice = font_notice()
        if notice is not None:
            layout.addWidget(notice)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)

        self.actions.clicked.connect(lambda key: self.action_clicked.emit(int(key)))
        self.departments.clicked.connect(self.department_clicked)
        self.year.currentIndexChanged.connect(lambda _i: self.refresh())
        self.as_of.dateChanged.connect(lambda _d: self._recompute())
        self._window_snap = None

    def _recompute(self) -> None:
        """Lights as of another day than today: computed in the background for this tab only."""
        from qjgb_desktop.services.progress.status import compute_status

        day = picked_date(self.as_of)
        if self._window_snap is not None and day == self._window_snap.today:
            self._show(self._window_snap)
            return
        tree = self._snap.tree if self._snap else None
        self.ctx.read(lambda s: compute_status(s, day, tree), self._show, key="dashboard-as-of")

    def _show(self, snap) -> None:
        self._snap = snap
        self._update()

    def set_snapshot(self, snap) -> None:
        """New figures; drawn now if the tab is on screen, else when it is next shown (edits on other tabs
        then cost no drawing at all)."""
        first = self._snap is None
        self._window_snap = snap
        if not first and picked_date(self.as_of) != snap.today:
            self._dirty = True
            if self.isVisible():
                self._recompute()  # an edit while looking at another day: recompute that day
            return
        self._snap = snap
        if first:
            self.year.blockSignals(True)
            for y in snap.tree.years:
                self.year.addItem(f"{y}年", y)
            self.year.setCurrentIndex(max(0, self.year.findData(snap.year)))
            self.year.blockSignals(False)
        self._dirty = True
        if self.isVisible() or first:
            self._update()

    def _update(self) -> None:
        self._dirty = False
        self._load_activity()
        self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if getattr(self, "_dirty", False):
            self._update()

    def _load_activity(self) -> None:
        snap = self._snap
        years = snap.tree.years
        first, last = date(years[0], 1, 1), max(first_day(years), min(snap.today, date(years[-1], 12, 31)))
        self.ctx.read(lambda s: cd.monthly_activity(s, first, last), self._activity_loaded, key="activity")

    def _activity_loaded(self, months) -> None:
        self._activity = months
        self.activity.redraw(lambda fig: charts.draw_activity(fig, months))

    def refresh(self) -> None:
        snap = self._snap
        if snap is None:
            return
        year = self.year.currentData() or snap.year
        ov = cd.overview(snap, year)
        expected = expected_percent(year, snap.today)
        self.summary.setText(f"{snap.today.isoformat()} · {year}年总体完成 {ov.percent:g}%（应完成约 {ov.expected:g}%），"
                             f"{ov.state}；红 {snap.plan[year].red} · 黄 {snap.plan[year].yellow} · "
                             f"未填报 {snap.plan[year].not_reported}。点击任务或部门的条形可在计划中查看。")
        self.overview.redraw(lambda fig: charts.draw_overview(fig, ov))
        self.distribution.redraw(lambda fig: charts.draw_distribution(fig, ov.counts, year))
        self.actions.redraw(lambda fig: charts.draw_bars(fig, cd.action_bars(snap, year), f"{year}年各改革任务完成度",
                                                         expected))
        self.departments.redraw(lambda fig: charts.draw_bars(fig, cd.department_bars(snap, year),
                                                             f"{year}年各牵头部门完成度", expected))
        self.activity.redraw(lambda fig: charts.draw_activity(fig, self._activity))
        self.lagging_model.removeRows(0, self.lagging_model.rowCount())
        for bar in cd.most_lagging(snap, year):
            name = QStandardItem(bar.label)
            name.setData(int(bar.key), TargetIdRole)
            state = QStandardItem(bar.state)
            state.setIcon(state_icon(bar.state))
            percent = QStandardItem(f"{bar.percent:g}%")
            percent.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.lagging_model.appendRow([name, state, percent])


class IndicatorChart(QWidget):
    """One indicator at a time: a choice of indicators and its target-against-actual chart."""

    def __init__(self, name: str = "指标图", parent=None) -> None:
        super().__init__(parent)
        self.choice = QComboBox(objectName="indicatorChoice")
        self.chart = ChartView(name, 6, 3.0)
        self.years: list[int] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        notice = font_notice()
        if notice is not None:
            layout.addWidget(notice)
        # Long names do not widen the pane: the box elides, the list and the tooltip show them whole.
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.choice.setMinimumContentsLength(16)
        layout.addWidget(self.choice)
        layout.addWidget(self.chart, 1)
        self.choice.currentIndexChanged.connect(lambda _i: self._draw())
        self.choice.currentIndexChanged.connect(lambda _i: self.choice.setToolTip(self.choice.currentText()))

    def set_rows(self, rows: list[dict], years: list[int]) -> None:
        self.years = years
        current = self.choice.currentData(RowRole)
        self.choice.blockSignals(True)
        self.choice.clear()
        for row in rows:
            text = f"措施{row['measure']} · {row['name']}（{row['unit']}）"
            self.choice.addItem(text)
            self.choice.setItemData(self.choice.count() - 1, row, RowRole)
            self.choice.setItemData(self.choice.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        names = [r["name"] for r in rows]
        self.choice.setCurrentIndex(names.index(current["name"]) if current and current["name"] in names else 0)
        self.choice.blockSignals(False)
        self.choice.setToolTip(self.choice.currentText())
        fm = self.choice.fontMetrics()
        widest = max((fm.horizontalAdvance(self.choice.itemText(i)) for i in range(self.choice.count())), default=0)
        self.choice.view().setMinimumWidth(widest + 40)
        self._draw()

    def select(self, indicator_id: int) -> None:
        for i in range(self.choice.count()):
            if self.choice.itemData(i, RowRole)["indicator_id"] == indicator_id:
                self.choice.setCurrentIndex(i)

    def _draw(self) -> None:
        row = self.choice.currentData(RowRole)
        if row is None:
            def empty(fig) -> None:
                charts._reuse(fig, "empty", object())  # clears the figure and what it remembered
                fig.text(0.5, 0.5, "本项无量化指标", ha="center", va="center")
            self.chart.redraw(empty)
            return
        series = cd.indicator_series(row, self.years)
        self.chart.redraw(lambda fig: charts.draw_indicator(fig, series))


class IndicatorPage(QWidget):
    """指标 tab: every indicator of the plan, with its latest actual; the selected one charted."""

    HEADERS = ("指标", "目标", "最新实际", "是否达标")
    NAME_MIN_CHARS = 12  # an indicator's name shows at least this much (elided in the middle, whole as tooltip)

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("indicatorPage")
        self.ctx = ctx
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(self.HEADERS)
        self.tree = QTreeView(objectName="indicatorTree")
        self.tree.setModel(self.model)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.chart = IndicatorChart("指标")
        self.chart.choice.hide()  # chosen in the list on the left
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="indicatorSplitter")
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.chart)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([560, 700])
        self.chart.setMinimumWidth(20 * self.fontMetrics().horizontalAdvance("国"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self.tree.selectionModel().currentRowChanged.connect(self._selected)
        self._rows: list[dict] = []

    def reload(self, tree) -> None:
        from qjgb_desktop.services.progress.indicators import indicator_rows

        self.ctx.read(lambda s: indicator_rows(s, None, tree), lambda rows: self._show(rows, tree.years, tree),
                      key="indicator-page")

    def _show(self, rows: list[dict], years: list[int], tree=None) -> None:
        self._rows = rows
        self.chart.set_rows(rows, years)
        self.model.setHorizontalHeaderLabels(["指标", f"目标（{'/'.join(str(y)[2:] for y in years)}年）", "最新实际",
                                              "是否达标"])
        selected = self.tree.currentIndex().siblingAtColumn(0).data(RowRole)
        self.model.removeRows(0, self.model.rowCount())
        groups: dict[int, QStandardItem] = {}
        for row in rows:
            if row["measure"] not in groups:
                measure = tree.measure(row["measure"]) if tree is not None else None
                title = f"措施{row['measure']}" + (f" {measure.title}" if measure else "")
                head = QStandardItem(title)
                head.setToolTip(title)
                groups[row["measure"]] = head
                self.model.appendRow([head] + [QStandardItem("") for _ in self.HEADERS[1:]])
                self.tree.setFirstColumnSpanned(self.model.rowCount() - 1, QModelIndex(), True)
            latest = row["latest"]
            name = QStandardItem(row["name"])
            name.setData(row, RowRole)
            name.setToolTip(f"措施{row['measure']} · {row['name']}（{row['unit']}）\n目标：{row['targets_text']}")
            target = QStandardItem(self._targets_short(row, years))
            target.setToolTip(row["targets_text"])
            actual = QStandardItem(f"{latest['value']:g}{row['unit']}" if latest else "未录入")
            actual.setToolTip(f"截至 {latest['as_of']}" if latest else "尚未录入实际值")
            met = {True: "✓ 达标", False: "✕ 未达标", None: "—"}[row["met"]]
            groups[row["measure"]].appendRow([name, target, actual, QStandardItem(met)])
        self.tree.expandAll()
        self._fit()
        if selected:
            self._reselect(selected["indicator_id"])

    @staticmethod
    def _targets_short(row: dict, years: list[int]) -> str:
        """≥21 / 22 / 23 %: each year's target in the years' order (the header names the years)."""
        sign = {">=": "≥", "<=": "≤", "=": "="}.get(row["comparator"], "")
        values = [row["targets"].get(str(y)) for y in years]
        if None in values:  # a year without a target: each figure carries its own sign
            return f"{' / '.join('—' if v is None else f'{sign}{v:g}' for v in values)} {row['unit']}".strip()
        return f"{sign}{' / '.join(f'{v:g}' for v in values)} {row['unit']}".strip()

    def _fit(self) -> None:
        """The list keeps names readable and figures whole: the splitter cannot squeeze it below that."""
        fm = self.tree.fontMetrics()
        header = self.tree.header()
        figures = sum(max(header.sectionSizeHint(c), self.tree.sizeHintForColumn(c)) for c in range(1, 4))
        name_min = self.tree.indentation() * 2 + fm.horizontalAdvance("国" * self.NAME_MIN_CHARS + "…") + 12
        chrome = 2 * self.tree.frameWidth() + self.tree.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.tree.setMinimumWidth(name_min + figures + chrome)

    def _reselect(self, indicator_id: int) -> None:
        for r in range(self.model.rowCount()):
            head = self.model.item(r, 0)
            for c in range(head.rowCount()):
                if head.child(c, 0).data(RowRole)["indicator_id"] == indicator_id:
                    self.tree.setCurrentIndex(head.child(c, 0).index())

    def _selected(self, current, _previous) -> None:
        row = current.siblingAtColumn(0).data(RowRole)
        if row is not None:
            self.chart.select(row["indicator_id"])

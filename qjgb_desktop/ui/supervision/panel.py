"""督办 (what needs chasing, by lead department) and 部门 (each department's targets) tabs.

Both are read-only views rebuilt from a status snapshot; double-clicking a row shows that target in the plan.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QStyle,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop.qtmodels.lights import state_icon
from qjgb_desktop.ui.widgets.dialog_parts import year_bar

TargetIdRole = Qt.ItemDataRole.UserRole + 1
DepartmentRole = Qt.ItemDataRole.UserRole + 2


def _item(text, target_id: int | None = None, state: str | None = None, align_right: bool = False,
          tooltip: str | None = None) -> QStandardItem:
    item = QStandardItem(state if state else str(text))
    item.setEditable(False)
    if tooltip:
        item.setToolTip(tooltip)
    if state:
        item.setIcon(state_icon(state))
    if target_id is not None:
        item.setData(target_id, TargetIdRole)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _view(view: QAbstractItemView) -> QAbstractItemView:
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # names: both ends stay; the tooltip has the whole
    if isinstance(view, QTableView):
        view.setWordWrap(False)
    return view


def _name_column_first(header: QHeaderView, name_column: int) -> None:
    """Figures as wide as their contents; the name column takes the rest."""
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(name_column, QHeaderView.ResizeMode.Stretch)


class FollowUpView(QWidget):
    """督办: 滞后, 逾期 and 未填报 targets grouped by lead department, with days since the last report."""

    target_activated = Signal(int)
    HEADERS = ("牵头部门 / 措施", "年度", "状态", "完成度", "最近填报", "未报天数", "佐证")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.summary = QLabel(objectName="followUpSummary")
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(self.HEADERS)
        self.view = _view(QTreeView(objectName="followUpTree"))
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.header().setStretchLastSection(False)
        for col in range(1, len(self.HEADERS)):
            self.view.header().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.view.doubleClicked.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)

    def set_snapshot(self, snap) -> int:
        """Show what needs chasing; returns how many targets that is."""
        from qjgb_desktop.services.progress.status_core import follow_ups

        groups = follow_ups(snap)
        self.model.removeRows(0, self.model.rowCount())
        total = 0
        for dept, items in groups.items():
            total += len(items)
            head = [_item(f"{dept}（{len(items)} 项）")] + [_item("") for _ in self.HEADERS[1:]]
            head[0].setData(dept, DepartmentRole)
            for f in items:
                days = "从未填报" if f.days_since_report is None else f"{f.days_since_report} 天"
                title = f"{f.measure_no}. {f.measure_title}"
                head[0].appendRow([
                    _item(title, f.target_id, tooltip=f"{title} · {f.year}年度目标"), _item(f.year, f.target_id),
                    _item("", f.target_id, state=f.state), _item(f"{f.percent}%", f.target_id, align_right=True),
                    _item(f.last_report.isoformat() if f.last_report else "—", f.target_id),
                    _item(days, f.target_id, align_right=True), _item(f.evidence or "", f.target_id, align_right=True)])
            self.model.appendRow(head)
        self.view.expandAll()
        self.summary.setText(f"{snap.today.isoformat()}（{snap.period.label}）需督办 {total} 项，涉及 {len(groups)} 个牵头部门。"
                             "双击一行可在计划中查看。")
        return total

    def _activated(self, index: QModelIndex) -> None:
        target_id = index.siblingAtColumn(0).data(TargetIdRole)
        if target_id is not None:
            self.target_activated.emit(int(target_id))

    def selected_target_id(self) -> int | None:
        index = self.view.currentIndex()
        target_id = index.siblingAtColumn(0).data(TargetIdRole) if index.isValid() else None
        return int(target_id) if target_id is not None else None


class DepartmentView(QWidget):
    """部门: every department with its figures as lead and as cooperating; its targets on the right.

    Departments are listed as in the filter bar (those that lead first, then by how many measures they are in).
    A year choice says which targets are listed and which year the figures are for; the heading says the same."""

    target_activated = Signal(int)
    HEADERS = ("部门", "牵头 完成度", "牵头 红/黄", "配合 完成度", "配合 红/黄")
    TARGET_HEADERS = ("角色", "措施", "年度", "状态", "完成度", "最近填报", "佐证")
    NAME_MIN_CHARS = 10  # a department name shows at least this much (elided in the middle, whole in its tooltip)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.summary = QLabel(objectName="departmentSummary")
        self.summary.setWordWrap(True)
        self.year = QComboBox(objectName="departmentYear")
        self.year.setToolTip("右侧列出的年度目标，以及左侧完成度和红/黄计数的年度")
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(self.HEADERS)
        self.table = _view(QTableView(objectName="departmentTable"))
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        _name_column_first(self.table.horizontalHeader(), 0)
        self.targets_model = QStandardItemModel(self)
        self.targets_model.setHorizontalHeaderLabels(self.TARGET_HEADERS)
        self.targets = _view(QTableView(objectName="departmentTargets"))
        self.targets.setModel(self.targets_model)
        self.targets.verticalHeader().hide()
        _name_column_first(self.targets.horizontalHeader(), 1)
        self.targets.doubleClicked.connect(
            lambda i: self.target_activated.emit(int(i.siblingAtColumn(0).data(TargetIdRole))))
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="departmentSplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.targets)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(year_bar(self.year, self.summary))
        layout.addWidget(self.splitter, 1)
        self._snap = None
        self._sized = False
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show_department(cur.row()))
        self.year.currentIndexChanged.connect(lambda _i: self._refill())

    def set_snapshot(self, snap, year: int | None = None) -> None:
        self._snap = snap
        if self.year.count() == 0 and snap.tree is not None:
            self.year.blockSignals(True)
            self.year.addItem("全部年度", None)
            for y in snap.tree.years:
                self.year.addItem(f"{y}年", y)
            self.year.blockSignals(False)
        if year is not None:
            self.year.setCurrentIndex(max(0, self.year.findData(year)))
        self._refill()

    def figures_year(self) -> int:
        """The year of the figures on the left: the one chosen, or under 全部年度 the snapshot's (this year)."""
        return self.year.currentData() or self._snap.year

    def _refill(self) -> None:
        from qjgb_desktop.services.charts.data import department_rollups
        from qjgb_desktop.services.plan.query import departments_by_load

        snap = self._snap
        if snap is None:
            return
        current = self.selected_department()
        figures = department_rollups(snap, self.figures_year())
        loads = {d.name: d for d in departments_by_load(snap.tree)} if snap.tree else {}
        self.model.removeRows(0, self.model.rowCount())
        for name in list(loads) or list(figures):
            lead, coop = figures[name]["lead"], figures[name]["cooperating"]
            load = loads.get(name)
            tip = name + (f"\n牵头 {load.lead} 项措施，配合 {load.cooperating} 项" if load else "")
            row = [_item(name, tooltip=tip),
                   _item(f"{lead.percent:g}%（{lead.count}项）" if lead.count else "—", align_right=True),
                   _item(f"{lead.red} / {lead.yellow}" if lead.count else "—", align_right=True),
                   _item(f"{coop.percent:g}%（{coop.count}项）" if coop.count else "—", align_right=True),
                   _item(f"{coop.red} / {coop.yellow}" if coop.count else "—", align_right=True)]
            row[0].setData(name, DepartmentRole)
            self.model.appendRow(row)
        chosen = self.year.currentData()
        years = snap.tree.years if snap.tree else [snap.year]
        if chosen:
            self.summary.setText(f"{chosen}年度：各部门的年度目标和完成度（红 = 滞后或逾期，黄 = 关注）。"
                                 "双击右侧一行可在计划中查看。")
        else:
            self.summary.setText(f"{years[0]}–{years[-1]}年全部年度目标（右侧）；左侧完成度和红/黄为 {snap.year}年度"
                                 "（红 = 滞后或逾期，黄 = 关注）。双击右侧一行可在计划中查看。")
        self.targets.setColumnHidden(2, bool(chosen))  # one year: the year column would only repeat it
        names = [self.model.item(r, 0).data(DepartmentRole) for r in range(self.model.rowCount())]
        self.table.selectRow(names.index(current) if current in names else 0)
        self._show_department(self.table.currentIndex().row())
        self._fit()

    def _fit(self) -> None:
        """The list keeps its names readable and its figures whole; the splitter cannot squeeze it below that."""
        fm = self.table.fontMetrics()
        name_min = fm.horizontalAdvance("国" * self.NAME_MIN_CHARS + "…") + 12
        header = self.table.horizontalHeader()
        numbers = sum(max(header.sectionSizeHint(c), self.table.sizeHintForColumn(c))
                      for c in range(1, self.model.columnCount()))
        name_need = max(name_min, self.table.sizeHintForColumn(0))
        chrome = 2 * self.table.frameWidth() + self.table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.table.setMinimumWidth(name_min + numbers + chrome)
        theader = self.targets.horizontalHeader()
        tnumbers = sum(max(theader.sectionSizeHint(c), self.targets.sizeHintForColumn(c))
                       for c in range(self.targets_model.columnCount())
                       if c != 1 and not self.targets.isColumnHidden(c))
        self.targets.setMinimumWidth(fm.horizontalAdvance("20. " + "国" * 12 + "…") + 12 + tnumbers + chrome)
        if not self._sized and self.splitter.isVisible():  # first time on screen: names whole if there is room
            self._sized = True
            left = name_need + numbers + chrome
            self.splitter.setSizes([left, max(1, self.splitter.width() - left)])

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._snap is not None and not self._sized:
            QTimer.singleShot(0, self._fit)  # once the layout has given the splitter its width

    def selected_department(self) -> str | None:
        index = self.table.currentIndex()
        return index.siblingAtColumn(0).data(DepartmentRole) if index.isValid() else None

    def _show_department(self, row: int) -> None:
        from qjgb_desktop.services.progress.status_core import department_targets

        self.targets_model.removeRows(0, self.targets_model.rowCount())
        if self._snap is None or row < 0:
            return
        name = self.model.item(row, 0).data(DepartmentRole)
        for t in department_targets(self._snap, self.year.currentData()).get(name, []):
            title = f"{t.measure_no}. {t.measure_title}"
            self.targets_model.appendRow([
                _item("牵头" if t.role == "lead" else "配合", t.target_id),
                _item(title, t.target_id, tooltip=f"{title} · {t.year}年度目标"), _item(t.year, t.target_id),
                _item("", t.target_id, state=t.state), _item(f"{t.percent}%", t.target_id, align_right=True),
                _item(t.last_report.isoformat() if t.last_report else "—", t.target_id),
                _item(t.evidence or "", t.target_id, align_right=True)])

"""督办 (what needs chasing, by lead department) and 部门 (each department's targets) tabs.

Both are read-only views rebuilt from a status snapshot; double-clicking a row shows that target in the plan.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..qtmodels.lights import state_icon

TargetIdRole = Qt.ItemDataRole.UserRole + 1
DepartmentRole = Qt.ItemDataRole.UserRole + 2


def _item(text, target_id: int | None = None, state: str | None = None, align_right: bool = False) -> QStandardItem:
    item = QStandardItem(state if state else str(text))
    item.setEditable(False)
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
    return view


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
        from ..services.status import follow_ups

        groups = follow_ups(snap)
        self.model.removeRows(0, self.model.rowCount())
        total = 0
        for dept, items in groups.items():
            total += len(items)
            head = [_item(f"{dept}（{len(items)} 项）")] + [_item("") for _ in self.HEADERS[1:]]
            head[0].setData(dept, DepartmentRole)
            for f in items:
                days = "从未填报" if f.days_since_report is None else f"{f.days_since_report} 天"
                head[0].appendRow([
                    _item(f"{f.measure_no}. {f.measure_title}", f.target_id), _item(f.year, f.target_id),
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


class DepartmentView(QWidget):
    """部门: every department with its figures as lead and as cooperating; its targets on the right."""

    target_activated = Signal(int)
    HEADERS = ("部门", "牵头 完成度", "牵头 红/黄", "配合 完成度", "配合 红/黄")
    TARGET_HEADERS = ("角色", "措施", "年度", "状态", "完成度", "最近填报", "佐证")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.summary = QLabel(objectName="departmentSummary")
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(self.HEADERS)
        self.table = _view(QTableView(objectName="departmentTable"))
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.targets_model = QStandardItemModel(self)
        self.targets_model.setHorizontalHeaderLabels(self.TARGET_HEADERS)
        self.targets = _view(QTableView(objectName="departmentTargets"))
        self.targets.setModel(self.targets_model)
        self.targets.verticalHeader().hide()
        self.targets.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.targets.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.targets.doubleClicked.connect(
            lambda i: self.target_activated.emit(int(i.siblingAtColumn(0).data(TargetIdRole))))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.targets)
        splitter.setSizes([480, 860])
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self._snap = None
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show_department(cur.row()))

    def set_snapshot(self, snap, year: int | None = None) -> None:
        self._snap = snap
        self._year = year or snap.year
        current = self.selected_department()
        self.model.removeRows(0, self.model.rowCount())
        for name, by_role in snap.departments.items():
            lead, coop = by_role["lead"], by_role["cooperating"]
            row = [_item(name),
                   _item(f"{lead.percent:g}%（{lead.count}项）" if lead.count else "—", align_right=True),
                   _item(f"{lead.red} / {lead.yellow}" if lead.count else "—", align_right=True),
                   _item(f"{coop.percent:g}%（{coop.count}项）" if coop.count else "—", align_right=True),
                   _item(f"{coop.red} / {coop.yellow}" if coop.count else "—", align_right=True)]
            row[0].setData(name, DepartmentRole)
            self.model.appendRow(row)
        self.summary.setText(f"{snap.year}年度各部门任务（红 = 滞后或逾期，黄 = 关注）。双击右侧一行可在计划中查看。")
        names = [self.model.item(r, 0).data(DepartmentRole) for r in range(self.model.rowCount())]
        self.table.selectRow(names.index(current) if current in names else 0)

    def selected_department(self) -> str | None:
        index = self.table.currentIndex()
        return index.siblingAtColumn(0).data(DepartmentRole) if index.isValid() else None

    def _show_department(self, row: int) -> None:
        from ..services.status import department_targets

        self.targets_model.removeRows(0, self.targets_model.rowCount())
        if self._snap is None or row < 0:
            return
        name = self.model.item(row, 0).data(DepartmentRole)
        for t in department_targets(self._snap).get(name, []):
            self.targets_model.appendRow([
                _item("牵头" if t.role == "lead" else "配合", t.target_id),
                _item(f"{t.measure_no}. {t.measure_title}", t.target_id), _item(t.year, t.target_id),
                _item("", t.target_id, state=t.state), _item(f"{t.percent}%", t.target_id, align_right=True),
                _item(t.last_report.isoformat() if t.last_report else "—", t.target_id),
                _item(t.evidence or "", t.target_id, align_right=True)])

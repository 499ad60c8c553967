"""The filter bar above the tree: department (and its role), year, and a keyword box that filters as you type."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from ..qtmodels.plan_filter import ROLE_ANY, ROLE_COOPERATING, ROLE_LEAD

ROLE_CHOICES = ((ROLE_ANY, "牵头或配合"), (ROLE_LEAD, "仅牵头"), (ROLE_COOPERATING, "仅配合"))


class FilterBar(QWidget):
    department_changed = Signal(object, str)  # name or None, role
    year_changed = Signal(object)  # int or None
    keyword_changed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.department = QComboBox(objectName="departmentFilter")
        self.department.setToolTip("只显示该部门牵头或配合的措施")
        self.department.setMinimumContentsLength(12)
        self.department.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.role = QComboBox(objectName="roleFilter")
        for key, label in ROLE_CHOICES:
            self.role.addItem(label, key)
        self.year = QComboBox(objectName="yearFilter")
        self.keyword = QLineEdit(objectName="keywordFilter")
        self.keyword.setPlaceholderText("搜索标题和目标内容…")
        self.keyword.setClearButtonEnabled(True)
        self.clear = QPushButton("清除筛选", objectName="clearFilters")

        layout.addWidget(QLabel("部门"))
        layout.addWidget(self.department)
        layout.addWidget(self.role)
        layout.addWidget(QLabel("年度"))
        layout.addWidget(self.year)
        layout.addWidget(self.keyword, 1)
        layout.addWidget(self.clear)

        self.department.currentIndexChanged.connect(self._emit_department)
        self.role.currentIndexChanged.connect(self._emit_department)
        self.year.currentIndexChanged.connect(lambda _i: self.year_changed.emit(self.year.currentData()))
        self.keyword.textChanged.connect(self.keyword_changed)
        self.clear.clicked.connect(self.reset)

    def set_choices(self, departments: list[str], years: list[int]) -> None:
        for combo in (self.department, self.year):
            combo.blockSignals(True)
            combo.clear()
        self.department.addItem("全部部门", None)
        for name in departments:
            self.department.addItem(name, name)
        self.year.addItem("全部年度", None)
        for y in years:
            self.year.addItem(f"{y}年", y)
        for combo in (self.department, self.year):
            combo.blockSignals(False)

    def select_department(self, name: str | None, role: str = ROLE_ANY) -> None:
        self.role.setCurrentIndex(max(0, self.role.findData(role)))
        self.department.setCurrentIndex(max(0, self.department.findData(name)))

    def select_year(self, year: int | None) -> None:
        self.year.setCurrentIndex(max(0, self.year.findData(year)))

    def reset(self) -> None:
        self.keyword.clear()
        self.select_year(None)
        self.select_department(None)

    def _emit_department(self, _index: int) -> None:
        self.department_changed.emit(self.department.currentData(), self.role.currentData())

"""The filter bar above the tree: department (and its role), year, and a keyword box that filters as you type."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from qjgb_desktop.qtmodels.plan_filter import ROLE_ANY, ROLE_COOPERATING, ROLE_LEAD

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

    def set_choices(self, departments: list, years: list[int]) -> None:
        """departments: names, or services.plan_query.DepartmentLoad in the order to list them (then grouped under
        牵头部门 and 配合部门, each name with its counts as tooltip)."""
        for combo in (self.department, self.year):
            combo.blockSignals(True)
            combo.clear()
        self.department.addItem("全部部门", None)
        loads = [d for d in departments if not isinstance(d, str)]
        group = None
        for entry in departments:
            if isinstance(entry, str):
                self.department.addItem(entry, entry)
                continue
            leads = entry.lead > 0
            if group != leads:  # a heading that cannot be chosen, so the order explains itself
                group = leads
                n = sum((d.lead > 0) == leads for d in loads)
                self._add_heading(f"—— 牵头部门（{n}）按牵头措施数 ——" if leads else
                                  f"—— 配合部门（{n}）按参与措施数 ——")
            self.department.addItem(entry.name, entry.name)
            tip = f"牵头 {entry.lead} 项措施，配合 {entry.cooperating} 项" if entry.lead else \
                f"配合 {entry.cooperating} 项措施"
            self.department.setItemData(self.department.count() - 1, f"{entry.name}：{tip}",
                                        Qt.ItemDataRole.ToolTipRole)
        self.year.addItem("全部年度", None)
        for y in years:
            self.year.addItem(f"{y}年", y)
        for combo in (self.department, self.year):
            combo.blockSignals(False)
        # The list is wider than the box: headings and long names are read whole there.
        fm = self.department.fontMetrics()
        widest = max((fm.horizontalAdvance(self.department.itemText(i)) for i in range(self.department.count())),
                     default=0)
        self.department.view().setMinimumWidth(widest + 4 * fm.averageCharWidth() + 20)

    def _add_heading(self, text: str) -> None:
        self.department.addItem(text)
        item = self.department.model().item(self.department.count() - 1)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        font = item.font()
        font.setBold(True)
        item.setFont(font)

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

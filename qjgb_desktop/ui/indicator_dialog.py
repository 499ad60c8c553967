"""录入指标实际值: an indicator's actual value as of a date, entered on its own (not with a report)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from ..services.plan_query import MeasureNode

COMPARATOR_TEXT = {">=": "≥", "<=": "≤", "=": "="}


class IndicatorValueDialog(QDialog):
    def __init__(self, measure: MeasureNode, today: date, submit, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("indicatorValueDialog")
        self.setWindowTitle(f"录入指标实际值 · 措施{measure.no}")
        self._submit = submit
        self.indicator = QComboBox(objectName="indicator")
        for ind in measure.indicators:
            goals = "，".join(f"{y}年{COMPARATOR_TEXT[ind.comparator]}{v:g}" for y, v in sorted(ind.targets.items()))
            self.indicator.addItem(f"{ind.name}（{ind.unit}）  目标：{goals}", ind.id)
        self.value = QLineEdit(objectName="value")
        self.value.setPlaceholderText("数字，如 96.8")
        self.as_of = QDateEdit(objectName="asOf")
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy-MM-dd")
        self.as_of.setDate(QDate(today.year, today.month, today.day))
        self.note = QLineEdit(objectName="note")
        self.note.setPlaceholderText("数据来源或说明（可选）")
        self.errors = QLabel(objectName="indicatorErrors")
        self.errors.setStyleSheet("color:#B23B00;")
        self.errors.setWordWrap(True)
        self.errors.hide()
        form = QFormLayout()
        form.addRow("指标", self.indicator)
        form.addRow("实际值", self.value)
        form.addRow("截至日期", self.as_of)
        form.addRow("说明", self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存 (Enter)")
        buttons.button(QDialogButtonBox.StandardButton.Save).setDefault(True)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.errors)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(640, 220)
        self.value.setFocus()

    def accept(self) -> None:
        from ..services.progress import ProgressError

        d = self.as_of.date()
        try:
            self._submit(self.indicator.currentData(), self.value.text(), date(d.year(), d.month(), d.day()),
                         self.note.text())
        except ProgressError as exc:
            self.errors.setText(f"未保存：{exc}")
            self.errors.show()
            return
        super().accept()

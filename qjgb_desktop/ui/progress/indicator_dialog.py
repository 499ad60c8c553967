"""录入指标实际值: an indicator's actual value as of a date, entered on its own (not with a report)."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QVBoxLayout

from qjgb_desktop.services.plan.query import MeasureNode
from qjgb_desktop.ui.widgets.dialog_parts import GuardedDialog, date_field, error_banner, picked_date, save_cancel

COMPARATOR_TEXT = {">=": "≥", "<=": "≤", "=": "="}


class IndicatorValueDialog(GuardedDialog):
    """The value is typed as text and kept as typed; what is not a number is refused at save, with the reason.
    Esc or 取消 with a value or note typed asks first."""

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
        self.as_of = date_field(today, "asOf")
        self.note = QLineEdit(objectName="note")
        self.note.setPlaceholderText("数据来源或说明（可选）")
        self.errors = error_banner("indicatorErrors")
        form = QFormLayout()
        form.addRow("指标", self.indicator)
        form.addRow("实际值", self.value)
        form.addRow("截至日期", self.as_of)
        form.addRow("说明", self.note)
        buttons = save_cancel(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.errors)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(640, 220)
        self.value.setFocus()
        self.remember_state()

    def form_state(self) -> object:
        return self.indicator.currentIndex(), self.value.text(), picked_date(self.as_of), self.note.text()

    def accept(self) -> None:
        from qjgb_desktop.errors import UserError
        from qjgb_desktop.services.progress.reports import ProgressError

        try:
            self._submit(self.indicator.currentData(), self.value.text(), picked_date(self.as_of), self.note.text())
        except (ProgressError, UserError) as exc:
            self.errors.setText(f"未保存：{exc}")
            self.errors.show()
            return
        super().accept()

"""The progress report form (填报进展): fast to fill, never loses what was typed.

Enter (in a one-line field) or Ctrl+Enter (anywhere) saves; Tab goes through the fields in reading order, through
the indicator values one by one and on to 保存. A refused save lists every problem at the top, marks the fields
concerned and keeps everything as typed; a completion typed beyond 0–100 is refused where it is typed, and said so.
Esc, 取消 or closing the window with unsaved text asks first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop.domain.status import R_DONE, R_NOT_BEGUN, REPORT_STATUSES
from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.plan.query import TargetNode
from qjgb_desktop.ui.widgets.dialog_parts import (
    BoundedSpinBox,
    GuardedDialog,
    NumberField,
    date_field,
    error_banner,
    picked_date,
    save_cancel,
)

ERROR_STYLE = "border: 1px solid #D55E00;"
COMPARATOR_TEXT = {">=": "≥", "<=": "≤", "=": "="}


def _text_box(placeholder: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)
    box.setFixedHeight(66)
    return box


class ValueTable(QTableWidget):
    """The indicator values inside the form. A plain table keeps Tab to itself (cell after cell, round and round),
    so 保存 could not be reached by keyboard; here Tab goes from one 实际值 cell to the next and after the last
    one on to the next field (Shift+Tab backwards likewise)."""

    VALUE_COLUMN = 2

    def _step(self, forward: bool) -> QModelIndex:
        current = self.currentIndex()
        if current.isValid() and current.column() == self.VALUE_COLUMN:
            row = current.row() + (1 if forward else -1)
        else:
            row = 0 if forward else self.rowCount() - 1
        return self.model().index(row, self.VALUE_COLUMN) if 0 <= row < self.rowCount() else QModelIndex()

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's name
        focus = QApplication.focusWidget()
        if focus is not None and (focus is self or self.isAncestorOf(focus)):
            target = self._step(next)
            if target.isValid():
                self.setCurrentIndex(target)  # the CurrentChanged trigger opens its editor
                return True
        return QWidget.focusNextPrevChild(self, next)

    def closeEditor(self, editor, hint) -> None:
        """Tab in a cell's editor: the next value cell, or out of the table after the last."""
        Hint = QAbstractItemDelegate.EndEditHint
        if hint in (Hint.EditNextItem, Hint.EditPreviousItem):
            forward = hint == Hint.EditNextItem
            target = self._step(forward)
            super().closeEditor(editor, Hint.NoHint)
            if target.isValid():
                self.setCurrentIndex(target)
            else:
                QWidget.focusNextPrevChild(self, forward)
            return
        super().closeEditor(editor, hint)

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        reason = event.reason()
        if reason in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason) and self.rowCount():
            self.setCurrentIndex(QModelIndex())
            self.setCurrentIndex(self._step(reason == Qt.FocusReason.TabFocusReason))


class ReportForm(GuardedDialog):
    """`submit(report_input, indicator_values)` saves or raises services.progress.ProgressError."""

    def __init__(self, target: TargetNode, *, period: str, periods: list[str], report_date: date,
                 department: str, departments: list[str], reporter: str, status: str = "正常推进", percent: int = 0,
                 submit: Callable[[ReportInput, dict[int, str]], object], base=None, parent: QWidget | None = None,
                 user_department: str | None = None):
        super().__init__(parent)
        if user_department is None:  # the department the user named at the first start or in 设置
            user_department = getattr(getattr(parent, "ctx", None), "department", "")
        if base is None and user_department in departments:
            department = user_department
        self._submit = submit
        self.saved = None
        self.base = base  # the revision being corrected: after a conflict, the version the user chose to build on
        self.conflict = None
        m = target.measure
        self.setWindowTitle(f"{'修订报告 #' + str(base.id) if base else '填报进展'} · 措施{m.no} · {target.year}年")
        self.setObjectName("reportForm")

        heading = QLabel(f"<b>{m.no}. {m.title}</b> · {target.year}年度目标")
        target_text = QPlainTextEdit(target.text, objectName="targetText")
        target_text.setReadOnly(True)
        target_text.setFixedHeight(72)
        target_text.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        target_text.setStyleSheet("color:#444; background:#f6f6f6;")
        self.errors = error_banner("formErrors")

        self.period = QComboBox(objectName="period")
        self.period.addItems(periods if period in periods else [period, *periods])
        self.period.setCurrentText(period)
        self.report_date = date_field(report_date, "reportDate")
        self.department = QComboBox(objectName="department")
        for i, name in enumerate(departments):
            self.department.addItem(f"{name}（牵头）" if i == 0 else name, name)
        self.department.setCurrentIndex(max(0, self.department.findData(department)))
        self.reporter = QLineEdit(reporter, objectName="reporter")
        self.status = QComboBox(objectName="status")
        self.status.addItems(REPORT_STATUSES)
        self.percent = BoundedSpinBox(objectName="percent")
        self.percent.setRange(0, 100)
        self.percent.setSuffix(" %")
        self.percent_field = NumberField(self.percent, "完成度")
        self.work_done = _text_box("本周期做了什么、取得了什么成效")
        self.problems = _text_box("存在的问题；进度滞后时写明原因")
        self.next_steps = _text_box("下一步计划；进度滞后时写明整改措施")
        self.work_done.setObjectName("done")
        self.problems.setObjectName("problems")
        self.next_steps.setObjectName("next_steps")

        self.indicators = ValueTable(len(m.indicators), 3, objectName="indicatorValues")
        self.indicators.setHorizontalHeaderLabels(["指标", f"{target.year}年目标", "实际值"])
        self.indicators.verticalHeader().hide()
        self.indicators.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.indicators.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self._indicator_ids = []
        for row, ind in enumerate(m.indicators):
            self._indicator_ids.append(ind.id)
            name = QTableWidgetItem(f"{ind.name}（{ind.unit}）")
            goal = ind.targets.get(target.year)
            aim = QTableWidgetItem("—" if goal is None else f"{COMPARATOR_TEXT[ind.comparator]} {goal:g}")
            for item in (name, aim):
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.indicators.setItem(row, 0, name)
            self.indicators.setItem(row, 1, aim)
            self.indicators.setItem(row, 2, QTableWidgetItem(""))
        self.indicators.setFixedHeight(min(28 * (len(m.indicators) + 1) + 4, 150))

        form = QFormLayout()
        form.addRow("填报周期", self.period)
        form.addRow("填报日期", self.report_date)
        form.addRow("填报部门", self.department)
        form.addRow("填报人", self.reporter)
        form.addRow("状态", self.status)
        form.addRow("完成度", self.percent_field)
        form.addRow("工作进展", self.work_done)
        form.addRow("存在问题", self.problems)
        form.addRow("下步计划", self.next_steps)
        if m.indicators:
            form.addRow("指标实际值", self.indicators)
        self._field_widgets = {
            "period": self.period, "report_date": self.report_date, "department": self.department,
            "reporter": self.reporter, "status": self.status, "percent": self.percent, "done": self.work_done,
            "problems": self.problems, "next_steps": self.next_steps, "value": self.indicators,
            "as_of": self.report_date,
        }

        buttons = save_cancel(self)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.accept)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.accept)

        fields = QWidget()
        fields.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(fields)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(target_text)
        layout.addWidget(self.errors)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(680, 680)  # fits a 1366×768 screen; the fields scroll when there are many indicators

        self.status.setCurrentText(status)
        self.percent.setValue(percent)
        if base is not None:
            self.status.setCurrentText(base.status)
            self.percent.setValue(base.percent)
            self.work_done.setPlainText(base.done)
            self.problems.setPlainText(base.problems)
            self.next_steps.setPlainText(base.next_steps)
            self.indicators.setEnabled(False)  # values are corrected on their own, not through a revision
        self.status.currentTextChanged.connect(self._status_changed)
        self.percent.valueChanged.connect(self._percent_changed)
        self.remember_state()
        if reporter:
            self.status.setFocus()
        else:
            self.reporter.setFocus()

    # (No attribute may shadow a QDialog virtual such as done(): Qt would call it and crash.)
    # Keep status and percent consistent as the clerk types, instead of refusing later.
    def _status_changed(self, status: str) -> None:
        if status == R_DONE:
            self.percent.setValue(100)
        elif status == R_NOT_BEGUN:
            self.percent.setValue(0)

    def _percent_changed(self, value: int) -> None:
        if value == 100 and self.status.currentText() != R_DONE:
            self.status.setCurrentText(R_DONE)

    def values(self) -> tuple[ReportInput, dict[int, str]]:
        report = ReportInput(
            period=self.period.currentText(), report_date=picked_date(self.report_date),
            department=self.department.currentData(), reporter=self.reporter.text(),
            status=self.status.currentText(), percent=self.percent.value(), done=self.work_done.toPlainText(),
            problems=self.problems.toPlainText(), next_steps=self.next_steps.toPlainText())
        values = {}
        for row, indicator_id in enumerate(self._indicator_ids):
            text = self.indicators.item(row, 2).text().strip()
            if text:
                values[indicator_id] = text
        return report, values

    def form_state(self) -> object:
        self._commit_cell()
        return self.values()

    def _commit_cell(self) -> None:
        if self.indicators.state() == QAbstractItemView.State.EditingState:
            self.indicators.setCurrentItem(None)  # commit the cell being typed in

    def show_problems(self, messages: list[str], fields: set[str] = frozenset()) -> None:
        self.errors.setText("未保存，请修改：\n" + "\n".join(f"• {m}" for m in messages))
        self.errors.show()
        for name, widget in self._field_widgets.items():
            widget.setStyleSheet(ERROR_STYLE if name in fields else "")

    def accept(self) -> None:
        from qjgb_desktop.errors import UserError
        from qjgb_desktop.services.progress.reports import ProgressError, ReportConflict, ValidationFailed

        self._commit_cell()
        refused = self.percent_field.problem()
        if refused:
            self.show_problems([refused], {"percent"})
            return
        report, values = self.values()
        try:
            self.saved = self._submit(report, values)
        except ValidationFailed as exc:
            self.show_problems([str(p) for p in exc.problems], {p.field for p in exc.problems})
            return
        except ReportConflict as exc:  # someone else saved or deleted it meanwhile: show both, let the user choose
            self._show_conflict(exc, report)
            return
        except (ProgressError, UserError) as exc:  # UserError: refused for the logged-in account (access.py)
            self.show_problems([str(exc)])
            return
        super().accept()

    def _show_conflict(self, conflict, mine) -> None:
        from qjgb_desktop.ui.progress.conflict_dialog import ConflictDialog

        self.conflict = ConflictDialog(conflict, mine, self)
        self.conflict.finished.connect(lambda _r: self._after_conflict(conflict))
        self.conflict.open()

    def _after_conflict(self, conflict) -> None:
        from qjgb_desktop.ui.progress.conflict_dialog import MINE, THEIRS

        choice, self.conflict = self.conflict.choice, None
        current = conflict.current
        if choice == THEIRS:
            QDialog.reject(self)  # the user chose to drop the edits: no second question
            return
        if current.deleted:
            self.show_problems([str(conflict)])
            return
        self.base = current  # from now on the correction builds on the version the user has seen
        self.setWindowTitle(f"修订报告 #{current.id} · 措施{self.windowTitle().split('· 措施', 1)[-1]}")
        if choice == MINE:
            self.accept()
        else:
            self.show_problems([f"已改为在 {current.created_by} 保存的第 {current.revision} 版上修订；"
                                "请核对后再保存（对方的内容见刚才的对比）。"])

"""Pieces every form of the program uses the same way: the error banner, Save/Cancel, a date field, number boxes
that refuse out-of-range input visibly, forms that ask before throwing away what was typed, and the read-only list
of records picked by row."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QTableView,
    QWidget,
)

NOTE_STYLE = "color:#B23B00;"


def error_banner(name: str) -> QLabel:
    """Hidden until a save is refused; then it lists what to fix."""
    label = QLabel(objectName=name)
    label.setWordWrap(True)
    label.setStyleSheet("color:#B23B00; background:#FFF4E5; padding:6px;")
    label.hide()
    return label


def save_cancel(dialog: QDialog, save_text: str = "保存 (Enter)") -> QDialogButtonBox:
    """Save is the default button, so Enter in a one-line field saves."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    save.setText(save_text)
    save.setDefault(True)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def close_only(dialog: QDialog) -> QDialogButtonBox:
    """A lone 关闭 button (Esc too) for a dialog that only shows things."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
    buttons.rejected.connect(dialog.reject)
    return buttons


def year_bar(year: QWidget, summary: QLabel) -> QHBoxLayout:
    """年度 [year] then a summary taking the rest of the line: the top of the year-by-year lists."""
    bar = QHBoxLayout()
    bar.addWidget(QLabel("年度"))
    bar.addWidget(year)
    bar.addWidget(summary, 1)
    return bar


def row_table(model, name: str = "", single: bool = True) -> QTableView:
    """A read-only table of records, picked by whole rows (one at a time unless `single` is False), without row
    numbers: the lists of reports, evidence, 督办 items and accounts."""
    view = QTableView(objectName=name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    return view


def date_field(day: date, name: str) -> QDateEdit:
    edit = QDateEdit(objectName=name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(QDate(day.year, day.month, day.day))
    return edit


def picked_date(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


# -- forms that ask before throwing away what was typed ----------------------------------------------------------

class GuardedDialog(QDialog):
    """Esc, 取消 and the title bar's close button all come through reject(): with unsaved changes it asks first
    (window-modal and without a nested event loop, so nothing blocks). A subclass returns what the user can
    change from form_state() and calls remember_state() once the fields are filled."""

    _clean_state: object = None
    discard_question: QMessageBox | None = None

    def form_state(self) -> object:
        return None

    def remember_state(self) -> None:
        self._clean_state = self.form_state()

    def has_unsaved_changes(self) -> bool:
        return self.form_state() != self._clean_state

    def reject(self) -> None:
        if self.discard_question is not None:  # already asking (the question is window-modal)
            return
        if not self.has_unsaved_changes():
            super().reject()
            return
        box = QMessageBox(QMessageBox.Icon.Question, "放弃未保存的内容？",
                          "本窗口中填写或修改的内容尚未保存。\n关闭后这些内容将丢失。", parent=self)
        box.setObjectName("discardQuestion")
        keep = box.addButton("继续填写", QMessageBox.ButtonRole.RejectRole)
        keep.setObjectName("keepEditing")
        drop = box.addButton("放弃修改并关闭", QMessageBox.ButtonRole.DestructiveRole)
        drop.setObjectName("discardChanges")
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        self.discard_question = box

        def answered(_result: int) -> None:
            self.discard_question = None
            box.deleteLater()
            if box.clickedButton() is drop:
                QDialog.reject(self)
        box.finished.connect(answered)
        box.open()


# -- number boxes: what they cannot hold is refused where it is typed, and said so ----------------------------------

def _validated(box, result, text: str):
    state = result[0] if isinstance(result, tuple) else result
    if state == QValidator.State.Invalid:
        box.refused.emit(text.removeprefix(box.prefix()).removesuffix(box.suffix()).strip())
    return result


class BoundedSpinBox(QSpinBox):
    """A QSpinBox drops a keystroke that would leave its range (150 in 0–100 stays 15) without a word; this one
    emits refused(typed text) so the form can say what was not accepted."""

    refused = Signal(str)

    def validate(self, text: str, pos: int):
        return _validated(self, super().validate(text, pos), text)

    def rule(self) -> str:
        return f"只能填 {self.minimum()}–{self.maximum()} 的整数"


class BoundedDoubleSpinBox(QDoubleSpinBox):
    refused = Signal(str)

    def validate(self, text: str, pos: int):
        return _validated(self, super().validate(text, pos), text)

    def rule(self) -> str:
        kind = "整数" if self.decimals() == 0 else f"数（最多 {self.decimals()} 位小数）"
        return f"只能填 {self.minimum():g}–{self.maximum():g} 的{kind}"


class NumberField(QWidget):
    """A bounded number box with a note beside it. A refused keystroke shows the note and stays `pending` until
    the user edits the box again, so a form refuses to save a value that is not what was typed."""

    def __init__(self, box: BoundedSpinBox | BoundedDoubleSpinBox, label: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.box, self.label, self.pending = box, label, ""
        self.note = QLabel(objectName=f"{box.objectName() or 'number'}Note")
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setWordWrap(True)
        self.note.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        layout.addWidget(self.note, 1)
        self.setFocusProxy(box)
        box.refused.connect(self._refused)
        box.valueChanged.connect(self.clear)
        box.lineEdit().textEdited.connect(self.clear)

    def _refused(self, typed: str) -> None:
        self.pending = typed
        self.note.setText(f"“{typed}”未被接受：{self.box.rule()}；现为 {self.box.text()}")
        self.note.show()

    def clear(self, *_args) -> None:
        if self.pending:
            self.pending = ""
            self.note.hide()

    def problem(self) -> str | None:
        """What to tell at save time while a refused input stands, else None."""
        if not self.pending:
            return None
        return f"{self.label}：输入的“{self.pending}”未被接受（{self.box.rule()}），现为 {self.box.text()}，请改正或重新输入"

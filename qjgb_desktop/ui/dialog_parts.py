"""Pieces every form of the program uses the same way: the error banner, Save/Cancel, a date field."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDateEdit, QDialog, QDialogButtonBox, QLabel


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


def date_field(day: date, name: str) -> QDateEdit:
    edit = QDateEdit(objectName=name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(QDate(day.year, day.month, day.day))
    return edit


def picked_date(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())

"""Forms as a clerk meets them: numbers refused visibly, nothing typed lost on Esc, Tab reaching 保存."""

import pytest
from gui_helpers import select_target
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QPushButton

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def no_forms_left_open():
    """A form left open (or asking) would be found by the next test that looks for an open form."""
    yield
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QDialog) and w.isVisible():
            QDialog.reject(w)  # (the base class's: without asking)


def open_form(qtbot, win, measure=13, year=2026):
    select_target(win, measure, year)
    qtbot.keyClick(win.tree_view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = next(w for w in QApplication.topLevelWidgets()
                if w.objectName() == "reportForm" and w.isVisible() and w.parent() is win)
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is form)
    return form


def test_150_typed_into_completion_is_refused_visibly_and_not_saved(qtbot, window):
    form = open_form(qtbot, window)
    form.percent.setFocus()
    form.percent.selectAll()
    qtbot.keyClicks(form.percent, "150")
    assert form.percent.value() == 15  # the keystroke that would leave 0–100 is refused …
    note = form.percent_field.note
    assert note.isVisible() and "150" in note.text() and "0–100" in note.text()  # … and said so, where it happened
    form.work_done.setPlainText("已完成招聘")
    form.accept()
    assert form.isVisible()  # not saved as 15
    assert "完成度" in form.errors.text() and "150" in form.errors.text()
    assert window.reports.model.rowCount() == 0
    form.percent.selectAll()
    qtbot.keyClicks(form.percent, "100")  # typing again clears the flag
    assert form.percent.value() == 100 and not note.isVisible()
    form.accept()
    assert not form.isVisible(), form.errors.text()


def tab_through(qtbot, form, presses=40, backwards=False):
    """Where the focus goes on each Tab, from the current focus, as names."""
    seen = []
    for _ in range(presses):
        widget = QApplication.focusWidget()
        key = Qt.Key.Key_Backtab if backwards else Qt.Key.Key_Tab
        qtbot.keyClick(widget, key)
        now = QApplication.focusWidget()
        seen.append((now, form.indicators.currentRow() if form.indicators.isAncestorOf(now) else None))
        if now is form.save_button:
            break
    return seen


def test_tab_goes_through_the_form_and_the_indicator_values_to_save(qtbot, window):
    form = open_form(qtbot, window)
    form.period.setFocus()
    seen = tab_through(qtbot, form)
    assert seen[-1][0] is form.save_button, [w.objectName() or type(w).__name__ for w, _ in seen]
    edited_rows = [row for _, row in seen if row is not None]
    assert edited_rows == list(range(form.indicators.rowCount()))  # each 实际值 once, in order, then out
    order = [w for w, _ in seen if w in (form.status, form.percent, form.work_done, form.next_steps)]
    assert order == [form.status, form.percent, form.work_done, form.next_steps]


def test_tab_in_a_cell_being_typed_in_keeps_the_value_and_moves_on(qtbot, window):
    form = open_form(qtbot, window)
    form.next_steps.setFocus()
    qtbot.keyClick(form.next_steps, Qt.Key.Key_Tab)
    assert form.indicators.currentIndex().row() == 0 and form.indicators.currentIndex().column() == 2
    qtbot.keyClicks(QApplication.focusWidget(), "9.5")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert form.indicators.item(0, 2).text() == "9.5"
    assert form.indicators.currentIndex().row() == 1
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Backtab)
    assert form.indicators.currentIndex().row() == 0


def discard_question(form):
    box = form.discard_question
    assert box is not None and box.isVisible(), "no question asked"
    return box


def test_esc_on_a_form_with_text_asks_and_keeps_it(qtbot, window):
    form = open_form(qtbot, window)
    form.work_done.setFocus()
    form.work_done.insertPlainText("完成春季招聘")  # (QTest types ASCII only)
    qtbot.keyClicks(form.work_done, " 30 people")
    qtbot.keyClick(form.work_done, Qt.Key.Key_Escape)
    box = discard_question(form)
    assert "尚未保存" in box.text()
    box.findChild(QPushButton, "keepEditing").click()
    assert form.isVisible() and form.work_done.toPlainText() == "完成春季招聘 30 people"
    assert form.discard_question is None

    cancel = next(b for b in form.findChildren(QPushButton) if b.text() == "取消")
    cancel.click()
    discard_question(form).findChild(QPushButton, "discardChanges").click()
    assert not form.isVisible()
    assert window.reports.model.rowCount() == 0


def test_esc_on_an_untouched_form_closes_it_at_once(qtbot, window):
    form = open_form(qtbot, window)
    qtbot.keyClick(form.status, Qt.Key.Key_Escape)
    assert not form.isVisible() and form.discard_question is None


def test_closing_the_window_of_a_changed_form_asks_too(qtbot, window):
    form = open_form(qtbot, window)
    form.indicators.item(1, 2).setText("9.5")  # an indicator value alone is a change
    form.close()
    assert form.isVisible()
    discard_question(form)


# -- Qt's own texts in Chinese ----------------------------------------------------------------------------------

@pytest.fixture
def chinese_qt(qapp):
    from PySide6.QtCore import QLocale

    from qjgb_desktop import app as app_module

    before = QLocale()
    application = app_module._application()
    yield application
    for translator in getattr(application, "qt_translators", []):
        application.removeTranslator(translator)
    application.qt_translators = []
    QLocale.setDefault(before)


def test_standard_buttons_and_context_menus_are_chinese(chinese_qt):
    from PySide6.QtWidgets import QDialogButtonBox, QLineEdit, QMessageBox

    assert chinese_qt.qt_translators, "qtbase_zh_CN.qm was not loaded"
    Std = QDialogButtonBox.StandardButton
    box = QDialogButtonBox(Std.Cancel | Std.Ok | Std.Close)
    assert box.button(Std.Cancel).text() == "取消"
    assert box.button(Std.Ok).text() == "确定"
    assert box.button(Std.Close).text() == "关闭"
    edit = QLineEdit("文字")
    menu = edit.createStandardContextMenu()
    texts = " ".join(a.text() for a in menu.actions())
    assert "复制" in texts and "粘贴" in texts and "全选" in texts, texts
    menu.deleteLater()
    message = QMessageBox(QMessageBox.Icon.Question, "标题", "内容", QMessageBox.StandardButton.Yes
                          | QMessageBox.StandardButton.No)
    assert message.button(QMessageBox.StandardButton.Yes).text().startswith("是")


def test_the_indicator_value_dialog_asks_before_dropping_a_typed_value(qtbot, window):
    select_target(window, 12, 2026)
    dialog = window.enter_indicator_value()
    qtbot.keyClick(dialog.value, Qt.Key.Key_Escape)  # nothing typed: closes
    assert not dialog.isVisible()
    dialog = window.enter_indicator_value()
    qtbot.keyClicks(dialog.value, "49.1")
    qtbot.keyClick(dialog.value, Qt.Key.Key_Escape)
    assert dialog.isVisible() and dialog.value.text() == "49.1"
    discard_question(dialog).findChild(QPushButton, "discardChanges").click()
    assert not dialog.isVisible()

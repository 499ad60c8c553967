"""Helpers for window tests: let background work settle, find and select rows."""

from PySide6.QtCore import QCoreApplication


def settle(win):
    """Let background jobs finish and deliver their results (they may start further jobs)."""
    for _ in range(100):
        win.ctx.workers.wait()
        QCoreApplication.processEvents()
        if not win.ctx.workers.busy():
            return
    raise AssertionError("background work did not settle")


def open_window(qtbot, db, user=None):
    """The main window over `db`, "today" fixed at GUI_TODAY, shown, started and settled; `user` declared if given."""
    from conftest import GUI_TODAY

    from qjgb_desktop.app import create_main_window, load_tree

    win = create_main_window(load_tree(db), db=db, today=GUI_TODAY)
    if user:
        win.ctx.set_user(user)
    qtbot.addWidget(win)
    win.show()
    win.start()
    settle(win)
    return win


def target_index(win, measure_no, year):
    win.select_measure(measure_no)
    measure = win.tree_view.currentIndex()
    for row in range(win.proxy.rowCount(measure)):
        index = win.proxy.index(row, 0, measure)
        node = index.data()
        if node.startswith(f"{year}年"):
            return index
    raise AssertionError


def select_target(win, measure_no, year):
    index = target_index(win, measure_no, year)
    win.tree_view.setCurrentIndex(index)
    settle(win)
    return index

"""The main window's size, splitters and column widths: sized to the screen, remembered between runs."""

from __future__ import annotations

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QStyle

from qjgb_desktop.domain.status import STATES
from qjgb_desktop.qtmodels.plan_tree import COL_EVIDENCE, COL_LAST, COL_LEAD, COL_PERCENT, COL_STATE, COL_YEAR
from qjgb_desktop.ui.window import view_state

DEFAULT_SIZE = (1280, 720)  # fits a 1366×768 screen with a taskbar

# Splitters as remembered; "2": the layout whose right pane no longer holds the tree narrow starts afresh.
SPLITTER_KEY, RIGHT_SPLITTER_KEY = "window/splitter2", "window/rightSplitter2"


class RememberedLayout:
    """Mixed into MainWindow."""

    def _update_column_samples(self) -> None:
        """The widest texts of the figure columns, so they are sized before the lights arrive (and do not jump)."""
        tree = self.model.tree()
        if tree is None:
            return
        year_label = "" if self.filter_bar.year.currentData() else f"{tree.years[-1]}年 "
        self.tree_view.set_column_samples({
            COL_LEAD: [(m.lead, False) for m in tree.measures()],
            COL_YEAR: [(str(tree.years[-1]), False)],
            COL_PERCENT: [("100%", False), ("99.9%", False)],
            COL_STATE: [(year_label + state, True) for state in STATES],
            COL_LAST: [(f"{tree.years[-1]}-12-31", False)],
            COL_EVIDENCE: [("999", False)],
        })
        self._apply_minimums()

    def _apply_minimums(self) -> None:
        """Sensible splitter minimums: the tree keeps its readable name column with 完成度 and 状态; the details
        keep about 24 characters a line."""
        view = self.tree_view
        frame = 2 * view.frameWidth() + view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.splitter.widget(0).setMinimumWidth(
            view.name_min_width() + view.column_need(COL_PERCENT) + view.column_need(COL_STATE) + frame)
        self.right_splitter.setMinimumWidth(24 * self.fontMetrics().horizontalAdvance("国") + 2 * frame)

    # -- remembered layout -----------------------------------------------------------------------
    def _fit_screen(self) -> None:
        """Never larger than the screen's free area: the default size, or one remembered on a bigger monitor,
        would put the status bar and the right pane off a 1024×700 screen."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        frame = 40  # title bar and borders the window manager adds around the client area
        width, height = min(self.width(), free.width()), min(self.height(), free.height() - frame)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        if not free.contains(self.geometry().topLeft()):
            self.move(free.topLeft())

    def _restore_state(self) -> None:
        geometry = self._settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(*DEFAULT_SIZE)
        self._fit_screen()
        # The right pane's share (47 %) leaves the reports' row of buttons whole at a 1024-wide window.
        for key, splitter, default in ((SPLITTER_KEY, self.splitter, [640, 580]),
                                       (RIGHT_SPLITTER_KEY, self.right_splitter, [380, 260])):
            state = self._settings.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
            else:
                splitter.setSizes(default)

    def save_state(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue(SPLITTER_KEY, self.splitter.saveState())
        self._settings.setValue(RIGHT_SPLITTER_KEY, self.right_splitter.saveState())
        view_state.save(self)
        self._settings.sync()

"""A matplotlib figure inside the window (FigureCanvasQTAgg lives only in ui/): hover shows a bar's values, a
click on a bar reports its key, and the chart can be saved as PNG/SVG/PDF or copied to the clipboard."""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from PySide6.QtCore import Signal
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QToolTip, QVBoxLayout, QWidget

from qjgb_desktop.services.charts import figures as charts


class ChartView(QWidget):
    clicked = Signal(str)  # the gid of the bar clicked

    def __init__(self, name: str, width: float = 6.0, height: float = 3.2, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.figure = charts.new_figure(width, height)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(180)
        self.canvas.mpl_connect("motion_notify_event", self._hover)
        self.canvas.mpl_connect("pick_event", self._picked)
        # Margins are kept in inches: after the window resizes the figure, labels still fit (charts.relayout).
        self.canvas.mpl_connect("resize_event", lambda _e: charts.relayout(self.figure))
        self.save_button = QPushButton("保存图片…")
        self.copy_button = QPushButton("复制")
        for b in (self.save_button, self.copy_button):
            b.setFlat(True)
        self.save_button.clicked.connect(self.save_as)
        self.copy_button.clicked.connect(self.copy)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_button)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(row)

    def redraw(self, draw) -> None:
        """Draw again with draw(figure) (which rebuilds or updates in place); the canvas renders when Qt next
        paints."""
        draw(self.figure)
        charts.relayout(self.figure)
        self.canvas.draw_idle()

    def _hover(self, event) -> None:
        text = charts.hover_text(self.figure, event)  # bars, and labels or titles shown elided
        if text:
            QToolTip.showText(QCursor.pos(), text, self.canvas)
        else:
            QToolTip.hideText()

    def _picked(self, event) -> None:
        gid = event.artist.get_gid()
        if gid:
            self.clicked.emit(str(gid))

    def save_as(self) -> None:
        from qjgb_desktop.ui.widgets.file_dialogs import save_file_name

        name = save_file_name(self, "charts", "保存图表", f"{self.objectName()}.png",
                              "PNG 图片 (*.png);;SVG 矢量图 (*.svg);;PDF 文档 (*.pdf)")
        if not name:
            return
        if not name.lower().endswith((".png", ".svg", ".pdf")):
            name += ".png"
        try:
            charts.save(self.figure, name)
        except OSError as exc:
            QMessageBox.warning(self, "未保存", f"无法保存到“{name}”：{exc.strerror or exc}")

    def copy(self) -> None:
        self.canvas.draw()
        QGuiApplication.clipboard().setPixmap(self.canvas.grab())


def font_notice() -> QLabel | None:
    """A visible notice when no Chinese font is installed (the charts would show boxes)."""
    if charts.setup_fonts():
        return None
    label = QLabel(charts.NO_FONT_NOTICE)
    label.setWordWrap(True)
    label.setStyleSheet("color:#B23B00; background:#FFF4E5; padding:6px;")
    return label

"""Below the details: the selected target's (or measure's) progress reports, newest first, and what can be done
with them: report (Ctrl+N), correct, delete with a reason, see every revision."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from qjgb_desktop.qtmodels.reports import COL_DONE, COL_VERSION, COL_YEAR, ReportRole, ReportsTableModel
from qjgb_desktop.qtmodels.rows import refill_keeping_place, selected_record
from qjgb_desktop.ui.widgets.dialog_parts import close_only, row_table

# 年度 周期 填报日期 填报部门 填报人 状态 完成度 工作进展 版本
COLUMN_WIDTHS = (40, 58, 82, 92, 58, 62, 52, 200, 96)


def report_table(model: ReportsTableModel) -> QTableView:
    view = row_table(model)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    # Fixed starting widths: sizing to contents would measure every row of a long history.
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for col, width in enumerate(COLUMN_WIDTHS):
        header.resizeSection(col, width)
    header.setSectionResizeMode(COL_DONE, QHeaderView.ResizeMode.Stretch)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    return view


class ReportsPanel(QWidget):
    add_requested = Signal()
    correct_requested = Signal(object)
    delete_requested = Signal(object)
    history_requested = Signal(object)
    indicator_requested = Signal()
    files_dropped = Signal(object, list)  # report, [Path]: evidence for that report

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.title = QLabel("进展记录", objectName="reportsTitle")
        self.model = ReportsTableModel(self)
        self.table = report_table(self.model)
        self.table.setObjectName("reportsTable")
        self.table.setColumnHidden(COL_VERSION, True)  # the panel lists current reports; versions in 修订历史
        self.add_button = QPushButton("填报进展 (Ctrl+N)", objectName="addReport")
        self.correct_button = QPushButton("修订", objectName="correctReport")
        self.delete_button = QPushButton("删除…", objectName="deleteReport")
        self.history_button = QPushButton("修订历史", objectName="reportHistory")
        self.indicator_button = QPushButton("录入指标值", objectName="enterIndicator")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.add_button, self.indicator_button, self.correct_button, self.delete_button,
                  self.history_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(buttons)
        layout.addWidget(self.table)

        self.add_button.clicked.connect(self.add_requested)
        self.indicator_button.clicked.connect(self.indicator_requested)
        self.correct_button.clicked.connect(lambda: self._emit(self.correct_requested))
        self.delete_button.clicked.connect(lambda: self._emit(self.delete_requested))
        self.history_button.clicked.connect(lambda: self._emit(self.history_requested))
        self.table.doubleClicked.connect(lambda _i: self._emit(self.history_requested))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.table.setAcceptDrops(True)
        self.table.viewport().setAcceptDrops(True)
        self.table.viewport().installEventFilter(self)
        self.set_reports([], None, can_add=False)

    def eventFilter(self, obj, event) -> bool:
        """Files dropped on a report row become evidence of that report."""
        from PySide6.QtCore import QEvent

        from qjgb_desktop.ui.evidence.evidence_panel import local_files

        if obj is self.table.viewport() and event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove,
                                                             QEvent.Type.Drop):
            index = self.table.indexAt(event.position().toPoint())
            report = index.data(ReportRole) if index.isValid() else None
            files = local_files(event.mimeData())
            if not files or report is None or report.deleted or not report.is_current:
                event.ignore()
                return True
            event.acceptProposedAction()
            if event.type() == QEvent.Type.Drop:
                self.files_dropped.emit(report, files)
            return True
        return super().eventFilter(obj, event)

    def selected_report(self):
        return selected_record(self.table)

    def _emit(self, signal) -> None:
        report = self.selected_report()
        if report is not None:
            signal.emit(report)

    def set_reports(self, reports: list, heading: str | None, can_add: bool, one_year: bool = False) -> None:
        if heading != getattr(self, "_heading", None):  # another target: start at its newest report
            self.table.clearSelection()
        self._heading = heading
        # the same target refreshed (after an edit here or elsewhere): the same report stays selected
        refill_keeping_place(self.table, self.model, reports, lambda r: r.series_id or r.id)
        self.table.setColumnHidden(COL_YEAR, one_year)
        self.title.setText(f"进展记录（{len(reports)}）" + (f" · {heading}" if heading else ""))
        self.add_button.setEnabled(can_add)
        self.indicator_button.setEnabled(can_add)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.selected_report() is not None
        for b in (self.correct_button, self.delete_button, self.history_button):
            b.setEnabled(has)


class HistoryDialog(QDialog):
    """Every revision of one report, newest first, deleted ones included, with who and when."""

    def __init__(self, revisions: list, parent=None) -> None:
        super().__init__(parent)
        first = revisions[-1]
        self.setWindowTitle(f"修订历史 · 报告 #{first.series_id} · 措施{first.measure_no}·{first.year}年")
        self.model = ReportsTableModel(self)
        self.model.set_reports(revisions)
        table = report_table(self.model)
        notes = QLabel("<br>".join(
            f"第{r.revision}版：{r.created_by} 于 {r.created_at:%Y-%m-%d %H:%M} 录入"
            + (f"；{r.deleted_by} 于 {r.deleted_at:%Y-%m-%d %H:%M} 删除，原因：{r.delete_reason}" if r.deleted else "")
            for r in revisions))
        notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(notes)
        layout.addWidget(close_only(self))
        self.resize(900, 360)

"""The plan tree view; files dropped on a target (or a measure) are attached to it as evidence."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QAbstractItemView, QTreeView

from .evidence_panel import local_files


class PlanTreeView(QTreeView):
    files_dropped = Signal(QModelIndex, list)  # proxy index of the row, [Path]

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(True)

    def _row_at(self, event) -> QModelIndex:
        return self.indexAt(event.position().toPoint()).siblingAtColumn(0)

    def dragEnterEvent(self, event) -> None:
        if local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        index = self._row_at(event)
        # Only measures and targets take files (not the five actions).
        if local_files(event.mimeData()) and index.isValid() and index.parent().isValid():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        index = self._row_at(event)
        files = local_files(event.mimeData())
        if files and index.isValid() and index.parent().isValid():
            event.acceptProposedAction()
            self.setCurrentIndex(index)
            self.files_dropped.emit(index, files)
        else:
            event.ignore()

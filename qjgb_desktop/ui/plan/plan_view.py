"""The plan tree view; files dropped on a target (or a measure) are attached to it as evidence.

Its columns fit any width from a 1024×700 window up: the figures (牵头部门, 年度, 完成度, 状态, 最近填报, 佐证) are as
wide as their widest content, the name column takes what is left and never less than a readable minimum (a
measure's number and 12 characters of its title). When even that does not fit, the least needed columns step
aside in a fixed order (年度, 佐证, 最近填报, 牵头部门: each is also in the details and tooltips) and come back
when there is room. Long texts are elided in the middle; the tooltip has the whole text.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
)

from qjgb_desktop.qtmodels.plan_tree import KIND_TARGET, KindRole, YearLabelRole
from qjgb_desktop.ui.evidence.evidence_panel import local_files

NAME_MIN_CHARS = 12  # characters of a measure's title always visible


class StateDelegate(QStyledItemDelegate):
    """The state column: the light's icon and name, and for a measure or task under 全部年度 the year it is for
    ("2026年 未填报"), so a summary row never leaves its year to be guessed."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        label = index.data(YearLabelRole)
        if label and option.text:
            option.text = f"{label} {option.text}"


class NameDelegate(QStyledItemDelegate):
    """Names of tasks and measures elide in the middle (their ends tell them apart); a target's text is a sentence,
    read from its start, so it elides at the end."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        if index.data(KindRole) == KIND_TARGET:
            option.textElideMode = Qt.TextElideMode.ElideRight


class PlanTreeView(QTreeView):
    files_dropped = Signal(QModelIndex, list)  # proxy index of the row, [Path]

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.header().setStretchLastSection(False)
        self.header().setSectionsMovable(False)
        self._name_column = 0
        self._optional: tuple[int, ...] = ()  # columns that step aside when space is short, first first
        self._samples: dict[int, list[tuple[str, bool]]] = {}  # column -> widest contents (text, has icon)
        self._fitting = False
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit_columns)
        self.expanded.connect(self._schedule_fit)

    # -- columns ----------------------------------------------------------------------------------
    def configure_columns(self, name_column: int, optional: tuple[int, ...], delegates: dict | None = None) -> None:
        self._name_column = name_column
        self._optional = optional
        for col, delegate in (delegates or {}).items():
            delegate.setParent(self)
            self.setItemDelegateForColumn(col, delegate)
        header = self.header()
        for col in range(header.count()):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
        self._fit_timer.start()

    def set_column_samples(self, samples: dict[int, list[tuple[str, bool]]]) -> None:
        """The widest texts each column can hold (known before any row has them: lights arrive later)."""
        self._samples = samples
        self._fit_timer.start()

    def setModel(self, model) -> None:
        super().setModel(model)
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted, model.dataChanged):
            signal.connect(self._schedule_fit)  # a bound slot: disconnected when the view goes, unlike a lambda

    def _schedule_fit(self, *_args) -> None:
        self._fit_timer.start()

    def _cell_width(self, text: str, icon: bool) -> int:
        """What the delegate needs for this text (and an icon): its own margins included."""
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.text = text
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
        if icon:
            option.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
            option.decorationSize = self.iconSize() if self.iconSize().isValid() else QSize(16, 16)
        return self.style().sizeFromContents(QStyle.ContentsType.CT_ItemViewItem, option, QSize(), self).width()

    def name_min_width(self) -> int:
        """Room for a measure row's "20. " and NAME_MIN_CHARS characters of its title, after its indentation."""
        depth = 2 if self.rootIsDecorated() else 1  # a measure sits one level below its task
        return self.indentation() * depth + self._cell_width("20. " + "国" * NAME_MIN_CHARS + "…", False)

    def column_need(self, col: int) -> int:
        """The header's width or the widest content's: from the samples when given (cheap, and known before the
        lights arrive), else measured over the rows."""
        need = self.header().sectionSizeHint(col)
        samples = self._samples.get(col)
        for text, icon in samples or []:
            need = max(need, self._cell_width(text, icon))
        if not samples and self.model() is not None and self.model().rowCount():
            need = max(need, self.sizeHintForColumn(col))
        return need

    def fit_columns(self) -> None:
        if self._fitting or self.model() is None:
            return
        self._fitting = True
        try:
            header = self.header()
            names = self._name_column
            others = [c for c in range(header.count()) if c != names]
            need = {c: self.column_need(c) for c in others}
            room = self.viewport().width()
            name_min = self.name_min_width()
            hidden: set[int] = set()
            for col in self._optional:
                if name_min + sum(need[c] for c in others if c not in hidden) <= room:
                    break
                hidden.add(col)
            for col in others:
                self.setColumnHidden(col, col in hidden)
                if col not in hidden:
                    header.resizeSection(col, need[col])
            header.resizeSection(names, max(name_min, room - sum(need[c] for c in others if c not in hidden)))
        finally:
            self._fitting = False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._schedule_fit()

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

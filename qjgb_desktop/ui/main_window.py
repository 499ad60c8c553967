"""The main window: filter bar on top, plan tree on the left, details on the right."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..qtmodels.plan_filter import PlanFilterProxy
from ..qtmodels.plan_tree import COL_LEAD, COL_NAME, COL_YEAR, NodeRole, PlanTreeModel
from ..services.plan_query import MeasureNode, PlanTree
from .detail_panel import DetailPanel
from .filter_bar import FilterBar

DEFAULT_SIZE = (1280, 720)  # fits a 1366×768 screen with a taskbar


class MainWindow(QMainWindow):
    def __init__(self, tree: PlanTree | None, settings: QSettings, data_dir: Path | None = None) -> None:
        super().__init__()
        self._settings = settings
        self._data_dir = data_dir
        self.setWindowTitle("强基固本三年行动计划 · 进展管理")
        self.setObjectName("mainWindow")

        self.model = PlanTreeModel(parent=self)
        self.proxy = PlanFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.filter_bar = FilterBar()
        self.tree_view = QTreeView(objectName="planTree")
        self.tree_view.setModel(self.proxy)
        self.tree_view.setUniformRowHeights(True)
        self.tree_view.setAlternatingRowColors(True)
        self.tree_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.tree_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_LEAD, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_YEAR, QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(COL_LEAD, 110)
        self.detail = DetailPanel()
        self.empty_label = QLabel("没有符合筛选条件的项目。", objectName="emptyLabel")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tree_view)
        left_layout.addWidget(self.empty_label)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 11)
        self.splitter.setStretchFactor(1, 9)
        self.splitter.setChildrenCollapsible(False)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.count_label = QLabel()
        self.statusBar().addPermanentWidget(self.count_label)

        self._build_menus()
        self.filter_bar.department_changed.connect(self._on_department)
        self.filter_bar.year_changed.connect(self._on_filter(self.proxy.set_year))
        self.filter_bar.keyword_changed.connect(self._on_filter(self.proxy.set_keyword))
        self.filter_bar.keyword_changed.connect(self.detail.set_highlight)
        self.tree_view.selectionModel().currentChanged.connect(self._on_current_changed)

        self.set_tree(tree)
        self._restore_state()

    # -- content ---------------------------------------------------------------------------------
    def set_tree(self, tree: PlanTree | None) -> None:
        if tree:
            self.model.set_tree(tree)
        self.detail.set_tree(tree)
        if tree:
            self.filter_bar.set_choices(tree.departments, tree.years)
        self._after_filter()
        if self._data_dir:
            self.statusBar().showMessage(f"数据文件夹：{self._data_dir}")

    def select_measure(self, no: int) -> bool:
        source = self.model.measure_index(no)
        index = self.proxy.mapFromSource(source)
        if not index.isValid():
            return False
        self.tree_view.setCurrentIndex(index)
        self.tree_view.expand(index)
        self.tree_view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def current_node(self):
        index = self.tree_view.currentIndex()
        return index.data(NodeRole) if index.isValid() else None

    def visible_measure_numbers(self) -> list[int]:
        """The measures the tree shows now, in order (used by tests and the status bar)."""
        out = []
        for ar in range(self.proxy.rowCount()):
            action = self.proxy.index(ar, 0)
            for mr in range(self.proxy.rowCount(action)):
                node = self.proxy.index(mr, 0, action).data(NodeRole)
                if isinstance(node, MeasureNode):
                    out.append(node.no)
        return out

    # -- filters ---------------------------------------------------------------------------------
    def _on_filter(self, setter):
        def apply(value) -> None:
            setter(value)
            self._after_filter()
        return apply

    def _on_department(self, name, role) -> None:
        self.proxy.set_department(name, role)
        self._after_filter()

    def _after_filter(self) -> None:
        if self.proxy.is_filtering():
            self.tree_view.expandAll()
        else:
            self.tree_view.collapseAll()
            for row in range(self.proxy.rowCount()):
                self.tree_view.expand(self.proxy.index(row, 0))
        visible = self.visible_measure_numbers()
        total = sum(len(a.measures) for a in self.model.tree().actions) if self.model.tree() else 0
        self.empty_label.setVisible(self.proxy.is_filtering() and not visible)
        self.count_label.setText(f"显示 {len(visible)} / {total} 项措施")
        if not self.tree_view.currentIndex().isValid():
            self.detail.show_overview()

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.detail.show_node(current.data(NodeRole) if current.isValid() else None)

    # -- menus -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        open_dir = QAction("打开数据文件夹", self)
        open_dir.triggered.connect(self._open_data_dir)
        file_menu.addAction(open_dir)
        file_menu.addSeparator()
        quit_action = QAction("退出(&X)", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu("视图(&V)")
        find = QAction("搜索", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: (self.filter_bar.keyword.setFocus(), self.filter_bar.keyword.selectAll()))
        view_menu.addAction(find)
        for label, slot in (("全部展开", self.tree_view.expandAll), ("全部折叠", self.tree_view.collapseAll),
                            ("清除筛选", self.filter_bar.reset)):
            action = QAction(label, self)
            action.triggered.connect(slot)
            view_menu.addAction(action)

        help_menu = self.menuBar().addMenu("帮助(&H)")
        about = QAction("关于", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _open_data_dir(self) -> None:
        if self._data_dir:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._data_dir)))

    def _about(self) -> None:
        QMessageBox.about(self, "关于", f"<b>强基固本三年行动计划 · 进展管理</b> {__version__}<br>"
                          f"离线运行，数据保存在：<br>{self._data_dir or ''}")

    # -- remembered layout -----------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self._settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(*DEFAULT_SIZE)
        splitter = self._settings.value("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([DEFAULT_SIZE[0] * 11 // 20, DEFAULT_SIZE[0] * 9 // 20])
        header = self._settings.value("window/treeHeader")
        if isinstance(header, QByteArray) and not header.isEmpty():
            self.tree_view.header().restoreState(header)

    def save_state(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/splitter", self.splitter.saveState())
        self._settings.setValue("window/treeHeader", self.tree_view.header().saveState())
        self._settings.sync()

    def closeEvent(self, event) -> None:
        self.save_state()
        super().closeEvent(event)

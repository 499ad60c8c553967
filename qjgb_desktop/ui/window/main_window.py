"""The main window: tabs 计划 (filter bar, plan tree, details and reports), 督办 and 部门."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop.qtmodels.plan_filter import PlanFilterProxy
from qjgb_desktop.qtmodels.plan_tree import (
    COL_EVIDENCE,
    COL_LAST,
    COL_LEAD,
    COL_NAME,
    COL_STATE,
    COL_YEAR,
    NodeRole,
    PlanTreeModel,
)
from qjgb_desktop.services.plan.query import MeasureNode, PlanTree, TargetNode, departments_by_load
from qjgb_desktop.ui.evidence.evidence_panel import EvidencePanel
from qjgb_desktop.ui.plan.detail_panel import DetailPanel
from qjgb_desktop.ui.plan.filter_bar import FilterBar
from qjgb_desktop.ui.plan.plan_view import NameDelegate, PlanTreeView, StateDelegate
from qjgb_desktop.ui.progress.reports_panel import ReportsPanel
from qjgb_desktop.ui.supervision.assessment_panel import AssessmentPanel
from qjgb_desktop.ui.supervision.calendar_panel import CalendarPanel
from qjgb_desktop.ui.supervision.items import SupervisionItemsPanel
from qjgb_desktop.ui.supervision.panel import DepartmentView, FollowUpView
from qjgb_desktop.ui.widgets.lazy_tab import LazyTab
from qjgb_desktop.ui.window import view_state
from qjgb_desktop.ui.window.context import AppContext
from qjgb_desktop.ui.window.entry_actions import EntryActions
from qjgb_desktop.ui.window.layout import RememberedLayout
from qjgb_desktop.ui.window.menus import Menus


def _scrolled(widget: QWidget) -> QScrollArea:
    """A panel that scrolls sideways when its pane is narrower than its widest row, instead of holding the pane."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


class MainWindow(EntryActions, Menus, RememberedLayout, QMainWindow):
    def __init__(self, tree: PlanTree | None, settings: QSettings, data_dir: Path | None = None,
                 ctx: AppContext | None = None) -> None:
        super().__init__()
        self._settings = settings
        self._data_dir = data_dir
        self.ctx = ctx or AppContext(settings=settings, parent=self)
        self.setWindowTitle("强基固本三年行动计划 · 进展管理")
        self.setObjectName("mainWindow")

        self.model = PlanTreeModel(parent=self)
        self.proxy = PlanFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.filter_bar = FilterBar()
        self.tree_view = PlanTreeView()
        self.tree_view.setObjectName("planTree")
        self.tree_view.setModel(self.proxy)
        self.tree_view.setUniformRowHeights(True)
        self.tree_view.setAlternatingRowColors(True)
        self.tree_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # 年度 steps aside first (a target's name starts with its year; a measure's state names its year),
        # then 佐证, 最近填报, 牵头部门; 完成度 and 状态 always stay.
        self.tree_view.configure_columns(COL_NAME, (COL_YEAR, COL_EVIDENCE, COL_LAST, COL_LEAD),
                                         {COL_NAME: NameDelegate(), COL_STATE: StateDelegate()})
        self.detail = DetailPanel()
        self.reports = ReportsPanel()
        self.evidence = EvidencePanel(self.ctx)
        self.bottom_tabs = QTabWidget(objectName="bottomTabs")
        # In scroll areas: their rows of buttons then never hold the splitter back (it can always be widened).
        self.bottom_tabs.addTab(_scrolled(self.reports), "进展记录")
        self.bottom_tabs.addTab(_scrolled(self.evidence), "佐证材料")
        self.indicator_chart = LazyTab(self._make_indicator_chart)
        self.bottom_tabs.addTab(self.indicator_chart, "指标图")
        self.target_items = SupervisionItemsPanel(self.ctx, target_mode=True)
        self.target_items.setObjectName("targetSupervision")
        self.bottom_tabs.addTab(self.target_items, "督办")
        self._indicator_rows: tuple[list, list] | None = None
        # Said when a jump from 督办, 部门 or 总览 had to clear a filter to show its row (with the way back).
        self.filter_notice = QLabel(objectName="filterNotice")
        self.filter_notice.setWordWrap(True)
        self.filter_notice.setStyleSheet("background:#FFF4E5; color:#5A3B00; padding:4px 6px;")
        self.filter_notice.linkActivated.connect(lambda _link: self._undo_filter_clearing())
        self.filter_notice.hide()
        self._cleared_filters: tuple | None = None
        self._revealing = False
        self.empty_label = QLabel("没有符合筛选条件的项目。", objectName="emptyLabel")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tree_view)
        left_layout.addWidget(self.empty_label)
        self.right_splitter = QSplitter(Qt.Orientation.Vertical, objectName="rightSplitter")
        self.right_splitter.addWidget(self.detail)
        self.right_splitter.addWidget(self.bottom_tabs)
        self.right_splitter.setStretchFactor(0, 3)
        self.right_splitter.setStretchFactor(1, 2)
        self.right_splitter.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.right_splitter)
        self.splitter.setStretchFactor(0, 11)
        self.splitter.setStretchFactor(1, 9)
        self.splitter.setChildrenCollapsible(False)

        plan_tab = QWidget()
        layout = QVBoxLayout(plan_tab)
        layout.setContentsMargins(6, 6, 6, 2)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.filter_notice)
        layout.addWidget(self.splitter, 1)
        self.follow_up = FollowUpView()
        self.items = SupervisionItemsPanel(self.ctx)
        self.items.pick_target = lambda: (self._find_target(self.follow_up.selected_target_id())
                                          if self.follow_up.selected_target_id() else self._target_for_entry())
        follow_split = QSplitter(Qt.Orientation.Vertical, objectName="followUpSplitter")
        follow_split.addWidget(self.follow_up)
        follow_split.addWidget(self.items)
        follow_split.setChildrenCollapsible(False)
        self.departments = DepartmentView()
        self.dashboard = LazyTab(self._make_dashboard)
        self.indicators = LazyTab(self._make_indicator_page)
        self.tabs = QTabWidget(objectName="mainTabs")
        self.tabs.addTab(plan_tab, "计划")
        self.tabs.addTab(follow_split, "督办")
        self.tabs.addTab(self.departments, "部门")
        self.tabs.addTab(self.dashboard, "总览")
        self.tabs.addTab(self.indicators, "指标")
        self.calendar = CalendarPanel(self.ctx)
        self.assessment = AssessmentPanel(self.ctx)
        self.tabs.addTab(self.calendar, "填报日历")
        self.tabs.addTab(self.assessment, "考核")
        self.setCentralWidget(self.tabs)
        self.count_label = QLabel()
        self.context_label = QLabel()
        self.statusBar().addPermanentWidget(self.context_label)
        self.statusBar().addPermanentWidget(self.count_label)

        self._build_menus()
        self.filter_bar.department_changed.connect(self._on_department)
        self.filter_bar.year_changed.connect(self._on_year)
        self.filter_bar.keyword_changed.connect(self._on_filter(self.proxy.set_keyword))
        self.filter_bar.keyword_changed.connect(self.detail.set_highlight)
        self.tree_view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.reports.add_requested.connect(self.new_report)
        self.reports.correct_requested.connect(self.correct_report)
        self.reports.delete_requested.connect(self.delete_report)
        self.reports.history_requested.connect(self.show_history)
        self.reports.indicator_requested.connect(self.enter_indicator_value)
        self.evidence.count_changed.connect(lambda n: self.bottom_tabs.setTabText(1, f"佐证材料（{n}）"))
        self.tree_view.files_dropped.connect(self._files_dropped)
        self.reports.files_dropped.connect(
            lambda report, files: self.evidence.attach_files(files, self._find_target(report.target_id),
                                                             report_id=report.id))
        self.follow_up.target_activated.connect(self.select_target)
        self.items.target_activated.connect(self.select_target)
        self.calendar.target_activated.connect(self.select_target)
        self.departments.target_activated.connect(self.select_target)
        self.ctx.database_ready.connect(self._on_database_ready)
        self.ctx.status_ready.connect(self._on_status)
        self.ctx.data_changed.connect(self._on_data_changed)
        self.ctx.failed.connect(lambda msg: self.statusBar().showMessage(msg, 15000))
        self.ctx.user_changed.connect(self._update_context_label)

        self.set_tree(tree)
        self._restore_state()
        view_state.restore(self)
        self._update_context_label()

    def start(self) -> None:
        """After the first paint: open the database in the background, then compute the lights."""
        self.ctx.ensure_database()

    # -- content ---------------------------------------------------------------------------------
    def set_tree(self, tree: PlanTree | None) -> None:
        if tree:
            self.model.set_tree(tree)
            self.filter_bar.set_choices(departments_by_load(tree), tree.years)
            self.items.set_departments([d.name for d in departments_by_load(tree)])
            self._update_column_samples()
        self.detail.set_tree(tree)
        self._after_filter()
        if self._data_dir:
            self.statusBar().showMessage(f"数据文件夹：{self._data_dir}")

    def select_measure(self, no: int) -> bool:
        return self._select_source(self.model.measure_index(no))

    def select_target(self, target_id: int) -> bool:
        """Show a target in the plan (from 督办, 部门, 总览). The filters stay when it is visible through them;
        otherwise only those that hide it are cleared, and the notice above the tree says which (with 恢复筛选)."""
        node = self._find_target(target_id)
        if node is None:
            return False
        self._reveal(self.model.index_of(node), f"措施{node.measure.no}·{node.year}年度目标")
        self.tabs.setCurrentIndex(0)
        return self._select_source(self.model.index_of(node))

    def _reveal(self, source: QModelIndex, what: str) -> None:
        """Clear the filters that hide this row, fewest first (keyword, then year, then department), and say so."""
        bar = self.filter_bar
        if self.proxy.mapFromSource(source).isValid():
            return
        before = (bar.department.currentData(), bar.role.currentData(), bar.year.currentData(), bar.keyword.text())
        steps = ((bool(bar.keyword.text().strip()), f"关键词“{bar.keyword.text().strip()}”", bar.keyword.clear),
                 (bool(bar.year.currentData()), f"年度 {bar.year.currentData()}年", lambda: bar.select_year(None)),
                 (bool(bar.department.currentData()), f"部门 {bar.department.currentData()}",
                  lambda: bar.select_department(None)))
        cleared = []
        self._revealing = True
        try:
            for active, words, clear in steps:
                if self.proxy.mapFromSource(source).isValid():
                    break
                if active:
                    clear()
                    cleared.append(words)
        finally:
            self._revealing = False
        if cleared:
            self._cleared_filters = before
            text = f"为显示{what}，已清除筛选：{'、'.join(cleared)}。"
            self.filter_notice.setText(f"{text} <a href='undo'>恢复筛选</a>")
            self.filter_notice.show()
            self.statusBar().showMessage(text, 15000)

    def _undo_filter_clearing(self) -> None:
        if self._cleared_filters is not None:
            department, role, year, keyword = self._cleared_filters
            self._revealing = True
            try:
                self.filter_bar.select_department(department, role)
                self.filter_bar.select_year(year)
                self.filter_bar.keyword.setText(keyword)
            finally:
                self._revealing = False
        self._cleared_filters = None
        self.filter_notice.hide()

    def _select_source(self, source: QModelIndex) -> bool:
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

    # -- status ----------------------------------------------------------------------------------
    def _on_database_ready(self) -> None:
        self.ctx.refresh_status(self.model.tree())
        self._load_selection_data()
        self.ctx.watch_changes()  # others' changes to the same database refresh the views in place
        from qjgb_desktop.services.safety.database import sweep_leftovers

        self.ctx.workers.run(lambda: sweep_leftovers(self._data_dir), lambda _n: None, lambda _e: None)

    def _on_data_changed(self) -> None:
        self.ctx.refresh_status(self.model.tree())
        self._load_selection_data()
        self.calendar.reload()
        self.assessment.reload()

    def _on_status(self, snap) -> None:
        self.model.set_status(snap, self.filter_bar.year.currentData())
        follow = self.follow_up.set_snapshot(snap)
        self.departments.set_snapshot(snap)
        self.tabs.setTabText(1, f"督办（{follow}）")
        if self.dashboard.content is not None:
            self.dashboard.content.set_snapshot(snap)
        if self.indicators.content is not None:
            self.indicators.content.reload(self.model.tree())
        self.detail.set_status(snap)
        self._update_context_label()

    def _update_context_label(self) -> None:
        snap = self.model.status()
        period = f" · 当前周期 {snap.period.code}" if snap else ""
        self.context_label.setText(f"用户：{self.ctx.user_label} · {self.ctx.today().isoformat()}{period}")

    # -- reports ---------------------------------------------------------------------------------
    def _explain_entry_buttons(self, node) -> None:
        """Why 填报进展 and 录入指标值 are greyed out, on the buttons themselves (tooltips show when disabled too)."""
        add, indicator = self.reports.add_button, self.reports.indicator_button
        target = self._target_for_entry(node)
        if isinstance(node, TargetNode):
            add.setToolTip(f"为 措施{node.measure.no}·{node.year}年度目标 填报本期进展（Ctrl+N）")
        elif isinstance(node, MeasureNode) and target is not None:
            add.setToolTip(f"为 措施{node.no} 的 {target.year}年度目标 填报本期进展（Ctrl+N）；"
                           "其他年度请在树中选中该年度目标")
        else:
            why = "选中的是改革任务，" if node is not None else ""
            add.setToolTip(f"{why}请先在左侧计划中选择一项措施或年度目标，再填报进展")
        measure = node.measure if isinstance(node, TargetNode) else node
        if not isinstance(measure, MeasureNode):
            indicator.setToolTip("请先在左侧计划中选择一项措施或年度目标，再录入其量化指标的实际值")
        elif not measure.indicators:
            indicator.setToolTip(f"措施{measure.no} 没有量化指标")
        else:
            indicator.setToolTip(f"录入 措施{measure.no} 的量化指标实际值（Ctrl+I）")

    def _load_selection_data(self) -> None:
        node = self.current_node()
        self._explain_entry_buttons(node)
        if self.ctx.db is None or not isinstance(node, (MeasureNode, TargetNode)):
            self.reports.set_reports([], None, can_add=isinstance(node, (MeasureNode, TargetNode)))
            self.evidence.set_node(node, [], self._target_for_entry())
            return
        from qjgb_desktop.services.evidence.records import list_evidence
        from qjgb_desktop.services.progress.indicators import indicator_rows
        from qjgb_desktop.services.progress.reports import list_reports

        measure = node if isinstance(node, MeasureNode) else node.measure
        tree = self.model.tree()

        def read(session):
            if isinstance(node, TargetNode):
                reports = list_reports(session, target_id=node.id)
                files = list_evidence(session, target_id=node.id)
            else:
                reports = list_reports(session, measure_no=node.no)
                files = list_evidence(session, measure_no=node.no)
            return node, reports, indicator_rows(session, measure.no, tree), files

        self.ctx.read(read, self._show_selection_data, key="selection")

    def _show_selection_data(self, result) -> None:
        node, reports, rows, files = result
        if node is not self.current_node():
            return
        self.evidence.set_node(node, files, self._target_for_entry())
        self._indicator_rows = (rows, self.model.tree().years)
        if self.indicator_chart.content is not None:
            self.indicator_chart.content.set_rows(*self._indicator_rows)
        heading = f"措施{node.measure.no}·{node.year}年" if isinstance(node, TargetNode) else f"措施{node.no}"
        self.reports.set_reports(reports, heading, can_add=True, one_year=isinstance(node, TargetNode))
        self.detail.set_actuals({r["indicator_id"]: r for r in rows})

    # -- charts (matplotlib is imported when one of these is first shown) ---------------------------------
    def _make_dashboard(self):
        from qjgb_desktop.ui.charts.dashboard import Dashboard

        board = Dashboard(self.ctx)
        board.action_clicked.connect(self.select_action)
        board.department_clicked.connect(self.show_department)
        board.target_clicked.connect(self.select_target)
        if self.model.status() is not None:
            board.set_snapshot(self.model.status())
        return board

    def _make_indicator_page(self):
        from qjgb_desktop.ui.charts.dashboard import IndicatorPage

        page = IndicatorPage(self.ctx)
        if self.ctx.db is not None:
            page.reload(self.model.tree())
        return page

    def _make_indicator_chart(self):
        from qjgb_desktop.ui.charts.dashboard import IndicatorChart

        chart = IndicatorChart()
        if self._indicator_rows is not None:
            chart.set_rows(*self._indicator_rows)
        return chart

    def select_action(self, no: int) -> bool:
        tree = self.model.tree()
        action = next((a for a in tree.actions if a.no == no), None) if tree else None
        if action is None:
            return False
        self._reveal(self.model.index_of(action), f"改革任务（{action.numeral}）")
        self.tabs.setCurrentIndex(0)
        return self._select_source(self.model.index_of(action))

    def show_department(self, name: str) -> None:
        """The plan filtered to what this department leads (a filter the user asked for: said in the status bar)."""
        self.filter_bar.keyword.clear()
        self.filter_bar.select_year(None)
        self.filter_bar.select_department(name, "lead")
        self.tabs.setCurrentIndex(0)
        self.statusBar().showMessage(f"计划已按部门筛选：{name}（仅牵头）。“清除筛选”可显示全部。", 10000)

    def _files_dropped(self, index: QModelIndex, files: list) -> None:
        """Files dropped on a row: attach them to that target (for a measure, its target of the year shown)."""
        target = self._target_for_entry(index.data(NodeRole))
        if target is not None:
            self.bottom_tabs.setCurrentIndex(1)  # 佐证材料
            self.evidence.attach_files(files, target)

    # -- filters ---------------------------------------------------------------------------------
    def _on_filter(self, setter):
        def apply(value) -> None:
            setter(value)
            self._after_filter()
        return apply

    def _on_department(self, name, role) -> None:
        self.proxy.set_department(name, role)
        self._after_filter()

    def _on_year(self, year) -> None:
        self.proxy.set_year(year)
        self.model.set_year(year)
        self.detail.set_year(year)
        self._update_column_samples()
        self._after_filter()

    def _after_filter(self) -> None:
        if not self._revealing and not self.filter_notice.isHidden():  # the user filters anew: the notice is stale
            self._cleared_filters = None
            self.filter_notice.hide()
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
        self.target_items.set_target(self._target_for_entry())
        self._load_selection_data()









        # The tree's column widths are not remembered: they follow their contents and the pane (plan_view).

    def closeEvent(self, event) -> None:
        self.save_state()
        watcher = getattr(self.ctx, "watcher", None)
        if watcher is not None:  # a closed window stops refreshing: no job may outlive it into a deleted window
            watcher.close()
            self.ctx.watcher = None
        self.ctx.workers.wait()
        self.evidence.discard_open_copies()
        super().closeEvent(event)

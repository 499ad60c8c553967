"""The main window: tabs 计划 (filter bar, plan tree, details and reports), 督办 and 部门."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop import __version__
from qjgb_desktop.domain.status import STATES
from qjgb_desktop.errors import UserError
from qjgb_desktop.qtmodels.plan_filter import PlanFilterProxy
from qjgb_desktop.qtmodels.plan_tree import (
    COL_EVIDENCE,
    COL_LAST,
    COL_LEAD,
    COL_NAME,
    COL_PERCENT,
    COL_STATE,
    COL_YEAR,
    NodeRole,
    PlanTreeModel,
)
from qjgb_desktop.services.plan.query import MeasureNode, PlanTree, TargetNode, departments_by_load
from qjgb_desktop.ui.window import view_state
from qjgb_desktop.ui.supervision.assessment_panel import AssessmentPanel
from qjgb_desktop.ui.supervision.calendar_panel import CalendarPanel
from qjgb_desktop.ui.window.context import AppContext
from qjgb_desktop.ui.plan.detail_panel import DetailPanel
from qjgb_desktop.ui.evidence.evidence_panel import EvidencePanel
from qjgb_desktop.ui.plan.filter_bar import FilterBar
from qjgb_desktop.ui.widgets.lazy_tab import LazyTab
from qjgb_desktop.ui.plan.plan_view import NameDelegate, PlanTreeView, StateDelegate
from qjgb_desktop.ui.progress.reports_panel import ReportsPanel
from qjgb_desktop.ui.supervision.panel import DepartmentView, FollowUpView
from qjgb_desktop.ui.supervision.items import SupervisionItemsPanel

DEFAULT_SIZE = (1280, 720)  # fits a 1366×768 screen with a taskbar
# Splitters as remembered; "2": the layout whose right pane no longer holds the tree narrow starts afresh.
SPLITTER_KEY, RIGHT_SPLITTER_KEY = "window/splitter2", "window/rightSplitter2"


def _scrolled(widget: QWidget) -> QScrollArea:
    """A panel that scrolls sideways when its pane is narrower than its widest row, instead of holding the pane."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


class MainWindow(QMainWindow):
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

    def _target_for_entry(self, node=None) -> TargetNode | None:
        node = node if node is not None else self.current_node()
        if isinstance(node, TargetNode):
            return node
        if isinstance(node, MeasureNode):
            year = self.model.focus_year()
            return next((t for t in node.targets if t.year == year), node.targets[0] if node.targets else None)
        return None

    def _report_form(self, target: TargetNode, base=None):
        from qjgb_desktop.domain.periods import periods_in
        from qjgb_desktop.services.progress import reports as svc
        from qjgb_desktop.services.settings.record import load_settings
        from qjgb_desktop.ui.progress.report_form import ReportForm

        with self.ctx.db.sessions() as s:
            d = svc.form_defaults(s, target.id, self.ctx.today(), self.ctx.user)
            scheme = load_settings(s).scheme
        form = None
        if base is not None:
            def submit(report, _values):  # form.base: after a conflict, the version the user chose to build on
                return self.ctx.write(lambda s: svc.correct_report(s, form.base.id, report, self.ctx.user,
                                                                   self.ctx.today()))
            period, day, department, reporter = base.period, base.report_date, base.department, base.reporter
            status, percent = base.status, base.percent
        else:
            def submit(report, values):
                return self.ctx.write(lambda s: svc.add_report(s, target.id, report, self.ctx.user, self.ctx.today(),
                                                               indicator_values=values))
            period, day, department, reporter = d.period, d.report_date, d.department, d.reporter
            status, percent = d.status, d.percent
            mine = [x for x in (self.ctx.account.departments if self.ctx.account else ()) if x in d.departments]
            if mine and department not in mine:
                department = mine[0]  # a 部门填报员 reports in their own department's name
        periods = [p.code for p in periods_in(self.model.tree().years, scheme) if p.year >= target.year]
        form = ReportForm(target, period=period, periods=periods, report_date=day, department=department,
                          departments=d.departments, reporter=reporter, status=status, percent=percent,
                          submit=submit, base=base, parent=self)
        return form

    def new_report(self):
        """Open the report form for the selected target (for a measure: its target of the year shown)."""
        target = self._target_for_entry()
        if target is None:
            self.statusBar().showMessage("请先在左侧选择一项措施或年度目标", 5000)
            return None
        if self.ctx.db is None:
            self.statusBar().showMessage("数据库正在打开，请稍候再试", 5000)
            return None
        form = self._report_form(target)
        form.open()
        return form

    def correct_report(self, report):
        target = self._find_target(report.target_id)
        if target is None or self.ctx.db is None:
            return None
        form = self._report_form(target, base=report)
        form.open()
        return form

    def enter_indicator_value(self):
        """The selected measure's (or target's) indicator values, entered on their own."""
        from qjgb_desktop.services.progress import reports as svc
        from qjgb_desktop.ui.progress.indicator_dialog import IndicatorValueDialog

        node = self.current_node()
        measure = node.measure if isinstance(node, TargetNode) else node
        if not isinstance(measure, MeasureNode) or not measure.indicators or self.ctx.db is None:
            self.statusBar().showMessage("请先选择一项有量化指标的措施或年度目标", 5000)
            return None

        def submit(indicator_id, value, as_of, note):
            return self.ctx.write(lambda s: svc.set_indicator_value(s, indicator_id, value, as_of, self.ctx.user,
                                                                    self.ctx.today(), note=note))
        dialog = IndicatorValueDialog(measure, self.ctx.today(), submit, self)
        dialog.open()
        return dialog

    def delete_report(self, report) -> bool:
        from qjgb_desktop.services.progress import reports as svc

        reason, ok = QInputDialog.getText(
            self, "删除报告", f"删除报告 #{report.id}（措施{report.measure_no}·{report.year}年 {report.period}）。\n"
            "报告不会真正消失，会连同删除原因保留在修订历史中。\n删除原因：")
        if not ok:
            return False
        try:
            self.ctx.write(lambda s: svc.delete_report(s, report.id, reason, self.ctx.user))
        except (svc.ProgressError, UserError) as exc:  # UserError: access.AccessDenied with accounts
            QMessageBox.warning(self, "无法删除", str(exc))
            return False
        return True

    def show_history(self, report):
        from qjgb_desktop.services.progress.reports import report_history
        from qjgb_desktop.ui.progress.reports_panel import HistoryDialog

        with self.ctx.db.sessions() as s:
            revisions = report_history(s, report.series_id)
        dialog = HistoryDialog(revisions, self)
        dialog.open()
        return dialog

    def _find_target(self, target_id: int) -> TargetNode | None:
        tree = self.model.tree()
        return next((t for m in tree.measures() for t in m.targets if t.id == target_id), None) if tree else None

    # -- periods and settings --------------------------------------------------------------------
    def close_period(self) -> None:
        from qjgb_desktop.services.progress import reports as svc

        snap = self.model.status()
        current = snap.period.code if snap else ""
        code, ok = QInputDialog.getText(self, "关闭填报周期",
                                        "关闭后，该周期的报告将被锁定，不能再新增、修订或删除。\n周期（如 2025Q3）：",
                                        text=current)
        if not ok:
            return
        try:
            self.ctx.write(lambda s: svc.close_period(s, code, self.ctx.user))
        except (svc.ProgressError, UserError) as exc:  # UserError: access.AccessDenied with accounts
            QMessageBox.warning(self, "无法关闭", str(exc))
            return
        self.statusBar().showMessage(f"已关闭填报周期 {code.upper()}", 8000)

    def reopen_period(self) -> None:
        from qjgb_desktop.services.progress import reports as svc

        with self.ctx.db.sessions() as s:
            closed = sorted(svc.closed_periods(s))
        if not closed:
            QMessageBox.information(self, "重新开放填报周期", "目前没有已关闭的周期。")
            return
        code, ok = QInputDialog.getItem(self, "重新开放填报周期", "选择周期（仅管理员）：", closed, len(closed) - 1, False)
        if not ok:
            return
        reason, ok = QInputDialog.getText(self, "重新开放填报周期", f"重新开放 {code} 的原因（将记入留痕）：")
        if not ok:
            return
        try:
            self.ctx.write(lambda s: svc.reopen_period(s, code, reason, self.ctx.user))
        except (svc.ProgressError, UserError) as exc:  # UserError: access.AccessDenied with accounts
            QMessageBox.warning(self, "无法重新开放", str(exc))
            return
        self.statusBar().showMessage(f"已重新开放填报周期 {code}", 8000)

    def purge_evidence(self) -> None:
        from qjgb_desktop.services.evidence import records as ev

        answer = QMessageBox.question(self, "清理佐证文件", "将永久删除所有已移除、且不再被任何佐证材料使用的存储文件。\n"
                                      "记录和留痕保留。此操作仅限管理员，且不能撤销。继续吗？")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            gone = self.ctx.write(lambda s: ev.purge(s, self.ctx.user))
        except (ev.EvidenceError, UserError) as exc:
            QMessageBox.warning(self, "未清理", str(exc))
            return
        self.statusBar().showMessage(f"已删除 {len(gone)} 个不再使用的存储文件", 8000)

    def edit_settings(self):
        from qjgb_desktop.ui.settings.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.ctx, self)
        dialog.accepted.connect(self._update_context_label)
        dialog.open()
        return dialog

    # -- accounts (ui/accounts/accounts_dialog) ------------------------------------------------------------
    def switch_account(self):
        from qjgb_desktop.ui.accounts import accounts_dialog

        return accounts_dialog.switch_account(self)

    def manage_accounts(self):
        from qjgb_desktop.ui.accounts import accounts_dialog

        return accounts_dialog.manage_accounts(self)

    def change_own_password(self):
        from qjgb_desktop.ui.accounts import accounts_dialog

        return accounts_dialog.change_own_password(self)

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

    # -- menus -----------------------------------------------------------------------------------
    def _action(self, menu, label: str, slot, shortcut=None) -> QAction:
        action = QAction(label, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        self._action(file_menu, "导出 Excel…", lambda: self._excel("export_excel"), QKeySequence("Ctrl+E"))
        self._action(file_menu, "下发填报模板…", lambda: self._excel("ask_and_send_templates"))
        self._action(file_menu, "导入交回的模板…", lambda: self._excel("import_returns"))
        file_menu.addSeparator()
        self._action(file_menu, "生成进展报告（Word）…", lambda: self._document("generate_report"))
        self._action(file_menu, "生成督办通知单（Word）…", lambda: self._document("generate_notices"))
        file_menu.addSeparator()
        self._action(file_menu, "打开数据文件夹", self._open_data_dir)
        self.switch_account_action = self._action(file_menu, "切换账户…", self.switch_account)
        self._action(file_menu, "修改我的密码…", self.change_own_password)
        self._action(file_menu, "账户管理…", self.manage_accounts)
        file_menu.addSeparator()
        self._action(file_menu, "退出(&X)", self.close, QKeySequence.StandardKey.Quit)

        report_menu = self.menuBar().addMenu("填报(&R)")
        self.new_report_action = self._action(report_menu, "填报进展…", self.new_report, QKeySequence("Ctrl+N"))
        self._action(report_menu, "录入指标实际值…", self.enter_indicator_value, QKeySequence("Ctrl+I"))
        report_menu.addSeparator()
        self._action(report_menu, "关闭填报周期…", self.close_period)
        self._action(report_menu, "重新开放填报周期…（管理员）", self.reopen_period)
        self._action(report_menu, "清理已移除的佐证文件…（管理员）", self.purge_evidence)
        report_menu.addSeparator()
        self._action(report_menu, "用户与预警设置…", self.edit_settings)

        view_menu = self.menuBar().addMenu("视图(&V)")
        self._action(view_menu, "搜索", lambda: (self.filter_bar.keyword.setFocus(), self.filter_bar.keyword.selectAll()),
                     QKeySequence.StandardKey.Find)
        self._action(view_menu, "全部展开", self.tree_view.expandAll)
        self._action(view_menu, "全部折叠", self.tree_view.collapseAll)
        self._action(view_menu, "清除筛选", self.filter_bar.reset)

        help_menu = self.menuBar().addMenu("帮助(&H)")
        self._action(help_menu, "预警规则", self._explain_lights)
        self._action(help_menu, "关于", self._about)

    def _excel(self, name: str):
        """Excel actions live in ui/collection/excel_dialogs (openpyxl is imported only when one is used)."""
        from qjgb_desktop.ui.collection import excel_dialogs

        if self.ctx.db is None:
            self.statusBar().showMessage("数据库正在打开，请稍候再试", 5000)
            return None
        return getattr(excel_dialogs, name)(self)

    def _document(self, name: str):
        """Word documents live in ui/documents/document_dialogs (python-docx is imported only when one is made)."""
        from qjgb_desktop.ui.documents import document_dialogs

        if self.ctx.db is None:
            self.statusBar().showMessage("数据库正在打开，请稍候再试", 5000)
            return None
        return getattr(document_dialogs, name)(self)

    def _open_data_dir(self) -> None:
        if self._data_dir:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._data_dir)))

    def _explain_lights(self) -> None:
        snap = self.model.status()
        t = snap.thresholds if snap else None
        margins = f"{t.green_margin:g} / {t.yellow_margin:g}" if t else "10 / 25"
        QMessageBox.information(self, "预警规则", (
            "应完成进度 = 当年已过去的天数占全年的比例。\n"
            f"正常（绿●）：完成度不低于应完成进度减 {margins.split(' / ')[0]} 个百分点；\n"
            f"关注（黄▲）：低于上述但不低于应完成进度减 {margins.split(' / ')[1]} 个百分点，或报告为“暂缓”；\n"
            "滞后（红✕）：更低，或报告为“滞后”；\n"
            "逾期（深红‼）：年度已过仍未完成；\n"
            "未填报（灰？）：当前填报周期没有报告；未开始（○）：年度尚未开始；已完成（蓝✓）。\n"
            "措施、任务、部门的汇总取其年度目标完成度的平均值（未填报按 0 计），再按同样规则判断。"))

    def _about(self) -> None:
        QMessageBox.about(self, "关于", f"<b>强基固本三年行动计划 · 进展管理</b> {__version__}<br>"
                          f"离线运行，数据保存在：<br>{self._data_dir or ''}")

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
        # The tree's column widths are not remembered: they follow their contents and the pane (plan_view).

    def save_state(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue(SPLITTER_KEY, self.splitter.saveState())
        self._settings.setValue(RIGHT_SPLITTER_KEY, self.right_splitter.saveState())
        view_state.save(self)
        self._settings.sync()

    def closeEvent(self, event) -> None:
        self.save_state()
        watcher = getattr(self.ctx, "watcher", None)
        if watcher is not None:  # a closed window stops refreshing: no job may outlive it into a deleted window
            watcher.close()
            self.ctx.watcher = None
        self.ctx.workers.wait()
        self.evidence.discard_open_copies()
        super().closeEvent(event)

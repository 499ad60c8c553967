"""考核: every department's score for a year, sortable, with the rule under the table and, for the selected
department, each component's weight, score, basis and the records behind it.

assess() runs in the background (ctx.read, key "assessment"); loaded when shown and on reload() while shown.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QStyle,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop.domain.responsibility import COOPERATES, GROUPS, LEADS, TOWNSHIPS
from qjgb_desktop.ui.supervision.panel import DepartmentRole, _item, _name_column_first, _view

SortRole = Qt.ItemDataRole.UserRole + 10
KEYS = ("completion", "timeliness", "evidence", "supervision")
NOT_COUNTED = "不计"
NAME_MIN_CHARS = 10  # a department name shows at least this much (elided in the middle, whole in its tooltip)


# -- tables shared with the 填报日历 tab ---------------------------------------------------------------------
def refit_columns(view: QTableView) -> None:
    """New rows: the columns sized to their contents follow them now (Qt only resizes them on a resize)."""
    model = view.model()
    if model.columnCount():
        model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, model.columnCount() - 1)


def fit_name_table(table: QTableView, name_column: int, min_chars: int = NAME_MIN_CHARS) -> int:
    """The table keeps its figures whole and at least `min_chars` of its names; returns the width at which every
    name is whole too (what a splitter gives it when there is room)."""
    fm, header, model = table.fontMetrics(), table.horizontalHeader(), table.model()
    figures = sum(max(header.sectionSizeHint(c), table.sizeHintForColumn(c)) for c in range(model.columnCount())
                  if c != name_column and not table.isColumnHidden(c))
    name_min = fm.horizontalAdvance("国" * min_chars + "…") + 12
    chrome = 2 * table.frameWidth() + table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    table.setMinimumWidth(name_min + figures + chrome)
    return max(name_min, table.sizeHintForColumn(name_column)) + figures + chrome


def name_table(owner: QWidget, object_name: str, headers, name_column: int) -> tuple[QStandardItemModel, QTableView]:
    """A read-only table of rows: figures as wide as their contents, the name column takes the rest."""
    model = QStandardItemModel(owner)
    model.setHorizontalHeaderLabels(headers)
    view = _view(QTableView(objectName=object_name))
    view.setModel(model)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    rows = view.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # one line per row, as in the other lists
    rows.setDefaultSectionSize(view.fontMetrics().height() + 8)
    _name_column_first(view.horizontalHeader(), name_column)
    return model, view


def side_by_side(object_name: str, left: QWidget, right: QWidget) -> QSplitter:
    """The list on the left keeps its width; the right side takes what the window gains."""
    splitter = QSplitter(Qt.Orientation.Horizontal, objectName=object_name)
    splitter.addWidget(left)
    splitter.addWidget(right)
    splitter.setChildrenCollapsible(False)
    splitter.setStretchFactor(0, 0)
    splitter.setStretchFactor(1, 1)
    return splitter


GROUP_SHORT = {LEADS: "牵头", TOWNSHIPS: "街乡镇", COOPERATES: "配合"}


class ScoreSortProxy(QSortFilterProxyModel):
    """Sorts on numbers (100 above 99.5); a component with nothing to measure (None) last in either order."""

    def lessThan(self, left, right) -> bool:
        a, b = left.data(self.sortRole()), right.data(self.sortRole())
        if a is None or b is None:
            if a is None and b is None:
                return False
            return (b is None) == (self.sortOrder() == Qt.SortOrder.AscendingOrder)
        return a < b


def _score(value: float | None) -> str:
    return NOT_COUNTED if value is None else f"{value:.1f}"


def _figure(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.3g}"


class ReadWhenShown:
    """A tab that reads its data in the background: `reload()` (data changed) marks it out of date and reads now if
    it is on screen, else when it is next shown. `_load()` reads in the background what the tab's own
    `_read(session, tree, chosen, today)` returns for the user's choice (`_chosen`), and hands it to its `_show`;
    without a plan the summary says so."""

    _stale = True
    _sized = False
    _chosen = None
    READ_KEY = ""

    def _load(self) -> None:
        if self.ctx.db is None:
            return
        self._stale = False
        chosen, today, query = self._chosen, self.ctx.today(), self._read

        def read(session):
            from qjgb_desktop.services.plan.query import plan_tree

            tree = plan_tree(session)
            return None if tree is None else query(session, tree, chosen, today)
        self.ctx.read(read, self._received, key=self.READ_KEY)

    def _received(self, data) -> None:
        if data is None:
            self.summary.setText("尚未载入行动计划。")
            return
        self._show(data)

    def reload(self) -> None:
        self._stale = True
        if self.isVisible():
            self._load()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._load()
        if not self._sized:
            QTimer.singleShot(0, self._fit)


class AssessmentPanel(ReadWhenShown, QWidget):
    """考核 tab: AssessmentPanel(ctx); reload() after data changes."""

    HEADERS = ("组别·排名", "部门", "总分", "完成度", "按时报送率", "佐证覆盖率", "督办办结率")
    NAME_COLUMN = 1

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.year = QComboBox(objectName="assessmentYear")
        self.year.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.year.setMinimumContentsLength(len("2026年") + 1)
        self.year.setToolTip("考核哪一年度")
        self.summary = QLabel("正在计算…", objectName="assessmentSummary")
        self.summary.setWordWrap(True)
        self.model, self.table = name_table(self, "assessmentTable", self.HEADERS, self.NAME_COLUMN)
        self.proxy = ScoreSortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.detail = QTextBrowser(objectName="assessmentDetail")
        self.detail.setOpenLinks(False)
        self.detail.document().setIndentWidth(18)  # a record list indented by a bullet's width, not 40 px
        self._rule = self._example = ""
        self.rule = QLabel(objectName="assessmentRule")
        self.rule.setWordWrap(True)
        self.rule.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rule.setStyleSheet("color: #444;")
        self.splitter = side_by_side("assessmentSplitter", self.table, self.detail)
        top = QHBoxLayout()
        top.addWidget(QLabel("考核年度"))
        top.addWidget(self.year)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.rule)

        self._scores: dict[str, object] = {}
        self._chosen: int | None = None
        self.year.currentIndexChanged.connect(self._year_chosen)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show_selected())
        ctx.database_ready.connect(self.reload)

    # -- loading ----------------------------------------------------------------------------------------
    READ_KEY = "assessment"

    def _load(self) -> None:
        if self.ctx.db is not None and not self.model.rowCount():  # a refresh keeps the figures on screen
            self.summary.setText("正在计算…")
        super()._load()

    @staticmethod
    def _read(session, tree, chosen, today) -> dict:  # in the background
        from qjgb_desktop.services.supervision.assessment import assess, rule_text, worked_example

        years = tree.years
        year = chosen if chosen in years else min(max(today.year, years[0]), years[-1])
        return {"years": years, "year": year, "today": today, "scores": assess(session, year, today),
                "rule": rule_text(session), "example": worked_example()}

    def _year_chosen(self, _index: int) -> None:
        self._chosen = self.year.currentData()
        self.summary.setText(f"正在计算 {self._chosen}年度…")
        self.reload()

    # -- showing ----------------------------------------------------------------------------------------
    def _show(self, data) -> None:
        years, year = data["years"], data["year"]
        self.year.blockSignals(True)
        if [self.year.itemData(i) for i in range(self.year.count())] != years:
            self.year.clear()
            for y in years:
                self.year.addItem(f"{y}年", y)
        self.year.setCurrentIndex(years.index(year))
        self.year.blockSignals(False)
        selected = self.selected_department()
        self._scores = {s.department: s for s in data["scores"]}
        self.model.removeRows(0, self.model.rowCount())
        for s in data["scores"]:
            place = _item(f"{GROUP_SHORT[s.group]}·{s.rank_label}",
                          tooltip=f"{s.group}：{s.note}" if s.note else f"{s.group}第 {s.rank} 名")
            nothing = not any(c.counted for c in s.components)
            row = [place, _item(s.department, tooltip=s.department),
                   _item("—" if nothing else f"{s.total:.1f}", align_right=True)]
            row[0].setData(GROUPS.index(s.group) * 1000 + (s.rank or 999), SortRole)
            row[1].setData(s.department, SortRole)
            row[1].setData(s.department, DepartmentRole)
            row[2].setData(None if nothing else s.total, SortRole)  # nothing measured: last, either order
            for key in KEYS:
                c = s.component(key)
                cell = _item(_score(c.score), align_right=True,
                             tooltip=f"{c.label}（权重 {c.weight:g}）：{c.basis}")
                cell.setData(c.score, SortRole)
                row.append(cell)
            self.model.appendRow(row)
        unranked = sum(s.rank is None for s in data["scores"])
        self.summary.setText(f"{year}年度 {len(data['scores'])} 个部门，按 {data['today'].isoformat()} 的记录分组排名；"
                             f"{unranked} 个依据不足，不参与排名。选中部门，右侧列出依据。")
        self._rule = data["rule"]
        self._example = data["example"]
        weights = "、".join(f"{c.label} {c.weight:g}" for c in data["scores"][0].components) if data["scores"] else ""
        self.rule.setText(f"权重：{weights}。各项满分 100，总分为加权平均；完整规则见右侧说明末尾。")
        names = [self.proxy.index(r, self.NAME_COLUMN).data(DepartmentRole) for r in range(self.proxy.rowCount())]
        if names:
            self.table.selectRow(names.index(selected) if selected in names else 0)
        self._show_selected()
        self._fit()

    def selected_department(self) -> str | None:
        index = self.table.currentIndex()
        return index.siblingAtColumn(self.NAME_COLUMN).data(DepartmentRole) if index.isValid() else None

    def select_department(self, name: str) -> bool:
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, self.NAME_COLUMN).data(DepartmentRole) == name:
                self.table.selectRow(r)
                return True
        return False

    def _show_selected(self) -> None:
        s = self._scores.get(self.selected_department())
        if s is None:
            self.detail.clear()
            return
        counted = [c for c in s.components if c.counted and c.weight > 0]
        formula = " + ".join(f"{c.score:.1f}×{c.weight:g}" for c in counted)
        parts = [f"<h3>{escape(s.department)}</h3>",
                 (f"<p>{s.year}年度 {escape(s.group)}第 {s.rank} 名，总分 <b>{s.total:.1f}</b>" if s.rank is not None
                  else f"<p>{s.year}年度 {escape(s.group)}，<b>不参与排名</b>：{escape(s.note)}")
                 + (f"<br>总分 = ({formula}) ÷ {sum(c.weight for c in counted):g}" if counted else "") + "</p>"]
        for c in s.components:
            ratio = f"（{_figure(c.numerator)} / {_figure(c.denominator)}）" if c.denominator else ""
            parts.append(f"<p><b>{escape(c.label)}</b>　权重 {c.weight:g}　得分 <b>{_score(c.score)}</b><br>"
                         f"依据：{escape(c.basis)}{ratio}</p>")
            if c.records:
                parts.append("<ul style='margin-top:0'>" + "".join(f"<li>{escape(r)}</li>" for r in c.records)
                             + "</ul>")
            else:
                parts.append("<p style='color:#666'>（无相关记录）</p>")
        parts.append(f"<p style='color:#444'><b>考核规则</b><br>{escape(self._rule)}</p>"
                     f"<p style='color:#444'><b>算例</b><br>{escape(self._example)}</p>")
        self.detail.setHtml("".join(parts))

    def _fit(self) -> None:
        refit_columns(self.table)
        wanted = fit_name_table(self.table, self.NAME_COLUMN)
        self.detail.setMinimumWidth(20 * self.fontMetrics().horizontalAdvance("国"))
        if not self._sized and self.splitter.isVisible() and self.model.rowCount():
            self._sized = True  # first time on screen with names: whole if there is room
            right = self.detail.minimumWidth()
            left = min(wanted, self.splitter.width() - right - self.splitter.handleWidth())
            self.splitter.setSizes([max(left, self.table.minimumWidth()), self.splitter.width() - left])

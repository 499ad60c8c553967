"""填报日历: a period's due date, who reported on time, late or not at all, and what each department still owes.

Read in the background (services/supervision/calendar); loaded when shown and again on reload() while shown (a
hidden tab only notes that it is out of date). Double-clicking an owed report shows its target in the plan.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop.domain.status import COMPLETED, NOT_REPORTED, OVERDUE, YELLOW
from qjgb_desktop.qtmodels.lights import state_icon
from qjgb_desktop.ui.supervision.assessment_panel import (
    ReadWhenShown,
    fit_name_table,
    name_table,
    refit_columns,
    side_by_side,
)
from qjgb_desktop.ui.supervision.panel import DepartmentRole, TargetIdRole, _item

ON_TIME, LATE, MISSING = "已报", "逾期报", "未报"  # services.calendar's states (not imported: no SQLAlchemy here)
SHOWN_AS = {ON_TIME: COMPLETED, LATE: YELLOW, MISSING: NOT_REPORTED}  # the light each state borrows its shape from
LATE_RED = QColor("#C62828")


def state_item(state: str, overdue: bool, target_id: int | None = None):
    """已报 / 逾期报 / 未报, and 未报 after the due date as 未报（已逾期） in red, each with its own shape."""
    text = "未报（已逾期）" if state == MISSING and overdue else state
    item = _item(text, target_id)
    item.setIcon(state_icon(OVERDUE if text != state else SHOWN_AS.get(state, NOT_REPORTED)))
    if text != state:
        item.setForeground(QBrush(LATE_RED))
    return item


def _soon_item(text: str, code: str, department: str | None) -> QTreeWidgetItem:
    item = QTreeWidgetItem([text])
    item.setData(0, Qt.ItemDataRole.UserRole, (code, department))
    item.setToolTip(0, text)
    return item


def days_text(days: int) -> str:
    return f"还有 {days} 天" if days > 0 else "今天截止" if days == 0 else f"已过 {-days} 天"


class CalendarPanel(ReadWhenShown, QWidget):
    """填报日历 tab: CalendarPanel(ctx); reload() after data changes; target_activated(int) to show a target."""

    target_activated = Signal(int)
    HEADERS = ("部门", "本期状态", "应报", "按期", "逾期", "未报")
    OWED_HEADERS = ("措施", "名称", "角色", "状态", "首次录入", "报送期限")
    ALL, INCOMPLETE = "all", "incomplete"

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.period = QComboBox(objectName="calendarPeriod")
        # As wide as its longest entry from the start: its items come with the data, after the first layout.
        self.period.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.period.setMinimumContentsLength(len("2026年第4季度（本期）") + 1)
        self.period.setToolTip("查看哪个填报周期的报送情况")
        self.due_line = QLabel(objectName="calendarDue")
        self.due_line.setWordWrap(True)
        self.show_filter = QComboBox(objectName="calendarFilter")
        self.show_filter.addItem("全部部门", self.ALL)
        self.show_filter.addItem("只看未报齐", self.INCOMPLETE)
        self.summary = QLabel("正在读取…", objectName="calendarSummary")
        self.summary.setWordWrap(True)
        self.model, self.table = name_table(self, "calendarTable", self.HEADERS, 0)
        self.soon = QTreeWidget(objectName="calendarDueSoon")
        self.soon.setHeaderHidden(True)
        self.soon.setRootIsDecorated(True)
        self.soon.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.soon.setToolTip("双击一个部门，查看它在该周期的应报情况")
        self.soon_empty = QLabel("7 日内没有到期的填报周期。", objectName="calendarDueSoonEmpty")
        soon_box = QGroupBox("7 日内到期", objectName="calendarDueSoonBox")
        soon_layout = QVBoxLayout(soon_box)
        soon_layout.addWidget(self.soon_empty)
        soon_layout.addWidget(self.soon)
        self.owed_heading = QLabel(objectName="calendarOwedHeading")
        self.owed_heading.setWordWrap(True)
        self.owed_model, self.owed = name_table(self, "calendarOwed", self.OWED_HEADERS, 1)
        self.owed.setTextElideMode(Qt.TextElideMode.ElideRight)  # a measure's title: its beginning says most
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(soon_box)
        right_layout.addWidget(self.owed_heading)
        right_layout.addWidget(self.owed, 1)
        self.splitter = side_by_side("calendarSplitter", self.table, right)
        top = QHBoxLayout()
        top.addWidget(QLabel("填报周期"))
        top.addWidget(self.period)
        top.addWidget(self.due_line, 1)
        top.addWidget(QLabel("显示"))
        top.addWidget(self.show_filter)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.splitter, 1)

        self._data = None
        self._chosen: str | None = None  # the period code the user chose (None: the one containing today)
        self._pending_department: str | None = None  # to select once the period chosen from 7 日内到期 is read
        self.period.currentIndexChanged.connect(self._period_chosen)
        self.show_filter.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show_department(cur.row()))
        self.owed.doubleClicked.connect(self._owed_activated)
        self.soon.itemActivated.connect(self._soon_activated)
        ctx.database_ready.connect(self.reload)

    # -- loading ----------------------------------------------------------------------------------------
    READ_KEY = "calendar"

    @staticmethod
    def _read(session, tree, chosen, today) -> dict:  # in the background
        from qjgb_desktop.domain.periods import period_of, periods_in
        from qjgb_desktop.services.settings.record import load_settings
        from qjgb_desktop.services.supervision.calendar import due_date, due_soon, submissions

        settings = load_settings(session)
        periods = periods_in(tree.years, settings.scheme)
        codes = [p.code for p in periods]
        current = period_of(today, settings.scheme)
        if chosen in codes:
            period = periods[codes.index(chosen)]
        else:  # the period containing today, or the plan's nearest end
            period = current if current in periods else periods[0] if today < periods[0].start else periods[-1]
        return {"periods": periods, "current": current.code, "period": period,
                "due": due_date(settings, period), "today": today,
                "subs": submissions(session, period, today), "soon": due_soon(session, today),
                "titles": {m.no: m.title for m in tree.measures()}}

    def _period_chosen(self, _index: int) -> None:
        self._chosen = self.period.currentData()
        self.reload()

    # -- showing ----------------------------------------------------------------------------------------
    def _show(self, data) -> None:
        self._data = data
        period, due, today, subs = data["period"], data["due"], data["today"], data["subs"]
        codes = [p.code for p in data["periods"]]
        with QSignalBlocker(self.period):
            if [self.period.itemData(i) for i in range(self.period.count())] != codes:
                self.period.clear()
                for p in data["periods"]:
                    self.period.addItem(p.label + ("（本期）" if p.code == data["current"] else ""), p.code)
            self.period.setCurrentIndex(codes.index(period.code))
        self.due_line.setText(f"{period.label} 报送截止 {due.isoformat()}，{days_text((due - today).days)}")

        selected = self._pending_department or self.selected_department()
        self._pending_department = None
        self.model.removeRows(0, self.model.rowCount())
        for s in subs:
            row = [_item(s.department, tooltip=f"{s.department}\n本期应报 {s.expected} 份：按期 {s.on_time}、"
                                               f"逾期 {s.late}、未报 {s.missing}"),
                   state_item(s.state, s.overdue)] + [_item(n, align_right=True)
                                                      for n in (s.expected, s.on_time, s.late, s.missing)]
            row[0].setData(s.department, DepartmentRole)
            self.model.appendRow(row)
        complete = [s for s in subs if s.state != MISSING]
        on_time = sum(s.state == ON_TIME for s in complete)
        self.summary.setText(f"{len(subs)} 个部门中 {len(complete)} 个已报齐（按期 {on_time}、逾期 "
                             f"{len(complete) - on_time}），{len(subs) - len(complete)} 个未报齐")
        self._show_soon(data["soon"])
        self._apply_filter(selected)
        self._fit()

    def _show_soon(self, soon) -> None:
        self.soon.clear()
        for d in soon:
            text = (f"{d.period.label} 报送截止 {d.due.isoformat()}（{days_text(d.days_left)}），"
                    f"{len(d.departments)} 个部门未报齐")
            head = _soon_item(text, d.period.code, None)
            for s in d.departments:
                head.addChild(_soon_item(f"{s.department}：未报 {s.missing} 份（应报 {s.expected} 份）",
                                         d.period.code, s.department))
            self.soon.addTopLevelItem(head)
        self.soon.expandAll()
        self.soon.setVisible(bool(soon))
        self.soon_empty.setVisible(not soon)
        rows = sum(1 + len(d.departments) for d in soon)
        row_height = max(self.soon.sizeHintForRow(0), self.fontMetrics().height() + 4)
        self.soon.setFixedHeight(min(rows, 5) * row_height + 2 * self.soon.frameWidth() + 2)

    def _apply_filter(self, keep: str | None = None) -> None:
        keep = keep or self.selected_department()
        only_missing = self.show_filter.currentData() == self.INCOMPLETE
        for r in range(self.model.rowCount()):
            self.table.setRowHidden(r, only_missing and not self.model.item(r, 1).text().startswith(MISSING))
        visible = [r for r in range(self.model.rowCount()) if not self.table.isRowHidden(r)]
        names = [self.model.item(r, 0).data(DepartmentRole) for r in range(self.model.rowCount())]
        row = names.index(keep) if keep in names and names.index(keep) in visible else (visible or [-1])[0]
        if row >= 0:
            self.table.selectRow(row)
        else:
            self.table.clearSelection()
        self._show_department(row)

    def selected_department(self) -> str | None:
        index = self.table.currentIndex()
        if not index.isValid() or self.table.isRowHidden(index.row()):
            return None
        return index.siblingAtColumn(0).data(DepartmentRole)

    def select_department(self, name: str) -> bool:
        names = [self.model.item(r, 0).data(DepartmentRole) for r in range(self.model.rowCount())]
        if name not in names:
            return False
        if self.table.isRowHidden(names.index(name)):
            self.show_filter.setCurrentIndex(0)
        self.table.selectRow(names.index(name))
        return True

    def _show_department(self, row: int) -> None:
        self.owed_model.removeRows(0, self.owed_model.rowCount())
        if self._data is None or row < 0:
            self.owed_heading.setText("")
            return
        s, titles = self._data["subs"][row], self._data["titles"]
        self.owed_heading.setText(f"{s.department} · {self._data['period'].label}应报 {s.expected} 份："
                                  f"按期 {s.on_time}、逾期 {s.late}、未报 {s.missing}。双击一行可在计划中查看。")
        for o in s.owed:
            title = titles.get(o.measure_no, "")
            tip = f"措施{o.measure_no}. {title} · {o.year}年度目标"
            entered = _item(f"{o.entered:%Y-%m-%d %H:%M}" if o.entered else "—", o.target_id,
                            tooltip=f"报告 #{o.report_id}，首次录入 {o.entered:%Y-%m-%d %H:%M:%S}" if o.entered else None)
            self.owed_model.appendRow([
                _item(f"措施{o.measure_no} · {o.year}", o.target_id, tooltip=tip),
                _item(title, o.target_id, tooltip=tip),
                _item("牵头" if o.role == "lead" else "配合", o.target_id),
                state_item(o.state, o.entered is None and self._data["today"] > o.due, o.target_id),
                entered, _item(o.due.isoformat(), o.target_id)])
        refit_columns(self.owed)
        fit_name_table(self.owed, 1, 6)

    def _owed_activated(self, index) -> None:
        target_id = index.siblingAtColumn(0).data(TargetIdRole)
        if target_id is not None:
            self.target_activated.emit(int(target_id))

    def _soon_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        code, department = item.data(0, Qt.ItemDataRole.UserRole) or (None, None)
        if code is None:
            return
        if code != self.period.currentData():
            self._chosen = code
            self._pending_department = department
            self.reload()
        elif department:
            self.select_department(department)

    def _fit(self) -> None:
        refit_columns(self.table)
        wanted = fit_name_table(self.table, 0)
        if not self._sized and self.splitter.isVisible() and self.model.rowCount():
            self._sized = True  # first time on screen with names: whole if there is room, the rest to the right
            right = max(self.splitter.widget(1).minimumSizeHint().width(), self.owed.minimumWidth())
            left = min(wanted, self.splitter.width() - right - self.splitter.handleWidth())
            self.splitter.setSizes([max(left, self.table.minimumWidth()), self.splitter.width() - left])

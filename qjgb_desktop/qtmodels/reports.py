"""Progress reports as a table (newest first), for the detail panel and the revision history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from qjgb_desktop.qtmodels.rows import RecordRole, RecordTableModel

if TYPE_CHECKING:  # the services import SQLAlchemy, which stays off start-up
    from qjgb_desktop.services.progress.reports import ReportView

COL_YEAR, COL_PERIOD, COL_DATE, COL_DEPARTMENT, COL_REPORTER, COL_STATUS, COL_PERCENT, COL_DONE, COL_VERSION = range(9)
COLUMNS = ("年度", "周期", "填报日期", "填报部门", "填报人", "状态", "完成度", "工作进展", "版本")
ReportRole = RecordRole


class ReportsTableModel(RecordTableModel):
    COLUMNS = COLUMNS

    def set_reports(self, reports: list[ReportView]) -> None:
        self.set_records(reports)

    def reports(self) -> list[ReportView]:
        return self.records()

    def report(self, row: int) -> ReportView | None:
        return self.record(row)

    def record_data(self, r: ReportView, col: int, role: int):
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"报告 #{r.id}（第 {r.revision} 版）由 {r.created_by} 于 {r.created_at:%Y-%m-%d %H:%M} 录入",
                     f"工作进展：{r.done or '—'}", f"存在问题：{r.problems or '—'}", f"下步计划：{r.next_steps or '—'}"]
            if r.deleted:
                lines.append(f"已删除：{r.deleted_by} {r.deleted_at:%Y-%m-%d %H:%M}，原因：{r.delete_reason}")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.ForegroundRole and (r.deleted or not r.is_current):
            from PySide6.QtGui import QColor

            return QColor("#8a8a8a")
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_PERCENT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(r: ReportView, col: int) -> str:
        if col == COL_YEAR:
            return str(r.year)
        if col == COL_PERIOD:
            return r.period
        if col == COL_DATE:
            return r.report_date.isoformat()
        if col == COL_DEPARTMENT:
            return r.department
        if col == COL_REPORTER:
            return r.reporter
        if col == COL_STATUS:
            return r.status
        if col == COL_PERCENT:
            return f"{r.percent}%"
        if col == COL_DONE:
            return r.done.replace("\n", " ")
        state = "已删除" if r.deleted else ("现行" if r.is_current else "已被修订")
        return f"第{r.revision}版 · {state}"

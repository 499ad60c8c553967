"""Excel for leaders (导出): the annex table with the year's progress, indicators, every report, the 督办 list.

Written with openpyxl's write-only mode (rows streamed, constant memory) so 100,000 reports export quickly.
Made for printing: Chinese headers, widths, wrapped text, frozen headers, A4 landscape with the header rows
repeated on every page, states as coloured fills plus their names. Text a user typed is always written as text:
a value starting with = + - @ never becomes a formula.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.status import expected_percent
from ..store.models import Department, Measure, ProgressReport, YearlyTarget
from .indicators import indicator_rows
from .status import compute_status, follow_ups

FORMULA_STARTS = ("=", "+", "-", "@")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
# Light fills behind the state's name (its text stays readable in grey print).
STATE_FILLS = {state: PatternFill("solid", fgColor=_light) for state, _light in {
    "已完成": "CFE2F3", "正常": "D9EAD3", "关注": "FFF2CC", "滞后": "F4CCCC", "逾期": "E6B8AF",
    "未填报": "EEEEEE", "未开始": "FFFFFF"}.items()}


def _cell(ws, value, *, bold=False, fill=None, align=WRAP, border=True, number_format=None):
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"  # what the user typed is text, never a formula
        cell.quotePrefix = True
    if bold:
        cell.font = Font(bold=True)
    if fill is not None:
        cell.fill = fill
    cell.alignment = align
    if border:
        cell.border = BORDER
    if number_format:
        cell.number_format = number_format
    return cell


def _header(ws, labels: list[str]):
    return [_cell(ws, label, bold=True, fill=HEAD_FILL, align=CENTER) for label in labels]


def _print_setup(ws, title_rows: str, freeze: str, widths: list[float]) -> None:
    """Before any row is written (write-only mode writes the sheet's head with the first row)."""
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = freeze
    ws.print_title_rows = title_rows
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4


Progress = Callable[[int, int], None]


def export_workbook(session: Session, out: Path, year: int | None = None, today: date | None = None,
                    progress: Progress | None = None) -> dict[str, int]:
    """Write the leaders' workbook; returns the number of data rows per sheet."""
    today = today or date.today()
    snap = compute_status(session, today)
    tree = snap.tree
    year = year or snap.year
    if year not in tree.years:
        raise ValueError(f"年度应为 {tree.years[0]}–{tree.years[-1]}")
    wb = Workbook(write_only=True)
    counts = {"年度目标进度安排表": _annex(wb, session, snap, year),
              "指标": _indicators(wb, session, tree),
              "进展明细": _reports(wb, session, progress),
              "督办清单": _follow_ups(wb, snap)}
    out = Path(out)
    partial = out.with_name(out.name + ".part")
    try:
        wb.save(partial)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return counts


def _annex(wb, session: Session, snap, year: int) -> int:
    tree = snap.tree
    ws = wb.create_sheet("年度目标进度安排表")
    years = tree.years
    progress_cols = ["状态", "完成度", "最新工作进展", "最近填报", "佐证"]
    widths = [14, 16, 18] + [42] * len(years) + [9, 8, 36, 12, 6]
    _print_setup(ws, "2:3", "D4", widths)
    n_cols = 3 + len(years) + len(progress_cols)
    expected = expected_percent(year, snap.today)
    ws.append([_cell(ws, f"{tree.title}年度目标进度安排表（{year}年进展，截至 {snap.today.isoformat()}，"
                         f"应完成约 {expected:.0f}%）", bold=True, align=CENTER, border=False)])
    ws.merged_cells.add(CellRange(min_row=1, max_row=1, min_col=1, max_col=n_cols))
    ws.append(_header(ws, ["改革任务", "改革措施", "责任部门", "年度目标", *[""] * (len(years) - 1),
                           f"{year}年进展", *[""] * (len(progress_cols) - 1)]))
    ws.append(_header(ws, ["", "", "", *[f"{y}年" for y in years], *progress_cols]))
    for col in (1, 2, 3):
        ws.merged_cells.add(CellRange(min_row=2, max_row=3, min_col=col, max_col=col))
    ws.merged_cells.add(CellRange(min_row=2, max_row=2, min_col=4, max_col=3 + len(years)))
    ws.merged_cells.add(CellRange(min_row=2, max_row=2, min_col=4 + len(years), max_col=n_cols))

    latest_done = _latest_narratives(session)
    row = 4
    rows = 0
    for action in tree.actions:
        first = row
        for i, m in enumerate(action.measures):
            target = next((t for t in m.targets if t.year == year), None)
            status = snap.targets.get(target.id) if target else None
            state = status.state if status else ""
            departments = "、".join([f"{m.lead}（牵头）", *m.cooperating])
            ws.append([
                _cell(ws, f"（{action.numeral}）{action.title}" if i == 0 else None, align=CENTER),
                _cell(ws, f"{m.no}.{m.title}"),
                _cell(ws, departments),
                *[_cell(ws, next((t.text for t in m.targets if t.year == y), "")) for y in years],
                _cell(ws, state, fill=STATE_FILLS.get(state), align=CENTER),
                _cell(ws, (status.percent / 100) if status else None, number_format="0%", align=CENTER),
                _cell(ws, latest_done.get(target.id, "") if target else ""),
                _cell(ws, status.last_report if status and status.last_report else None, number_format="yyyy-mm-dd",
                      align=CENTER),
                _cell(ws, snap.evidence.get(target.id, 0) if target else 0, align=CENTER),
            ])
            row += 1
            rows += 1
        if row - 1 > first:  # the 改革任务 cell spans its measures, as in the document
            ws.merged_cells.add(CellRange(min_row=first, max_row=row - 1, min_col=1, max_col=1))
    return rows


def _latest_narratives(session: Session) -> dict[int, str]:
    """工作进展 of each target's latest counting report."""
    rows = session.execute(select(ProgressReport.yearly_target_id, ProgressReport.done)
                           .where(ProgressReport.is_current.is_(True), ProgressReport.deleted.is_(False))
                           .order_by(ProgressReport.yearly_target_id, ProgressReport.report_date, ProgressReport.id))
    return {tid: done for tid, done in rows}


def _indicators(wb, session: Session, tree) -> int:
    ws = wb.create_sheet("指标")
    years = tree.years
    _print_setup(ws, "1:1", "C2", [8, 40, 8, 6, *[10] * len(years), 12, 12, 10])
    ws.append(_header(ws, ["措施", "指标", "单位", "比较", *[f"{y}年目标" for y in years], "最新实际", "截至",
                           "是否达标"]))
    n = 0
    for row in indicator_rows(session, None, tree):
        latest = row["latest"]
        met = {True: "达标", False: "未达标", None: ""}[row["met"]]
        ws.append([_cell(ws, row["measure"], align=CENTER), _cell(ws, row["name"]), _cell(ws, row["unit"], align=CENTER),
                   _cell(ws, {">=": "≥", "<=": "≤", "=": "="}[row["comparator"]], align=CENTER),
                   *[_cell(ws, row["targets"][str(y)]) for y in years],
                   _cell(ws, latest["value"] if latest else None),
                   _cell(ws, date.fromisoformat(latest["as_of"]) if latest else None, number_format="yyyy-mm-dd"),
                   _cell(ws, met, fill=STATE_FILLS["已完成" if row["met"] else "滞后"] if row["met"] is not None
                         else None, align=CENTER)])
        n += 1
    return n


def _reports(wb, session: Session, progress: Progress | None) -> int:
    ws = wb.create_sheet("进展明细")
    _print_setup(ws, "1:1", "A2", [6, 6, 9, 11, 14, 9, 9, 7, 40, 30, 30, 10, 17])
    ws.append(_header(ws, ["措施", "年度", "周期", "填报日期", "填报部门", "填报人", "状态", "完成度", "工作进展",
                           "存在问题", "下步计划", "录入人", "录入时间"]))
    q = (select(Measure.no, YearlyTarget.year, ProgressReport.period, ProgressReport.report_date, Department.name,
                ProgressReport.reporter, ProgressReport.status, ProgressReport.percent, ProgressReport.done,
                ProgressReport.problems, ProgressReport.next_steps, ProgressReport.created_by,
                ProgressReport.created_at)
         .join(YearlyTarget, YearlyTarget.id == ProgressReport.yearly_target_id)
         .join(Measure, Measure.id == YearlyTarget.measure_id)
         .join(Department, Department.id == ProgressReport.department_id)
         .where(ProgressReport.is_current.is_(True), ProgressReport.deleted.is_(False))
         .order_by(Measure.no, YearlyTarget.year, ProgressReport.report_date, ProgressReport.id))
    total = None
    n = 0
    for r in session.execute(q).yield_per(5000):
        ws.append([r[0], r[1], r[2], _cell(ws, r[3], number_format="yyyy-mm-dd", border=False), r[4],
                   _cell(ws, r[5], border=False), r[6], _cell(ws, r[7] / 100, number_format="0%", border=False),
                   _cell(ws, r[8], border=False), _cell(ws, r[9], border=False), _cell(ws, r[10], border=False),
                   _cell(ws, r[11], border=False),
                   _cell(ws, r[12], number_format="yyyy-mm-dd hh:mm", border=False)])
        n += 1
        if progress is not None and n % 5000 == 0:
            progress(n, total or n)
    return n


def _follow_ups(wb, snap) -> int:
    ws = wb.create_sheet("督办清单")
    _print_setup(ws, "1:1", "A2", [14, 30, 6, 8, 8, 12, 10])
    ws.append(_header(ws, ["牵头部门", "改革措施", "年度", "状态", "完成度", "最近填报", "未报天数"]))
    n = 0
    for dept, items in follow_ups(snap).items():
        for f in items:
            ws.append([_cell(ws, dept), _cell(ws, f"{f.measure_no}.{f.measure_title}"), _cell(ws, f.year, align=CENTER),
                       _cell(ws, f.state, fill=STATE_FILLS.get(f.state), align=CENTER),
                       _cell(ws, f.percent / 100, number_format="0%", align=CENTER),
                       _cell(ws, f.last_report, number_format="yyyy-mm-dd", align=CENTER),
                       _cell(ws, f.days_since_report if f.days_since_report is not None else "从未填报", align=CENTER)])
            n += 1
    return n

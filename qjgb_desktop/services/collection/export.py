"""Excel for leaders (导出): the annex table with the year's progress, indicators, every report, the 督办 list,
the 督办 items with their steps, and the year's 考核 with the records behind every score.

Written with openpyxl's write-only mode (rows streamed, constant memory) so 100,000 reports export quickly.
Made for printing: Chinese headers, widths, wrapped text, frozen headers, A4 landscape with the header rows
repeated on every page, states as coloured fills plus their names. Every row has an explicit height estimated
from its texts (xlsx_layout): LibreOffice prints rows without one a single line high. A text too long for one
row (409 pt) continues on the rows below, so every character is printed. Text a user typed is always written
as text: a value starting with = + - @ never becomes a formula.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.status import expected_percent
from qjgb_desktop.services.collection.xlsx_layout import MAX_ROW_PT, RowFitter, grid_heights, lines_height, text_lines
from qjgb_desktop.services.progress.as_of import visible_clause
from qjgb_desktop.services.progress.indicators import indicator_rows
from qjgb_desktop.services.progress.status import compute_status, follow_ups
from qjgb_desktop.store.files import save_workbook
from qjgb_desktop.store.models import Department, Measure, MeasureDepartment, ProgressReport, YearlyTarget

FORMULA_STARTS = ("=", "+", "-", "@")


def sheet_text(value):
    """Text stored before input was cleaned may hold control characters a workbook cannot carry."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if type(value) is str else value
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
# Light fills behind the state's name (its text stays readable in grey print).
STATE_FILLS = {state: PatternFill("solid", fgColor=_light) for state, _light in {
    "已完成": "CFE2F3", "正常": "D9EAD3", "关注": "FFF2CC", "滞后": "F4CCCC", "逾期": "E6B8AF",
    "未填报": "EEEEEE", "未开始": "FFFFFF"}.items()}
# A4 landscape holds about 140 width units at 100 %; at most 160 keeps fitToWidth's scale near 88 %.
PAGE_UNITS = 160
ANNEX_FIXED = [6, 9, 11.5, 7, 5.5, 16, 10, 5]  # every annex column but the yearly targets
ANNEX_YEAR = (30, 42)  # narrowest (the 321-character target fits one row) and widest yearly-target column


class _Styles:
    """One StyleArray per look, made once per workbook.

    Assigning font, fill, border and alignment to each of a million cells hashes those objects every time
    (a third of the export's time); a cell given a ready StyleArray costs nothing more than a plain one.
    """

    def __init__(self, wb):
        self._stand_in = SimpleNamespace(parent=wb)  # a cell's styles are registered with its sheet's parent
        self._made: dict[tuple, StyleArray] = {}
        self._quoted: dict[int, StyleArray] = {}

    def __call__(self, *, bold=False, fill=None, align=WRAP, border=True, number_format=None) -> StyleArray:
        key = (bold, id(fill), id(align), border, number_format)
        style = self._made.get(key)
        if style is None:
            cell = WriteOnlyCell(self._stand_in)
            if bold:
                cell.font = Font(bold=True)
            if fill is not None:
                cell.fill = fill
            cell.alignment = align
            if border:
                cell.border = BORDER
            if number_format:
                cell.number_format = number_format
            style = self._made[key] = cell._style
        return style

    def quoted(self, style: StyleArray | None) -> StyleArray:
        """The same look with Excel's quote prefix: the text shows as typed, never as a formula."""
        q = self._quoted.get(id(style))
        if q is None:
            q = self._quoted[id(style)] = StyleArray(style if style is not None else StyleArray())
            q.quotePrefix = 1
        return q


class _Sheet:
    """A write-only sheet whose rows are appended with their printed heights.

    Two shortcuts into openpyxl's write-only writer (3.1; tests/services/collection/test_excel_print.py checks the
    written XML):
    - a row's height: the writer copies the row's entry of row_dimensions into the <row> element's
      attributes (`attrs.update(dims.get(row_idx, {}))`) as the row is appended, so a shared dict of those
      attributes, set just before and dropped just after, does it; a RowDimension per row would cost 10 µs
      and, kept, memory.
    - styled cells: append() first tries each value as a plain one, so a Cell object costs a failed
      conversion (with its repr) besides its creation, 5 s for the 100,000 reports. The sheet instead
      streams one reused Cell per column (each row is written out before the next is filled), given its
      value through openpyxl's own checks and a ready StyleArray.
    """

    def __init__(self, wb, styles: _Styles, title: str, widths: list[float], title_rows: str, freeze: str,
                 mark_col: int):
        self.ws = ws = wb.create_sheet(title)
        _print_setup(ws, title_rows, freeze, widths)
        ws._values_to_row = _placed
        self.styles = styles
        self.widths = widths
        self.fitter = RowFitter(widths)
        self.mark_col = mark_col  # where a continuation row says （续）
        self.row = 0
        self._pool = [Cell(ws, 1, col) for col in range(1, len(widths) + 1)]
        # a date format already: binding a date then leaves the style alone instead of setting one
        self._scratch = StyleArray([0, 0, 0, 14, 0, 0, 0, 0, 0])
        self._heights: dict[float, dict[str, str]] = {}

    def write(self, values: list, styles: list, height: float) -> None:
        """One sheet row; styles[i] is a StyleArray from _Styles, or None for a plain number."""
        self.row += 1
        attrs = self._heights.get(height)
        if attrs is None:
            attrs = self._heights[height] = {"ht": f"{height:.2f}".rstrip("0").rstrip("."), "customHeight": "1"}
        cells = self._pool[:len(values)]
        scratch = self._scratch
        for cell, value, style in zip(cells, values, styles):
            cell._style = scratch  # what binding the value may touch: never a shared StyleArray
            value = sheet_text(value)
            cell.value = value
            if type(value) is str and value.startswith(FORMULA_STARTS):
                cell.data_type = "s"  # what the user typed is text, never a formula
                style = self.styles.quoted(style)
            cell._style = style  # shared: written out at once and never changed
        dims = self.ws.row_dimensions
        dims[self.row] = attrs
        self.ws.append(cells)
        del dims[self.row]

    def add(self, values: list, styles: list) -> int:
        """A logical row, continued on further sheet rows if a text needs more than one row can show."""
        parts = self.fitter.split(values, self.mark_col)
        for part, height in parts:
            self.write(part, styles, height)
        return len(parts)


def _placed(cells, row_idx):
    """Stands in for WriteOnlyWorksheet._values_to_row: the cells are ready, they only need their row."""
    for cell in cells:
        cell.row = row_idx
        yield cell


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


def _header(sheet: _Sheet, rows: list[list], merges=()) -> None:
    """Header rows (bold on blue, centred), merges given 0-based within them as (row, col, last_row, last_col)."""
    style = sheet.styles(bold=True, fill=HEAD_FILL, align=CENTER)
    first = sheet.row + 1
    for values, height in zip(rows, grid_heights(rows, sheet.widths, merges)):
        sheet.write(values, [style] * len(values), height)
    for r1, c1, r2, c2 in merges:
        sheet.ws.merged_cells.add(CellRange(min_row=first + r1, max_row=first + r2, min_col=c1 + 1, max_col=c2 + 1))


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
    styles = _Styles(wb)
    counts = {"年度目标进度安排表": _annex(wb, styles, session, snap, year),
              "配合进展": _cooperating(wb, styles, snap, year),
              "指标": _indicators(wb, styles, session, tree),
              "进展明细": _reports(wb, styles, session, progress),
              "督办清单": _follow_ups(wb, styles, snap),
              "督办事项": _supervision_items(wb, styles, session, today)}
    counts.update(_assessment(wb, styles, session, year, today))
    try:
        save_workbook(wb, Path(out))
    except BaseException:
        _discard(wb)
        raise
    return counts


def _discard(wb) -> None:
    """After a failed save (disk full…): finish the sheets' row writers, which would otherwise complain when
    collected, and remove their temporary files."""
    for ws in wb.worksheets:
        rows = getattr(ws, "_rows", None)
        if rows is not None:
            try:
                rows.close()
            except Exception:  # noqa: BLE001 - their file may be closed already: nothing left to save
                pass
        writer = getattr(ws, "_writer", None)
        if writer is not None:
            try:
                writer.close()
                Path(writer.out).unlink(missing_ok=True)
            except Exception:  # noqa: BLE001
                pass


def annex_widths(n_years: int) -> list[float]:
    """改革任务, 改革措施, 责任部门, one column per year's target, then the progress columns: ≤ PAGE_UNITS."""
    year = min(max((PAGE_UNITS - sum(ANNEX_FIXED)) // n_years, ANNEX_YEAR[0]), ANNEX_YEAR[1])
    return [*ANNEX_FIXED[:3], *[year] * n_years, *ANNEX_FIXED[3:]]


def _annex(wb, st: _Styles, session: Session, snap, year: int) -> int:
    tree = snap.tree
    years = tree.years
    progress_cols = ["状态", "完成度", "最新工作进展", "最近填报", "佐证"]
    sheet = _Sheet(wb, st, "年度目标进度安排表", annex_widths(len(years)), "2:3", "D4", mark_col=1)
    n_cols = 3 + len(years) + len(progress_cols)
    expected = expected_percent(year, snap.today)
    title = (f"{tree.title}年度目标进度安排表（{year}年进展，截至 {snap.today.isoformat()}，"
             f"应完成约 {expected:.0f}%）")
    title_style = st(bold=True, align=CENTER, border=False)
    sheet.write([title], [title_style], grid_heights([[title]], sheet.widths, [(0, 0, 0, n_cols - 1)])[0])
    sheet.ws.merged_cells.add(CellRange(min_row=1, max_row=1, min_col=1, max_col=n_cols))
    _header(sheet, [["改革任务", "改革措施", "责任部门", "年度目标", *[""] * (len(years) - 1),
                     f"{year}年进展", *[""] * (len(progress_cols) - 1)],
                    ["", "", "", *[f"{y}年" for y in years], *progress_cols]],
            [(0, 0, 1, 0), (0, 1, 1, 1), (0, 2, 1, 2), (0, 3, 0, 2 + len(years)), (0, 3 + len(years), 0, n_cols - 1)])

    wrap, center = st(), st(align=CENTER)
    percent = st(number_format="0%", align=CENTER)
    day = st(number_format="yyyy-mm-dd", align=CENTER)
    latest_done = _latest_narratives(session, snap.today)
    rows = 0
    for action in tree.actions:
        parts = []
        for m in action.measures:
            target = next((t for t in m.targets if t.year == year), None)
            status = snap.targets.get(target.id) if target else None
            state = status.state if status else ""
            departments = "、".join([f"{m.lead}（牵头）", *m.cooperating])
            values = [None, f"{m.no}.{m.title}", departments,
                      *[next((t.text for t in m.targets if t.year == y), "") for y in years],
                      state, (status.percent / 100) if status else None,
                      latest_done.get(target.id, "") if target else "",
                      status.last_report if status and status.last_report else None,
                      snap.evidence.get(target.id, 0) if target else 0]
            styles = [center, wrap, wrap, *[wrap] * len(years), st(fill=STATE_FILLS.get(state), align=CENTER),
                      percent, wrap, day, center]
            parts += [(p, h, styles) for p, h in sheet.fitter.split(values, sheet.mark_col)]
            rows += 1
        # the 改革任务 cell spans its measures, as in the document; they share the height its text needs
        title = f"（{action.numeral}）{action.title}"
        lack = lines_height(text_lines(title, sheet.widths[0])) - sum(h for _, h, _ in parts)
        if lack > 0:
            p, h, styles = parts[-1]
            parts[-1] = (p, min(h + lack, MAX_ROW_PT), styles)
        parts[0][0][0] = title
        first = sheet.row + 1
        for p, h, styles in parts:
            sheet.write(p, styles, h)
        if sheet.row > first:
            sheet.ws.merged_cells.add(CellRange(min_row=first, max_row=sheet.row, min_col=1, max_col=1))
    return rows


def _latest_narratives(session: Session, day: date) -> dict[int, str]:
    """工作进展 of each target's latest counting report by its lead department, as of the day (the same reports the
    state and percent beside it come from)."""
    lead = (select(MeasureDepartment.department_id).join(YearlyTarget, YearlyTarget.measure_id == MeasureDepartment.measure_id)
            .where(YearlyTarget.id == ProgressReport.yearly_target_id, MeasureDepartment.role == "lead")
            .scalar_subquery())
    rows = session.execute(select(ProgressReport.yearly_target_id, ProgressReport.done)
                           .where(ProgressReport.department_id == lead, visible_clause("progress_report", day))
                           .order_by(ProgressReport.yearly_target_id, ProgressReport.report_date, ProgressReport.id))
    return {tid: done for tid, done in rows}


def _indicators(wb, st: _Styles, session: Session, tree) -> int:
    years = tree.years
    sheet = _Sheet(wb, st, "指标", [8, 40, 8, 6, *[10] * len(years), 12, 12, 10], "1:1", "C2", mark_col=1)
    _header(sheet, [["措施", "指标", "单位", "比较", *[f"{y}年目标" for y in years], "最新实际", "截至", "是否达标"]])
    wrap, center, day = st(), st(align=CENTER), st(number_format="yyyy-mm-dd")
    met_fills = {True: st(fill=STATE_FILLS["已完成"], align=CENTER), False: st(fill=STATE_FILLS["滞后"], align=CENTER),
                 None: center}
    n = 0
    for row in indicator_rows(session, None, tree):
        latest = row["latest"]
        sheet.add([row["measure"], row["name"], row["unit"], {">=": "≥", "<=": "≤", "=": "="}[row["comparator"]],
                   *[row["targets"][str(y)] for y in years],
                   latest["value"] if latest else None,
                   date.fromisoformat(latest["as_of"]) if latest else None,
                   {True: "达标", False: "未达标", None: ""}[row["met"]]],
                  [center, wrap, center, center, *[wrap] * len(years), wrap, day, met_fills[row["met"]]])
        n += 1
    return n


REPORT_WIDTHS = [5, 5, 8, 11, 14, 9, 10, 7, 28, 19, 19, 9, 16]


def _reports(wb, st: _Styles, session: Session, progress: Progress | None) -> int:
    sheet = _Sheet(wb, st, "进展明细", REPORT_WIDTHS, "1:1", "A2", mark_col=2)
    _header(sheet, [["措施", "年度", "周期", "填报日期", "填报部门", "填报人", "状态", "完成度", "工作进展",
                     "存在问题", "下步计划", "录入人", "录入时间"]])
    q = (select(Measure.no, YearlyTarget.year, ProgressReport.period, ProgressReport.report_date, Department.name,
                ProgressReport.reporter, ProgressReport.status, ProgressReport.percent, ProgressReport.done,
                ProgressReport.problems, ProgressReport.next_steps, ProgressReport.created_by,
                ProgressReport.created_at)
         .join(YearlyTarget, YearlyTarget.id == ProgressReport.yearly_target_id)
         .join(Measure, Measure.id == YearlyTarget.measure_id)
         .join(Department, Department.id == ProgressReport.department_id)
         .where(ProgressReport.is_current.is_(True), ProgressReport.deleted.is_(False))
         .order_by(Measure.no, YearlyTarget.year, ProgressReport.report_date, ProgressReport.id))
    # Every text wraps (a department's or reporter's name can outgrow its column), everything at the top of
    # its row (措施 and 年度 too: beside a long narrative a plain number would sit at the bottom); no borders.
    wrap = st(border=False)
    styles = [wrap, wrap, wrap, st(number_format="yyyy-mm-dd", border=False), wrap, wrap, wrap,
              st(number_format="0%", border=False), wrap, wrap, wrap, wrap,
              st(number_format="yyyy-mm-dd hh:mm", border=False)]
    add = sheet.add
    total = None
    n = 0
    for r in session.execute(q).yield_per(5000):
        add([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] / 100, r[8], r[9], r[10], r[11], r[12]], styles)
        n += 1
        if progress is not None and n % 5000 == 0:
            progress(n, total or n)
    return n


def _cooperating(wb, st: _Styles, snap, year: int) -> int:
    """Each cooperating department's own latest report on a target of the year, beside the lead's state and percent
    that stand for the target (the rule of truth: a cooperating report never replaces the lead's)."""
    sheet = _Sheet(wb, st, "配合进展", [30, 14, 8, 8, 16, 10, 8, 12], "1:1", "A2", mark_col=0)
    _header(sheet, [["改革措施", "牵头部门", "目标状态", "完成度", "配合部门", "配合状态", "配合完成度", "配合最近填报"]])
    wrap = st()
    percent, day = st(number_format="0%", align=CENTER), st(number_format="yyyy-mm-dd", align=CENTER)
    n = 0
    for m in snap.tree.measures():
        for t in m.targets:
            s = snap.targets[t.id]
            if t.year != year:
                continue
            for c in s.cooperating:
                sheet.add([f"{m.no}.{m.title}", m.lead, s.state, s.percent / 100, c.department, c.state,
                           c.percent / 100, c.last_report],
                          [wrap, wrap, st(fill=STATE_FILLS.get(s.state), align=CENTER), percent, wrap,
                           st(fill=STATE_FILLS.get(c.state), align=CENTER), percent, day])
                n += 1
    return n


def _follow_ups(wb, st: _Styles, snap) -> int:
    sheet = _Sheet(wb, st, "督办清单", [14, 30, 6, 8, 8, 12, 10], "1:1", "A2", mark_col=0)
    _header(sheet, [["牵头部门", "改革措施", "年度", "状态", "完成度", "最近填报", "未报天数"]])
    wrap, center = st(), st(align=CENTER)
    percent, day = st(number_format="0%", align=CENTER), st(number_format="yyyy-mm-dd", align=CENTER)
    n = 0
    for dept, items in follow_ups(snap).items():
        for f in items:
            sheet.add([dept, f"{f.measure_no}.{f.measure_title}", f.year, f.state, f.percent / 100, f.last_report,
                       f.days_since_report if f.days_since_report is not None else "从未填报"],
                      [wrap, wrap, center, st(fill=STATE_FILLS.get(f.state), align=CENTER), percent, day, center])
            n += 1
    return n


def _supervision_items(wb, st: _Styles, session: Session, today: date) -> int:
    from qjgb_desktop.services.supervision.items import list_items

    sheet = _Sheet(wb, st, "督办事项", [6, 14, 13, 24, 8, 11, 11, 11, 52], "1:1", "C2", mark_col=8)
    _header(sheet, [["编号", "督办部门", "事项", "立项原因", "当前环节", "立项日期", "反馈期限", "办结日期", "办理经过"]])
    wrap, center, day = st(), st(align=CENTER), st(number_format="yyyy-mm-dd", align=CENTER)
    late = st(fill=STATE_FILLS["滞后"], align=CENTER)
    n = 0
    for item in reversed(list_items(session, today)):  # oldest first, as a register reads
        history = "\n".join(f"{s.day.isoformat()} {s.kind}（{s.actor}）" + (f"：{s.summary()}" if s.summary() else "")
                            for s in item.steps)
        stage = item.stage + ("（逾期未反馈）" if item.overdue else "")
        sheet.add([item.id, item.department, item.subject, item.reason, stage, item.opened_on,
                   item.feedback_due if item.stage != "办结" else None, item.closed_on, history],
                  [center, wrap, wrap, wrap, late if item.overdue else center, day, day, day, wrap])
        n += 1
    return n


def _assessment(wb, st: _Styles, session: Session, year: int, today: date) -> dict[str, int]:
    from qjgb_desktop.services.supervision.assessment import LABELS, assess, rule_text, worked_example

    scores = assess(session, year, today)
    sheet = _Sheet(wb, st, f"{year}年考核", [10, 7, 22, 9, 13, 13, 13, 13, 58], "1:1", "D2", mark_col=8)
    _header(sheet, [["组别", "排名", "部门", "总分", *LABELS.values(), "说明"]])
    wrap, center, number = st(), st(align=CENTER), st(number_format="0.0", align=CENTER)
    for x in scores:
        sheet.add([x.group, x.rank if x.rank is not None else x.rank_label, x.department, x.total,
                   *[c.score if c.counted else "不计" for c in x.components],
                   "；".join([*(f"{c.label}：{c.basis}" for c in x.components), *([x.note] if x.note else [])])],
                  [wrap, center, wrap, number, number, number, number, number, wrap])
    sheet.add(["", "", "考核规则", "", "", "", "", "", rule_text(session) + worked_example()], [wrap] * 9)
    basis = _Sheet(wb, st, f"{year}年考核依据", [22, 14, 100], "1:1", "A2", mark_col=2)
    _header(basis, [["部门", "考核项", "依据（逐条记录）"]])
    n = 0
    for x in scores:
        for c in x.components:
            for line in c.records or [c.basis]:
                basis.add([x.department, c.label, line], [wrap, wrap, wrap])
                n += 1
    return {f"{year}年考核": len(scores), f"{year}年考核依据": n}

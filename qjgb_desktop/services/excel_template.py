"""下发模板: one fill-in workbook per department for a reporting period.

Sheet 填报: the department's targets of the period's year (as lead and as cooperating), one row each, with input
cells for 状态 (dropdown), 完成度 (whole number 0–100), 工作进展, 存在问题, 下步计划 and 填报人, prefilled with the
latest report; everything else locked by sheet protection. Sheet 指标: the indicators of those measures with an
input cell for the actual value. Hidden column A holds stable row ids (T<target id>, I<indicator id>); a very
hidden sheet _meta says which plan, department and period the template is for.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.periods import PeriodError, parse_period
from ..domain.status import REPORT_STATUSES
from ..store.models import Department, Plan, ProgressReport
from .excel_export import BORDER, CENTER, FORMULA_STARTS, HEAD_FILL, WRAP
from .plan_query import plan_tree
from .progress import ProgressError

TEMPLATE_VERSION = "1"
FILL_SHEET, INDICATOR_SHEET, META_SHEET = "填报", "指标", "_meta"
FILL_HEADERS = ("行号", "改革措施", "年度", "角色", "年度目标", "状态", "完成度（0-100）", "工作进展", "存在问题",
                "下步计划", "填报人")
FILL_INPUT_COLS = range(6, 12)  # F..K
INDICATOR_HEADERS = ("行号", "改革措施", "指标", "单位", "本年目标", "实际值")
INDICATOR_INPUT_COLS = (6,)
HEADER_ROW, FIRST_ROW = 3, 4
INPUT_FILL = PatternFill("solid", fgColor="FFF9E6")


def _text(cell, value) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True


def safe_stem(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip() or "部门"


def write_template(session: Session, department: str, period_code: str, out: Path) -> int:
    """Write one department's template; returns the number of target rows."""
    try:
        period = parse_period(period_code)
    except PeriodError as exc:
        raise ProgressError(str(exc)) from exc
    plan = session.scalars(select(Plan).order_by(Plan.id)).first()
    tree = plan_tree(session)
    if period.year not in tree.years:
        raise ProgressError(f"周期 {period.code} 不在计划年度 {tree.years[0]}–{tree.years[-1]} 内")
    if session.scalar(select(Department.id).where(Department.name == department)) is None:
        raise ProgressError(f"没有部门“{department}”；可用 qjgb plan 查看各措施的责任部门")
    targets = [(m, t, "牵头" if m.lead == department else "配合") for m in tree.measures() if department in m.departments
               for t in m.targets if t.year == period.year]
    if not targets:
        raise ProgressError(f"“{department}”在 {period.year} 年没有责任目标")
    latest = _latest_reports(session, [t.id for _, t, _ in targets])

    wb = Workbook()
    ws = wb.active
    ws.title = FILL_SHEET
    n_cols = len(FILL_HEADERS)
    ws.cell(1, 1, f"{department} · {period.label}（{period.code}）进展填报表").font = Font(bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n_cols)
    ws.cell(2, 1, "只需填写黄色单元格；状态从下拉列表选择，完成度填 0–100 的整数；其他内容已锁定。填好后保存并交回。")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n_cols)
    for col, label in enumerate(FILL_HEADERS, 1):
        cell = ws.cell(HEADER_ROW, col, label)
        cell.font, cell.fill, cell.alignment, cell.border = Font(bold=True), HEAD_FILL, CENTER, BORDER
    for i, (m, t, role) in enumerate(targets):
        r = FIRST_ROW + i
        last = latest.get(t.id)
        values = [f"T{t.id}", f"{m.no}.{m.title}", t.year, role, t.text,
                  last.status if last else "", last.percent if last else None,
                  last.done if last else "", last.problems if last else "", last.next_steps if last else "",
                  last.reporter if last else ""]
        for col, value in enumerate(values, 1):
            cell = ws.cell(r, col)
            _text(cell, value)
            cell.alignment, cell.border = WRAP, BORDER
            if col in FILL_INPUT_COLS:
                cell.protection = Protection(locked=False)
                cell.fill = INPUT_FILL
        ws.row_dimensions[r].height = 90
    last_row = FIRST_ROW + len(targets) - 1
    status_dv = DataValidation(type="list", formula1='"' + ",".join(REPORT_STATUSES) + '"', allow_blank=True,
                               showErrorMessage=True, errorTitle="状态", error="请从下拉列表中选择状态")
    status_dv.add(f"F{FIRST_ROW}:F{last_row}")
    percent_dv = DataValidation(type="whole", operator="between", formula1="0", formula2="100", allow_blank=True,
                                showErrorMessage=True, errorTitle="完成度", error="完成度应为 0 到 100 的整数")
    percent_dv.add(f"G{FIRST_ROW}:G{last_row}")
    ws.add_data_validation(status_dv)
    ws.add_data_validation(percent_dv)
    for col, width in zip("ABCDEFGHIJK", (8, 22, 6, 6, 48, 10, 10, 36, 28, 28, 10)):
        ws.column_dimensions[col].width = width
    ws.column_dimensions["A"].hidden = True
    ws.freeze_panes = f"F{FIRST_ROW}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.protection.sheet = True
    ws.protection.formatRows = False  # row heights may be adjusted to read long texts

    ind = wb.create_sheet(INDICATOR_SHEET)
    ind.cell(1, 1, f"{department} · {period.code} 指标实际值（只填黄色单元格，数字）").font = Font(bold=True, size=12)
    ind.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(INDICATOR_HEADERS))
    for col, label in enumerate(INDICATOR_HEADERS, 1):
        cell = ind.cell(HEADER_ROW, col, label)
        cell.font, cell.fill, cell.alignment, cell.border = Font(bold=True), HEAD_FILL, CENTER, BORDER
    r = FIRST_ROW
    seen = set()
    for m, t, _ in targets:
        if m.no in seen:
            continue
        seen.add(m.no)
        for indicator in m.indicators:
            goal = indicator.targets.get(period.year)
            sign = {">=": "≥", "<=": "≤", "=": "="}[indicator.comparator]
            for col, value in enumerate([f"I{indicator.id}", f"{m.no}.{m.title}", indicator.name, indicator.unit,
                                         f"{sign}{goal:g}" if goal is not None else "—", None], 1):
                cell = ind.cell(r, col, value)
                cell.border, cell.alignment = BORDER, WRAP
            ind.cell(r, 6).protection = Protection(locked=False)
            ind.cell(r, 6).fill = INPUT_FILL
            r += 1
    if r > FIRST_ROW:
        number_dv = DataValidation(type="decimal", operator="between", formula1="-1000000000", formula2="1000000000",
                                   allow_blank=True, showErrorMessage=True, errorTitle="实际值", error="请填写数字")
        number_dv.add(f"F{FIRST_ROW}:F{r - 1}")
        ind.add_data_validation(number_dv)
    for col, width in zip("ABCDEF", (8, 24, 36, 8, 10, 12)):
        ind.column_dimensions[col].width = width
    ind.column_dimensions["A"].hidden = True
    ind.protection.sheet = True

    meta = wb.create_sheet(META_SHEET)
    for row in (("plan", plan.code), ("plan_title", plan.title), ("department", department), ("period", period.code),
                ("template_version", TEMPLATE_VERSION), ("generated_at", datetime.now().isoformat(timespec="seconds"))):
        meta.append(row)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
    wb.active = 0
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return len(targets)


def _latest_reports(session: Session, target_ids: list[int]) -> dict[int, ProgressReport]:
    rows = session.scalars(select(ProgressReport).where(
        ProgressReport.yearly_target_id.in_(target_ids), ProgressReport.is_current.is_(True),
        ProgressReport.deleted.is_(False)).order_by(ProgressReport.report_date, ProgressReport.id))
    return {r.yearly_target_id: r for r in rows}


def write_templates(session: Session, departments: list[str], period_code: str, folder: Path) -> list[Path]:
    """One template per department into a folder (departments without targets that year are skipped)."""
    folder = Path(folder)
    written = []
    for name in departments:
        path = folder / f"{safe_stem(name)}-{period_code.upper()}-进展填报.xlsx"
        try:
            write_template(session, name, period_code, path)
        except ProgressError as exc:
            if "没有责任目标" in str(exc):
                continue
            raise
        written.append(path)
    return written


def template_date(period_code: str) -> date:
    return parse_period(period_code).end

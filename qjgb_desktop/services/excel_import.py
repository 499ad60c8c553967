"""回收汇总: read returned templates, check every row, preview, then commit all at once.

Nothing is written while reading. Every problem names the file, the sheet, the row and the column. A file that
is not an xlsx, is damaged, lacks a sheet or a header, belongs to another plan, carries tampered or unknown row ids,
formulas, merged input cells, text where a number is due, values out of range or over-long text is refused.
Files saved again by Excel, WPS or LibreOffice read the same (values, not formatting, are compared). Formulas are
never evaluated. A commit writes every accepted row in one transaction and records the file's name and SHA-256;
importing the same file again creates nothing.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.periods import PeriodError, parse_period
from ..domain.validation import MAX_TEXT, ReportInput, check_report, parse_number
from ..store.models import Department, ImportBatch, Indicator, IndicatorValue, Measure, Plan, ProgressReport, \
    YearlyTarget
from .excel_template import (
    FILL_HEADERS,
    FILL_INPUT_COLS,
    FILL_SHEET,
    FIRST_ROW,
    HEADER_ROW,
    INDICATOR_HEADERS,
    INDICATOR_SHEET,
    META_SHEET,
    TEMPLATE_VERSION,
)
from .progress import ProgressError, add_report, correct_report, measure_departments, plan_years
from .settings import load_settings

NEW, CHANGED, UNCHANGED, ERROR, EMPTY = "新增", "修改", "无变化", "错误", "未填"
COLUMN_LETTERS = "ABCDEFGHIJK"
INPUT_NAMES = ("状态", "完成度", "工作进展", "存在问题", "下步计划", "填报人")  # columns F..K


@dataclass
class RowResult:
    sheet: str
    row: int
    kind: str
    label: str
    reason: str = ""
    target_id: int | None = None
    indicator_id: int | None = None
    report: ReportInput | None = None
    replaces: int | None = None  # the report a change corrects
    value: float | None = None

    @property
    def key(self) -> tuple[str, int]:
        return self.sheet, self.row


@dataclass
class ImportPreview:
    file: Path
    sha256: str = ""
    department: str = ""
    period: str = ""
    errors: list[str] = field(default_factory=list)  # problems with the file as a whole
    rows: list[RowResult] = field(default_factory=list)
    already_imported: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not any(r.kind == ERROR for r in self.rows)

    def count(self, kind: str) -> int:
        return sum(r.kind == kind for r in self.rows)


def _fail(preview: ImportPreview, message: str) -> ImportPreview:
    preview.errors.append(f"{preview.file.name}：{message}")
    return preview


def read_return(session: Session, path: Path, today: date, expected_period: str | None = None) -> ImportPreview:
    from openpyxl import load_workbook

    path = Path(path)
    preview = ImportPreview(path)
    if not path.is_file():
        return _fail(preview, "文件不存在")
    if path.stat().st_size == 0:
        return _fail(preview, "是空文件")
    data = path.read_bytes()
    preview.sha256 = hashlib.sha256(data).hexdigest()
    if not zipfile.is_zipfile(path):
        return _fail(preview, "不是 .xlsx 文件（可能是 .xls、CSV，或文件已损坏）；请用“另存为 Excel 工作簿(.xlsx)”后再导入")
    try:
        wb = load_workbook(path, data_only=False)  # formulas stay formulas: they are refused, never evaluated
    except Exception as exc:  # a damaged or foreign zip: openpyxl raises many kinds
        return _fail(preview, f"无法读取，文件可能已损坏：{exc}")
    for sheet in (FILL_SHEET, INDICATOR_SHEET, META_SHEET):
        if sheet not in wb.sheetnames:
            return _fail(preview, f"缺少工作表“{sheet}”（工作表被删除或改名？请使用下发的模板）")
    meta = {str(r[0].value): str(r[1].value) for r in wb[META_SHEET].iter_rows(min_row=1, max_col=2) if r[0].value}
    plan = session.scalars(select(Plan).order_by(Plan.id)).first()
    if meta.get("plan") != plan.code:
        return _fail(preview, f"不是本计划的模板（模板属于“{meta.get('plan_title') or meta.get('plan')}”）")
    if meta.get("template_version") != TEMPLATE_VERSION:
        return _fail(preview, f"模板版本“{meta.get('template_version')}”不是本程序的版本，请重新下发模板")
    try:
        period = parse_period(meta.get("period", ""))
    except PeriodError:
        return _fail(preview, f"工作表“{META_SHEET}”中的填报周期“{meta.get('period')}”无效")
    if expected_period and period.code != expected_period.strip().upper():
        return _fail(preview, f"是 {period.code} 的模板，不是本次回收的 {expected_period.strip().upper()} 周期")
    department = meta.get("department", "")
    if session.scalar(select(Department.id).where(Department.name == department)) is None:
        return _fail(preview, f"模板所属部门“{department}”在计划中不存在")
    preview.department, preview.period = department, period.code
    preview.already_imported = session.scalar(select(ImportBatch.id).where(
        ImportBatch.sha256 == preview.sha256)) is not None
    report_date = min(max(today, period.start), period.end)
    _read_fill_sheet(session, wb[FILL_SHEET], preview, period, department, report_date, today)
    _read_indicator_sheet(session, wb[INDICATOR_SHEET], preview, period, department, report_date)
    return preview


def _check_headers(ws, headers, preview: ImportPreview) -> bool:
    for col, expected in enumerate(headers, 1):
        found = ws.cell(HEADER_ROW, col).value
        if (found or "") != expected:
            _fail(preview, f"工作表“{ws.title}”第{HEADER_ROW}行第{COLUMN_LETTERS[col - 1]}列：表头应为“{expected}”，"
                           f"实际为“{found or '空'}”（表头被改动？请使用下发的模板）")
            return False
    return True


def _merged_inputs(ws, input_cols) -> list[str]:
    return [str(r) for r in ws.merged_cells.ranges if r.max_row >= FIRST_ROW
            and any(r.min_col <= c <= r.max_col for c in input_cols)]


def _data_rows(ws):
    for r in range(FIRST_ROW, ws.max_row + 1):
        cells = [ws.cell(r, c) for c in range(1, ws.max_column + 1)]
        if all(c.value in (None, "") for c in cells):
            continue
        yield r, cells


def _read_fill_sheet(session, ws, preview, period, department, report_date, today) -> None:
    if not _check_headers(ws, FILL_HEADERS, preview):
        return
    for merged in _merged_inputs(ws, FILL_INPUT_COLS):
        _fail(preview, f"工作表“{ws.title}”：填报单元格 {merged} 被合并，请取消合并后再交回")
    years = plan_years(session)
    seen: set[int] = set()
    for r, cells in _data_rows(ws):
        where = f"{preview.file.name} 工作表“{ws.title}”第{r}行"
        raw_id = str(cells[0].value or "").strip()
        m = re.fullmatch(r"T(\d+)", raw_id)
        target = session.get(YearlyTarget, int(m.group(1))) if m else None
        label = str(cells[1].value or "")
        if target is None or target.retired:
            preview.rows.append(RowResult(ws.title, r, ERROR, label, f"{where}：行号“{raw_id}”无效（被改动或不是本计划的行）"))
            continue
        label = f"措施{target.measure.no}·{target.year}年"
        if target.year != period.year or department not in measure_departments(session, target.measure_id):
            preview.rows.append(RowResult(ws.title, r, ERROR, label,
                                          f"{where}：该目标不属于“{department}”的 {period.year} 年填报（行号被改动？）"))
            continue
        if target.id in seen:
            preview.rows.append(RowResult(ws.title, r, ERROR, label, f"{where}：该目标重复出现"))
            continue
        seen.add(target.id)
        problems = []
        formulas = set()
        for c, name in zip(FILL_INPUT_COLS, INPUT_NAMES):
            cell = cells[c - 1] if c - 1 < len(cells) else None
            if cell is not None and cell.data_type == "f":
                formulas.add(c)
                problems.append(f"{COLUMN_LETTERS[c - 1]}列（{name}）是公式，不接受公式，请填写数值或文字")
        values = {name: (cells[c - 1].value if c - 1 < len(cells) else None)
                  for name, c in zip(("status", "percent", "done", "problems", "next_steps", "reporter"), FILL_INPUT_COLS)}
        if all(v in (None, "") for v in values.values()):
            preview.rows.append(RowResult(ws.title, r, EMPTY, label, "", target.id))
            continue
        percent = values["percent"]
        if isinstance(percent, str) and 7 not in formulas:
            number = parse_number(percent)
            if number is None:
                problems.append(f"G列（完成度）应为数字，实际为文字“{percent}”")
            percent = number
        if isinstance(percent, float) and percent.is_integer():
            percent = int(percent)
        texts = {k: ("" if values[k] is None else str(values[k])) for k in ("done", "problems", "next_steps", "reporter")}
        for k, col in (("done", "H"), ("problems", "I"), ("next_steps", "J")):
            if len(texts[k]) > MAX_TEXT:
                problems.append(f"{col}列内容过长（{len(texts[k])} 字，上限 {MAX_TEXT} 字）")
        report = ReportInput(period=period.code, report_date=report_date, department=department,
                             reporter=texts["reporter"].strip(), status=str(values["status"] or "").strip(),
                             percent=percent if percent is not None else "", done=texts["done"],
                             problems=texts["problems"], next_steps=texts["next_steps"])
        if not problems:
            found = check_report(report, today=today, plan_years=years, target_year=target.year,
                                 departments=measure_departments(session, target.measure_id),
                                 thresholds=load_settings(session).thresholds)
            problems += [str(p) for p in found]
        if problems:
            preview.rows.append(RowResult(ws.title, r, ERROR, label, f"{where}：" + "；".join(problems), target.id))
            continue
        preview.rows.append(_compare(session, ws.title, r, label, target.id, department, report))


def _compare(session, sheet, r, label, target_id, department, report: ReportInput) -> RowResult:
    """New when the department has no report for the target in this period; else changed or unchanged."""
    existing = session.scalars(select(ProgressReport).join(Department).where(
        ProgressReport.yearly_target_id == target_id, ProgressReport.period == report.period,
        Department.name == department, ProgressReport.is_current.is_(True), ProgressReport.deleted.is_(False))
        .order_by(ProgressReport.id.desc())).first()
    if existing is None:
        return RowResult(sheet, r, NEW, label, "", target_id, report=report)
    same = (existing.status, existing.percent, existing.done, existing.problems, existing.next_steps,
            existing.reporter) == (report.status, report.percent, report.done.strip(), report.problems.strip(),
                                   report.next_steps.strip(), report.reporter.strip())
    if same:
        return RowResult(sheet, r, UNCHANGED, label, "", target_id)
    return RowResult(sheet, r, CHANGED, label, f"将修订报告 #{existing.id}", target_id, report=report,
                     replaces=existing.id)


def _read_indicator_sheet(session, ws, preview, period, department, report_date) -> None:
    if not _check_headers(ws, INDICATOR_HEADERS, preview):
        return
    for merged in _merged_inputs(ws, (6,)):
        _fail(preview, f"工作表“{ws.title}”：填报单元格 {merged} 被合并，请取消合并后再交回")
    measures = {m for (m,) in session.execute(select(Measure.id).join(YearlyTarget).where(YearlyTarget.year ==
                                                                                          period.year))}
    for r, cells in _data_rows(ws):
        where = f"{preview.file.name} 工作表“{ws.title}”第{r}行"
        raw_id = str(cells[0].value or "").strip()
        m = re.fullmatch(r"I(\d+)", raw_id)
        indicator = session.get(Indicator, int(m.group(1))) if m else None
        if indicator is None or indicator.measure_id not in measures or \
                department not in measure_departments(session, indicator.measure_id):
            preview.rows.append(RowResult(ws.title, r, ERROR, str(cells[2].value or ""),
                                          f"{where}：行号“{raw_id}”无效（被改动或不属于本部门）"))
            continue
        label = f"措施{indicator.measure.no}“{indicator.name}”"
        cell = cells[5] if len(cells) > 5 else None
        if cell is None or cell.value in (None, ""):
            preview.rows.append(RowResult(ws.title, r, EMPTY, label, "", indicator_id=indicator.id))
            continue
        if cell.data_type == "f":
            preview.rows.append(RowResult(ws.title, r, ERROR, label, f"{where} F列（实际值）：不接受公式"))
            continue
        number = parse_number(cell.value)
        if number is None:
            preview.rows.append(RowResult(ws.title, r, ERROR, label,
                                          f"{where} F列（实际值）：应为数字，实际为“{cell.value}”"))
            continue
        same = session.scalar(select(IndicatorValue.id).where(
            IndicatorValue.indicator_id == indicator.id, IndicatorValue.as_of == report_date,
            IndicatorValue.value == number, IndicatorValue.deleted.is_(False)))
        preview.rows.append(RowResult(ws.title, r, UNCHANGED if same else NEW, label, "",
                                      indicator_id=indicator.id, value=number))


@dataclass
class CommitSummary:
    reports_added: int = 0
    reports_corrected: int = 0
    values_added: int = 0
    skipped_files: list[str] = field(default_factory=list)


def commit(session: Session, previews: list[ImportPreview], actor: str, today: date,
           rejected: set[tuple[str, str, int]] | None = None) -> CommitSummary:
    """Write every accepted row of every file, in the caller's one transaction. Refuses if any file has an error,
    or any row with an error was not sent back. `rejected` holds (file name, sheet, row) the reviewer sent back."""
    rejected = rejected or set()
    bad = [p for p in previews if p.errors or any(
        r.kind == ERROR and (p.file.name, r.sheet, r.row) not in rejected for r in p.rows)]
    if bad:  # an error row can only be sent back (rejected), never imported
        raise ProgressError("有错误，未导入任何内容：" + "；".join(
            p.errors[0] if p.errors else next(r.reason for r in p.rows if r.kind == ERROR) for p in bad))
    summary = CommitSummary()
    done: set[str] = set()
    written: dict[tuple[int, str, str], int] = {}  # (target, period, department) -> report written here
    for p in previews:
        if p.already_imported or p.sha256 in done:  # the same file twice: once is enough
            summary.skipped_files.append(p.file.name)
            continue
        for row in p.rows:
            if (p.file.name, row.sheet, row.row) in rejected or row.kind not in (NEW, CHANGED):
                continue
            if row.indicator_id is not None:
                from .progress import _add_value

                as_of = min(max(today, parse_period(p.period).start), parse_period(p.period).end)
                _add_value(session, row.indicator_id, row.value, as_of, actor, None, note=f"导入：{p.file.name}")
                summary.values_added += 1
            else:
                # Two returns for the same target in one import (a department sent its file twice): the later
                # one corrects what the earlier one wrote, rather than adding a duplicate.
                key = (row.target_id, p.period, p.department)
                base = written.get(key, row.replaces if row.kind == CHANGED else None)
                if base is None:
                    view = add_report(session, row.target_id, row.report, actor, today)
                    summary.reports_added += 1
                else:
                    view = correct_report(session, base, row.report, actor, today)
                    summary.reports_corrected += 1
                written[key] = view.id
        done.add(p.sha256)
        session.add(ImportBatch(sha256=p.sha256, file_name=p.file.name, department=p.department, period=p.period,
                                imported_at=datetime.now(), imported_by=actor,
                                summary={k: p.count(k) for k in (NEW, CHANGED, UNCHANGED, EMPTY)}))
    session.flush()
    return summary


def write_returns(preview: ImportPreview, sent_back: list[RowResult], out: Path) -> Path:
    """退回: the department's own file with a 退回 sheet listing each row sent back and why, to fill again."""
    from openpyxl import load_workbook
    from openpyxl.styles import Alignment, Font

    wb = load_workbook(preview.file)
    if "退回" in wb.sheetnames:
        del wb["退回"]
    ws = wb.create_sheet("退回", 0)
    ws.append([f"{preview.department} · {preview.period} 退回修改（{date.today().isoformat()}）"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["工作表", "行", "目标", "退回原因"])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in sent_back:
        ws.append([row.sheet, row.row, row.label, row.reason or "审核未通过，请核实后重新填报"])
    for col, width in zip("ABCD", (10, 6, 18, 90)):
        ws.column_dimensions[col].width = width
    for r in ws.iter_rows(min_row=3):
        r[3].alignment = Alignment(wrap_text=True, vertical="top")
    out = Path(out)
    wb.save(out)
    return out

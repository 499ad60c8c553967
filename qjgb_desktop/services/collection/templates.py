"""下发模板: one fill-in workbook per department for a reporting period.

Sheet 填报: the department's targets of the period's year (as lead and as cooperating), one row each. The input
cells 状态 (dropdown), 完成度 (whole number 0–100), 工作进展, 存在问题, 下步计划 and 填报人 start from the
department's OWN latest report for the target; where the department cooperates (配合), the lead department's latest
progress is shown beside them as locked reference, never in the input cells. 本期确认 is the explicit way to say
"no change this period": an untouched row is not a statement.

Every row carries, in the hidden column 校验, a signed digest of what its input cells were prefilled with, so the
import can tell a row the department changed from one it left alone, whatever program saved the file since. The
template's identity (plan, department, period, a random template id) is signed too and written into hidden
cells of the 填报 sheet itself, so it survives programs that unhide, drop or rename the _meta sheet (which is kept
as a human-readable copy). The key is this database's own (setting "template_key").

Sheet 指标: the indicators of those measures with an empty input cell for this period's actual value and the last
value as reference. Everything else is locked by sheet protection.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.periods import PeriodError, parse_period
from qjgb_desktop.domain.status import REPORT_STATUSES
from qjgb_desktop.services.collection.export import BORDER, CENTER, FORMULA_STARTS, HEAD_FILL, WRAP, sheet_text
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress.reports import ProgressError
from qjgb_desktop.store.files import save_workbook
from qjgb_desktop.store.models import Department, IndicatorValue, Plan, ProgressReport, Setting

TEMPLATE_VERSION = "2"
IDENTITY_MARK = "qjgb-template"
FILL_SHEET, INDICATOR_SHEET, META_SHEET = "填报", "指标", "_meta"
FILL_HEADERS = ("行号", "改革措施", "角色", "年度目标", "参考：牵头部门最新进展", "状态", "完成度（0-100）", "工作进展",
                "存在问题", "下步计划", "填报人", "本期确认", "校验")
FILL_INPUT_COLS = range(6, 12)  # F..K
INPUT_FIELDS = ("status", "percent", "done", "problems", "next_steps", "reporter")
CONFIRM_COL, FILL_TOKEN_COL = 12, 13  # L, M
CONFIRM = "确认无变化"
INDICATOR_HEADERS = ("行号", "改革措施", "指标", "单位", "本年目标", "实际值", "上次实际值", "校验")
INDICATOR_INPUT_COLS = (6,)
INDICATOR_TOKEN_COL = 8
HEADER_ROW, FIRST_ROW = 3, 4
MAX_TEMPLATE_ROWS = 200  # a department has at most a few dozen targets; anything past this is not ours
FILL_WIDTHS = dict(zip("ABCDEFGHIJKLM", (6, 16, 5, 30, 22, 9, 7, 26, 18, 18, 8, 9, 6)))
INDICATOR_WIDTHS = dict(zip("ABCDEFGH", (6, 22, 34, 7, 10, 10, 18, 6)))
INPUT_FILL = PatternFill("solid", fgColor="FFF9E6")
REFERENCE_FILL = PatternFill("solid", fgColor="F2F2F2")
REFERENCE_FONT = Font(color="595959", size=10)
CODE = Alignment(wrap_text=False, vertical="top")  # hidden ids and tokens: never printed, never make a row taller


class TemplateError(ProgressError):
    pass


# -- what a row was prefilled with: normalised, digested, signed ----------------------------------------------

def normalise(value) -> str:
    """The same text whatever program saved the cell: None and "" alike, 50 == 50.0 == "50", CR LF == LF, no
    surrounding blanks."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("_x000D_", "").strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):  # a number kept as text compares as the number
        number = float(text)
        return repr(int(number)) if number.is_integer() else repr(number)
    return text


def digest(values) -> str:
    joined = "\x1f".join(normalise(v) for v in values)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:20]


def template_key(session: Session) -> bytes:
    row = session.get(Setting, "template_key")
    if row is None or not row.value:
        raise TemplateError("数据库缺少模板签名密钥，请用本程序重新打开数据库（会自动升级）后再试")
    return str(row.value).encode("ascii")


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()[:20]


@dataclass(frozen=True)
class Identity:
    plan: str
    department: str
    period: str
    uid: str
    version: str = TEMPLATE_VERSION

    def text(self) -> str:
        return json.dumps({"mark": IDENTITY_MARK, "v": self.version, "plan": self.plan, "department": self.department,
                           "period": self.period, "uid": self.uid}, ensure_ascii=False, sort_keys=True)

    def signature(self, key: bytes) -> str:
        return _mac(key, "identity", self.text())

    @classmethod
    def parse(cls, text) -> Identity | None:
        try:
            data = json.loads(str(text))
        except (TypeError, ValueError, RecursionError):  # RecursionError: "[[[[…" in a cell
            return None
        if not isinstance(data, dict) or data.get("mark") != IDENTITY_MARK:
            return None
        fields = [data.get(k) for k in ("plan", "department", "period", "uid", "v")]
        if not all(isinstance(f, str) for f in fields):
            return None
        return cls(*fields)


def row_token(key: bytes, identity: Identity, row_key: str, source: int | None, values) -> str:
    """`<source report id>:<digest of the prefill>:<signature>`, the signature binding both to this template and
    row, so a token copied from another row or template, or edited, is recognised."""
    src, dig = str(source or ""), digest(values)
    return f"{src}:{dig}:{_mac(key, identity.uid, row_key, src, dig)}"


def read_token(key: bytes, identity: Identity, row_key: str, token) -> tuple[int | None, str] | None:
    """(source report id, prefill digest), or None when the token is missing or was not made for this row."""
    parts = str(token or "").strip().split(":")
    if len(parts) != 3 or not re.fullmatch(r"\d{0,12}", parts[0]) or not re.fullmatch(r"[0-9a-f]{20}", parts[1]):
        return None
    if not hmac.compare_digest(parts[2].encode("utf-8"), _mac(key, identity.uid, row_key, parts[0],
                                                               parts[1]).encode("utf-8")):
        return None
    return (int(parts[0]) if parts[0] else None), parts[1]


# -- writing ------------------------------------------------------------------------------------------------

def _text(cell, value) -> None:
    value = sheet_text(value)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True


def safe_stem(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip() or "部门"


def _head(ws, headers, widths) -> None:
    for col, label in enumerate(headers, 1):
        cell = ws.cell(HEADER_ROW, col, label)
        cell.font, cell.fill, cell.alignment, cell.border = Font(bold=True), HEAD_FILL, CENTER, BORDER
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width


def _print_setup(ws) -> None:
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.protection.sheet = True
    ws.protection.formatRows = False  # row heights may be adjusted to read long texts


def _reference(report: ProgressReport | None) -> str:
    if report is None:
        return "牵头部门本年度尚未填报"
    head = f"（{report.report_date.isoformat()} {report.period}，{report.status} {report.percent}%）"
    return head + (report.done or "（未写工作进展）")


def write_template(session: Session, department: str, period_code: str, out: Path) -> int:
    """Write one department's template; returns the number of target rows."""
    try:
        period = parse_period(period_code)
    except PeriodError as exc:
        raise TemplateError(str(exc)) from exc
    plan = session.scalars(select(Plan).order_by(Plan.id)).first()
    tree = plan_tree(session)
    if period.year not in tree.years:
        raise TemplateError(f"周期 {period.code} 不在计划年度 {tree.years[0]}–{tree.years[-1]} 内")
    dep_id = session.scalar(select(Department.id).where(Department.name == department))
    if dep_id is None:
        raise TemplateError(f"没有部门“{department}”；可用 qjgb plan 查看各措施的责任部门")
    targets = [(m, t, "牵头" if m.lead == department else "配合") for m in tree.measures() if department in m.departments
               for t in m.targets if t.year == period.year]
    if not targets:
        raise TemplateError(f"“{department}”在 {period.year} 年没有责任目标")
    key = template_key(session)
    identity = Identity(plan.code, department, period.code, secrets.token_hex(8))
    latest = latest_by_department(session, [t.id for _, t, _ in targets])

    wb = Workbook()
    ws = wb.active
    ws.title = FILL_SHEET
    last_col = CONFIRM_COL
    ws.cell(1, 1, identity.text())
    ws.cell(2, 1, identity.signature(key))
    ws.cell(1, 2, f"{department} · {period.label}（{period.code}）进展填报表").font = Font(bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=2, end_row=1, end_column=last_col)
    ws.cell(2, 2, "只需填写黄色单元格。黄色单元格已预填本部门最近一次报告；本期有进展请直接修改，"
                  "本期确实无变化请在“本期确认”选择“确认无变化”；不修改也不确认的行视为本期未填报。"
                  "状态从下拉列表选择，完成度填 0–100 的整数；灰色的“参考”列是牵头部门的最新进展，仅供参考。")
    ws.cell(2, 2).alignment = WRAP
    ws.merge_cells(start_row=2, start_column=2, end_row=2, end_column=last_col)
    _head(ws, FILL_HEADERS, FILL_WIDTHS)
    for i, (m, t, role) in enumerate(targets):
        r = FIRST_ROW + i
        own = latest.get((t.id, dep_id))
        lead_report = latest.get((t.id, _lead_id(session, m.lead))) if role == "配合" else None
        inputs = [own.status, own.percent, own.done, own.problems, own.next_steps, own.reporter] if own else \
            ["", None, "", "", "", ""]
        inputs = [sheet_text(v) for v in inputs]
        row_key = f"T{t.id}"
        values = [row_key, f"{m.no}.{m.title}", role, t.text,
                  _reference(lead_report) if role == "配合" else "（本部门牵头）", *inputs, None,
                  row_token(key, identity, row_key, own.id if own else None, inputs)]
        for col, value in enumerate(values, 1):
            cell = ws.cell(r, col)
            _text(cell, value)
            cell.alignment, cell.border = (CODE if col in (1, FILL_TOKEN_COL) else WRAP), BORDER
            if col in FILL_INPUT_COLS or col == CONFIRM_COL:
                cell.protection = Protection(locked=False)
                cell.fill = INPUT_FILL
            elif col == 5:
                cell.fill, cell.font = REFERENCE_FILL, REFERENCE_FONT
    last_row = FIRST_ROW + len(targets) - 1
    _validations(ws, [
        ("list", '"' + ",".join(REPORT_STATUSES) + '"', None, f"F{FIRST_ROW}:F{last_row}", "状态", "请从下拉列表中选择状态"),
        ("whole", "0", "100", f"G{FIRST_ROW}:G{last_row}", "完成度", "完成度应为 0 到 100 的整数"),
        ("list", f'"{CONFIRM}"', None, f"L{FIRST_ROW}:L{last_row}", "本期确认", f"只能留空或选择“{CONFIRM}”"),
    ])
    for col in ("A", "M"):
        ws.column_dimensions[col].hidden = True
    ws.freeze_panes = f"F{FIRST_ROW}"
    _print_setup(ws)
    _fit(ws, 1, last_row, FILL_WIDTHS)

    _indicator_sheet(session, wb, department, period, targets, key, identity)

    meta = wb.create_sheet(META_SHEET)
    for row in (("plan", plan.code), ("plan_title", plan.title), ("department", department), ("period", period.code),
                ("template_version", TEMPLATE_VERSION), ("template_id", identity.uid),
                ("generated_at", datetime.now().isoformat(timespec="seconds"))):
        meta.append(row)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
    wb.security.lockStructure = True  # sheets cannot be deleted, renamed or unhidden in Excel/WPS/LibreOffice
    wb.active = 0
    save_workbook(wb, out)
    return len(targets)


def _validations(ws, specs) -> None:
    for kind, formula1, formula2, cells, title, error in specs:
        dv = DataValidation(type=kind, formula1=formula1, formula2=formula2, allow_blank=True,
                            operator="between" if formula2 is not None else None,
                            showErrorMessage=True, errorTitle=title, error=error)
        dv.add(cells)
        ws.add_data_validation(dv)


def _fit(ws, first: int, last: int, widths: dict[str, float]) -> None:
    from qjgb_desktop.services.collection.xlsx_layout import fit_row_heights

    fit_row_heights(ws, first, last, widths)


def _indicator_sheet(session, wb, department, period, targets, key, identity) -> None:
    ind = wb.create_sheet(INDICATOR_SHEET)
    ind.cell(1, 1, identity.text())
    ind.cell(1, 2, f"{department} · {period.code} 指标实际值（只填黄色单元格，填数字；不填表示本期不报）"
                   ).font = Font(bold=True, size=12)
    ind.merge_cells(start_row=1, start_column=2, end_row=1, end_column=7)
    _head(ind, INDICATOR_HEADERS, INDICATOR_WIDTHS)
    r = FIRST_ROW
    seen = set()
    # only the indicators whose figure is this department's to give: the lead's, and every department's of a "sum"
    indicators = [(m, i) for m, _, _ in targets if not (m.no in seen or seen.add(m.no)) for i in m.indicators
                  if m.lead == department or i.aggregate == "sum"]
    last_values = _last_values(session, [i.id for _, i in indicators], department)
    for m, indicator in indicators:
        goal = indicator.targets.get(period.year)
        sign = {">=": "≥", "<=": "≤", "=": "="}[indicator.comparator]
        last = last_values.get(indicator.id)
        row_key = f"I{indicator.id}"
        values = [row_key, f"{m.no}.{m.title}", indicator.name, indicator.unit,
                  f"{sign}{goal:g}" if goal is not None else "—", None,
                  f"{last.value:g}（{last.as_of.isoformat()}）" if last else "尚无",
                  row_token(key, identity, row_key, None, [None])]
        for col, value in enumerate(values, 1):
            cell = ind.cell(r, col)
            _text(cell, value)
            cell.border, cell.alignment = BORDER, (CODE if col in (1, INDICATOR_TOKEN_COL) else WRAP)
        ind.cell(r, 6).protection = Protection(locked=False)
        ind.cell(r, 6).fill = INPUT_FILL
        ind.cell(r, 7).fill, ind.cell(r, 7).font = REFERENCE_FILL, REFERENCE_FONT
        r += 1
    if r > FIRST_ROW:
        _validations(ind, [("decimal", "-1000000000", "1000000000", f"F{FIRST_ROW}:F{r - 1}", "实际值", "请填写数字")])
    for col in ("A", "H"):
        ind.column_dimensions[col].hidden = True
    ind.freeze_panes = f"F{FIRST_ROW}"
    _print_setup(ind)
    _fit(ind, 1, max(r - 1, HEADER_ROW), INDICATOR_WIDTHS)


def _lead_id(session: Session, name: str) -> int | None:
    return session.scalar(select(Department.id).where(Department.name == name))


def latest_by_department(session: Session, target_ids: list[int]) -> dict[tuple[int, int], ProgressReport]:
    """(target id, department id) → that department's latest counting report for the target."""
    rows = session.scalars(select(ProgressReport).where(
        ProgressReport.yearly_target_id.in_(target_ids), ProgressReport.is_current.is_(True),
        ProgressReport.deleted.is_(False)).order_by(ProgressReport.report_date, ProgressReport.id))
    return {(r.yearly_target_id, r.department_id): r for r in rows}


def _last_values(session: Session, indicator_ids: list[int], department: str) -> dict[int, IndicatorValue]:
    """The department's own latest figure for each indicator."""
    rows = session.scalars(select(IndicatorValue).join(Department, Department.id == IndicatorValue.department_id)
                           .where(IndicatorValue.indicator_id.in_(indicator_ids), IndicatorValue.deleted.is_(False),
                                  Department.name == department)
                           .order_by(IndicatorValue.as_of, IndicatorValue.id))
    return {v.indicator_id: v for v in rows}


def write_templates(session: Session, departments: list[str], period_code: str, folder: Path) -> list[Path]:
    """One template per department into a folder (departments without targets that year are skipped). Every
    template is checked before the first file is written, so a bad period writes nothing."""
    folder = Path(folder)
    try:
        parse_period(period_code)
    except PeriodError as exc:
        raise TemplateError(str(exc)) from exc
    written = []
    for name in departments:
        path = folder / f"{safe_stem(name)}-{period_code.upper()}-进展填报.xlsx"
        try:
            write_template(session, name, period_code, path)
        except TemplateError as exc:
            if "没有责任目标" in str(exc):
                continue
            raise
        written.append(path)
    return written


def template_date(period_code: str) -> date:
    return parse_period(period_code).end

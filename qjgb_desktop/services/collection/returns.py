"""回收汇总: read returned templates, check the rows a department changed, preview, then commit all at once.

What a row was prefilled with is known (a signed digest in the template, see templates.py), so:
- a row whose input cells still hold their prefill is 未填 (or 无变化 where this period's report already stands),
  never 新增 or 错误, whatever program saved the file;
- a row with 本期确认 = 确认无变化 and untouched values is the department's explicit statement that its last report
  still holds: it becomes this period's report (checked like any other);
- only changed rows are checked and imported: 新增 where the department has no report for the period yet,
  修改 (a revision) where it has.

Nothing is written while reading. Every problem names the file, the sheet, the row and the column. Formulas are
refused, never evaluated. A commit writes every accepted row in one transaction and records the file's name and
SHA-256; importing the same file again creates nothing. The CLI (also as --json) and the window show the same
RowResult objects: kind, the fields that change (before → after), and the problems.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.periods import PeriodError, parse_period
from qjgb_desktop.domain.validation import MAX_TEXT, ReportInput, check_report, clean_report_input, parse_number
from qjgb_desktop.services.collection.facts import facts as _facts
from qjgb_desktop.services.collection.return_file import ReturnFileError, SheetData, open_return
from qjgb_desktop.services.collection.templates import (
    CONFIRM,
    CONFIRM_COL,
    FILL_HEADERS,
    FILL_INPUT_COLS,
    FILL_SHEET,
    FILL_TOKEN_COL,
    FIRST_ROW,
    HEADER_ROW,
    INDICATOR_HEADERS,
    INDICATOR_SHEET,
    INDICATOR_TOKEN_COL,
    MAX_TEMPLATE_ROWS,
    META_SHEET,
    TEMPLATE_VERSION,
    Identity,
    digest,
    read_token,
)
from qjgb_desktop.store.models import ImportBatch, Indicator, IndicatorValue, Measure, ProgressReport

NEW, CHANGED, UNCHANGED, ERROR, EMPTY = "新增", "修改", "无变化", "错误", "未填"


KINDS = (NEW, CHANGED, UNCHANGED, EMPTY, ERROR)


COLUMN_LETTERS = "ABCDEFGHIJKLM"


INPUT_NAMES = ("状态", "完成度", "工作进展", "存在问题", "下步计划", "填报人")  # columns F..K


FIELDS = ("status", "percent", "done", "problems", "next_steps", "reporter")


@dataclass(frozen=True)
class Change:
    field: str  # its Chinese name, as the user knows it
    before: str
    after: str

    def as_json(self) -> dict:
        return {"field": self.field, "before": self.before, "after": self.after}

    def summary(self, limit: int, empty: str) -> str:
        """“字段：原 → 新” on one line, each side cut to `limit` characters (the whole is in as_json)."""
        def short(text: str) -> str:
            text = text.replace("\n", " ")
            return (text if len(text) <= limit else text[:limit] + "…") or empty
        return f"{self.field}：{short(self.before)} → {short(self.after)}"


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
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int]:
        return self.sheet, self.row

    def as_json(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "target": self.label, "target_id": self.target_id,
                "indicator_id": self.indicator_id, "result": self.kind, "note": self.reason,
                "changes": [c.as_json() for c in self.changes], "problems": self.problems}


@dataclass
class ImportPreview:
    file: Path
    sha256: str = ""
    department: str = ""
    period: str = ""
    errors: list[str] = field(default_factory=list)  # problems with the file as a whole
    rows: list[RowResult] = field(default_factory=list)
    already_imported: bool = False
    saved_at: datetime | None = None  # when the department last saved the file (its own property)
    superseded_by: str = ""  # a later-saved return of the same template in the same batch: only that one counts
    other_period: str = ""  # the period being collected, when this return is for another one

    @property
    def ok(self) -> bool:
        return not self.errors and not any(r.kind == ERROR for r in self.rows)

    @property
    def template(self) -> tuple[str, str]:
        return self.department, self.period

    def count(self, kind: str) -> int:
        return sum(r.kind == kind for r in self.rows)

    def counts(self) -> dict[str, int]:
        return {k: self.count(k) for k in KINDS}

    def as_json(self) -> dict:
        return {"file": str(self.file), "sha256": self.sha256, "department": self.department, "period": self.period,
                "saved_at": self.saved_at.isoformat(sep=" ", timespec="seconds") if self.saved_at else None,
                "superseded_by": self.superseded_by or None, "other_period": self.other_period or None,
                "already_imported": self.already_imported, "ok": self.ok, "errors": self.errors,
                "counts": self.counts(), "rows": [r.as_json() for r in self.rows]}


def _fail(preview: ImportPreview, message: str) -> ImportPreview:
    preview.errors.append(f"{preview.file.name}：{message}")
    return preview


@dataclass
class _Context:
    """Everything a file's rows are checked against, loaded once per file."""
    preview: ImportPreview
    period: object
    department: str
    department_id: int
    report_date: date
    today: date
    key: bytes
    identity: Identity
    years: list[int]
    thresholds: object
    targets: dict[int, tuple[int, int, int, bool]]  # id → (measure no, measure id, year, retired)
    departments: dict[int, list[str]]  # measure id → names, lead first


def read_return(session: Session, path: Path, today: date, expected_period: str | None = None) -> ImportPreview:
    path = Path(path)
    preview = ImportPreview(path)
    wanted = {FILL_SHEET: (FIRST_ROW + MAX_TEMPLATE_ROWS, len(FILL_HEADERS)),
              INDICATOR_SHEET: (FIRST_ROW + MAX_TEMPLATE_ROWS, len(INDICATOR_HEADERS)), META_SHEET: (30, 2)}
    try:
        data, book = open_return(path, wanted)
    except ReturnFileError as exc:
        return _fail(preview, str(exc))
    preview.sha256 = hashlib.sha256(data).hexdigest()
    preview.saved_at = book.saved_at
    for sheet in (FILL_SHEET, INDICATOR_SHEET):
        if sheet not in book.sheets:
            return _fail(preview, f"缺少工作表“{sheet}”（工作表被删除或改名？请使用下发的模板）")
    fill, indicators = book.sheets[FILL_SHEET], book.sheets[INDICATOR_SHEET]
    meta = {str(c[0].value).strip(): str(c[1].value).strip() for c in (book.sheets.get(META_SHEET) or
            SheetData(META_SHEET)).rows.values() if len(c) > 1 and c[0].value is not None}
    identity = Identity.parse(_value(fill, 1, 1))
    if identity is None:
        if meta.get("template_version") not in (None, TEMPLATE_VERSION):
            return _fail(preview, f"是旧版模板（版本“{str(meta.get('template_version'))[:20]}”），本程序无法判断哪些行被部门改过。"
                                  "请用本程序重新下发模板，由部门填写后交回")
        return _fail(preview, f"工作表“{FILL_SHEET}”中缺少模板的身份信息，不是本程序下发的模板，或隐藏列 A 被改动")
    facts = _facts(session)
    plan = facts.plan
    if identity.plan != plan.code:
        return _fail(preview, f"不是本计划的模板（模板属于“{str(meta.get('plan_title') or identity.plan)[:60]}”）")
    key = facts.key
    if not hmac.compare_digest(str(_value(fill, 2, 1) or "").encode(), identity.signature(key).encode()):
        return _fail(preview, "模板的身份信息被改动，或模板不是由本数据库下发的（例如在另一台电脑上生成）；"
                              "请使用本程序下发的模板")
    for name, expected in (("department", identity.department), ("period", identity.period), ("plan", identity.plan)):
        if name in meta and meta[name] != expected:
            return _fail(preview, f"工作表“{META_SHEET}”中的{dict(department='部门', period='填报周期', plan='计划')[name]}"
                                  f"“{meta[name][:40]}”与模板身份“{expected[:40]}”不一致（被改动？）请使用下发的模板")
    try:
        period = parse_period(identity.period)
    except (PeriodError, ValueError):  # ValueError: a year a date cannot hold (0000Q1)
        return _fail(preview, f"模板中的填报周期“{identity.period}”无效")
    if period.code in facts.closed:
        return _fail(preview, f"{period.label}（{period.code}）的填报周期已关闭，不能导入其报告；如确需补报，"
                              "请管理员先重新开放该周期")
    department_id = facts.department_ids.get(identity.department)
    if department_id is None:
        return _fail(preview, f"模板所属部门“{identity.department}”在计划中不存在")
    preview.department, preview.period = identity.department, period.code
    if expected_period and period.code != expected_period.strip().upper():
        preview.other_period = expected_period.strip().upper()
    # this file, or a return of the same template imported before (one query for both)
    before = session.scalars(select(ImportBatch).where(or_(
        ImportBatch.sha256 == preview.sha256,
        and_(ImportBatch.department == identity.department, ImportBatch.period == period.code)))).all()
    preview.already_imported = any(b.sha256 == preview.sha256 for b in before)
    if not preview.already_imported and preview.saved_at is not None:
        newer = max((b for b in before if b.saved_at is not None and b.saved_at > preview.saved_at),
                    key=lambda b: b.saved_at, default=None)
        if newer is not None:
            return _fail(preview, f"比已导入的“{newer.file_name}”更旧：本文件保存于 {_when(preview.saved_at)}，"
                                  f"已导入的那份保存于 {_when(newer.saved_at)}（{newer.imported_at:%Y-%m-%d %H:%M} 由 "
                                  f"{newer.imported_by} 导入）。同一模板只以最后保存的一份为准，本文件不予导入")
    ctx = _Context(preview, period, identity.department, department_id, min(max(today, period.start), period.end),
                   today, key, identity, facts.years, facts.thresholds, facts.targets, facts.departments)
    _read_fill_sheet(session, fill, ctx)
    _read_indicator_sheet(session, indicators, ctx)
    return preview


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _value(sheet, row: int, col: int):
    cells = sheet.rows.get(row)
    return cells[col - 1].value if cells and len(cells) >= col else None


def _check_sheet(sheet, headers, input_cols, preview: ImportPreview) -> bool:
    for col, expected in enumerate(headers, 1):
        found = _value(sheet, HEADER_ROW, col)
        if str(found or "").strip() != expected:
            _fail(preview, f"工作表“{sheet.title}”第{HEADER_ROW}行第{COLUMN_LETTERS[col - 1]}列：表头应为“{expected}”，"
                           f"实际为“{str(found or '空')[:40]}”（表头被改动？请使用下发的模板）")
            return False
    if sheet.overflow:
        _fail(preview, f"工作表“{sheet.title}”在第{FIRST_ROW + MAX_TEMPLATE_ROWS}行以后还有内容，超出模板范围"
                       "（粘贴了大量行？请使用下发的模板）")
        return False
    from openpyxl.utils.cell import range_boundaries

    for ref in sheet.merged:
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        except ValueError:
            continue
        if (max_row or 0) >= FIRST_ROW and any((min_col or 1) <= c <= (max_col or 16384) for c in input_cols):
            return not _fail(preview, f"工作表“{sheet.title}”：填报单元格 {ref} 被合并，请取消合并后再交回")
    return not preview.errors


def _text(value) -> str:
    return "" if value is None else str(value)


def _shown(name: str, value) -> str:
    if value in (None, ""):
        return ""
    if name == "完成度":
        return f"{value}%"
    return str(value)


def _changes(before: dict[str, object], after: dict[str, object]) -> list[Change]:
    out = []
    for name, label in zip(FIELDS, INPUT_NAMES):
        b, a = before.get(name), after.get(name)
        if str(b if b is not None else "").strip() != str(a if a is not None else "").strip():
            out.append(Change(label, _shown(label, b), _shown(label, a)))
    return out


def _report_fields(r: ProgressReport | None) -> dict[str, object]:
    if r is None:
        return {}
    return {"status": r.status, "percent": r.percent, "done": r.done, "problems": r.problems,
            "next_steps": r.next_steps, "reporter": r.reporter}


def _read_fill_sheet(session: Session, sheet, ctx: _Context) -> None:
    preview = ctx.preview
    if not _check_sheet(sheet, FILL_HEADERS, list(FILL_INPUT_COLS) + [CONFIRM_COL], preview):
        return
    seen: set[int] = set()
    parsed = []
    for r in sorted(k for k in sheet.rows if k >= FIRST_ROW):
        cells = sheet.rows[r]
        where = f"{preview.file.name} 工作表“{sheet.title}”第{r}行"
        raw_id = str(cells[0].value or "").strip()
        m = re.fullmatch(r"T(\d{1,9})", raw_id)
        target = ctx.targets.get(int(m.group(1))) if m else None
        label = str(cells[1].value or "")[:40]
        if target is None or target[3]:
            preview.rows.append(RowResult(sheet.title, r, ERROR, label, f"{where}：行号“{raw_id[:20]}”无效（被改动或不是本计划的行）",
                                          problems=["行号无效"]))
            continue
        target_id = int(m.group(1))
        label = f"措施{target[0]}·{target[2]}年"
        if target[2] != ctx.period.year or ctx.department not in ctx.departments.get(target[1], []):
            preview.rows.append(RowResult(sheet.title, r, ERROR, label,
                                          f"{where}：该目标不属于“{ctx.department}”的 {ctx.period.year} 年填报（行号被改动？）",
                                          target_id, problems=["目标不属于本部门本年度"]))
            continue
        if target_id in seen:
            preview.rows.append(RowResult(sheet.title, r, ERROR, label, f"{where}：该目标重复出现", target_id,
                                          problems=["该目标重复出现"]))
            continue
        seen.add(target_id)
        token = read_token(ctx.key, ctx.identity, raw_id, cells[FILL_TOKEN_COL - 1].value)
        if token is None:
            preview.rows.append(RowResult(sheet.title, r, ERROR, label,
                                          f"{where}：隐藏的校验信息缺失或被改动（整行从其他模板复制而来？），"
                                          "无法判断哪些内容被修改；请在下发的模板中填写", target_id,
                                          problems=["校验信息无效"]))
            continue
        parsed.append((r, cells, where, label, target_id, target, token))
    prefilled = [t[0] for *_, t in parsed if t[0] is not None]
    sources = {p.id: p for p in session.scalars(select(ProgressReport).where(
        ProgressReport.id.in_(prefilled)))} if prefilled else {}
    # this period's report of the department per target (the index on target, current, deleted finds them)
    latest_ids = select(func.max(ProgressReport.id)).where(
        ProgressReport.yearly_target_id.in_([p[4] for p in parsed]), ProgressReport.is_current.is_(True),
        ProgressReport.deleted.is_(False), ProgressReport.period == ctx.period.code,
        ProgressReport.department_id == ctx.department_id).group_by(ProgressReport.yearly_target_id)
    current = {r.yearly_target_id: r for r in session.scalars(select(ProgressReport).where(
        ProgressReport.id.in_(latest_ids)))}
    for r, cells, where, label, target_id, target, (source_id, prefill) in parsed:
        preview.rows.append(_fill_row(sheet.title, r, cells, where, label, target_id, target, ctx,
                                      sources.get(source_id), prefill, current.get(target_id)))


def _fill_row(sheet, r, cells, where, label, target_id, target, ctx: _Context, source, prefill, existing) -> RowResult:
    inputs = [cells[c - 1] for c in FILL_INPUT_COLS]
    confirm = str(cells[CONFIRM_COL - 1].value or "").strip()
    problems = []
    for cell, name, c in zip(inputs, INPUT_NAMES, FILL_INPUT_COLS):
        if cell.data_type == "f":
            problems.append(f"{COLUMN_LETTERS[c - 1]}列（{name}）是公式，不接受公式，请填写数值或文字")
    if cells[CONFIRM_COL - 1].data_type == "f":
        problems.append("L列（本期确认）是公式")
    elif confirm not in ("", CONFIRM):
        problems.append(f"L列（本期确认）只能留空或选择“{CONFIRM}”，实际为“{confirm[:20]}”")
    values = [c.value for c in inputs]
    untouched = digest(values) == prefill
    blank = all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in values)
    if problems:
        return RowResult(sheet, r, ERROR, label, f"{where}：" + "；".join(problems), target_id, problems=problems)
    if blank and not confirm:  # an empty row states nothing, whatever it was prefilled with
        return RowResult(sheet, r, EMPTY, label, "", target_id)
    if blank or (untouched and source is None and existing is None):
        return RowResult(sheet, r, ERROR, label, f"{where}：选择了“{CONFIRM}”，但本部门此前没有报告可沿用，请填写本期进展",
                         target_id, problems=["没有可确认的上期进展"])
    if untouched and not confirm:
        return RowResult(sheet, r, UNCHANGED if existing else EMPTY, label,
                         "本期已报，未修改" if existing else "未修改，视为本期未填报", target_id)
    if untouched and existing is not None:
        return RowResult(sheet, r, UNCHANGED, label, "本期已报，无需确认", target_id)
    fields = dict(zip(FIELDS, values))
    percent = fields["percent"]
    if isinstance(percent, str):
        number = parse_number(percent)
        if number is None:
            problems.append(f"G列（完成度）应为数字，实际为文字“{percent[:20]}”")
        percent = number
    if isinstance(percent, float) and percent.is_integer():
        percent = int(percent)
    texts = {k: _text(fields[k]).replace("\r\n", "\n") for k in ("done", "problems", "next_steps", "reporter")}
    for k, col in (("done", "H"), ("problems", "I"), ("next_steps", "J")):
        if len(texts[k]) > MAX_TEXT:
            problems.append(f"{col}列内容过长（{len(texts[k])} 字，上限 {MAX_TEXT} 字）")
    report = ReportInput(period=ctx.period.code, report_date=ctx.report_date, department=ctx.department,
                         reporter=texts["reporter"].strip(), status=_text(fields["status"]).strip(),
                         percent=percent if percent is not None else "", done=texts["done"],
                         problems=texts["problems"], next_steps=texts["next_steps"])
    clean_report_input(report)  # checked as it will be stored: invisible characters are dropped at saving
    if not problems:
        found = check_report(report, today=ctx.today, plan_years=ctx.years, target_year=target[2],
                             departments=ctx.departments.get(target[1], []), thresholds=ctx.thresholds)
        problems += [str(p) for p in found]
    if problems:
        return RowResult(sheet, r, ERROR, label, f"{where}：" + "；".join(problems), target_id, problems=problems)
    after = {"status": report.status, "percent": report.percent, "done": report.done.strip(),
             "problems": report.problems.strip(), "next_steps": report.next_steps.strip(), "reporter": report.reporter}
    if existing is None:
        note = f"确认沿用上期进展（报告 #{source.id}）" if untouched else ""
        return RowResult(sheet, r, NEW, label, note, target_id, report=report,
                         changes=_changes(_report_fields(source), after) or
                         [Change("本期确认", "", CONFIRM)])
    changes = _changes(_report_fields(existing), after)
    if not changes:
        return RowResult(sheet, r, UNCHANGED, label, "与本期已报内容相同", target_id)
    return RowResult(sheet, r, CHANGED, label, f"将修订报告 #{existing.id}", target_id, report=report,
                     replaces=existing.id, changes=changes)


def _read_indicator_sheet(session: Session, sheet, ctx: _Context) -> None:
    preview = ctx.preview
    if not _check_sheet(sheet, INDICATOR_HEADERS, (6,), preview):
        return
    measures = {mid for (_, mid, year, retired) in ctx.targets.values() if year == ctx.period.year and not retired}
    known = {iid: (mid, name, no, aggregate) for iid, mid, name, no, aggregate in session.execute(
        select(Indicator.id, Indicator.measure_id, Indicator.name, Measure.no, Indicator.aggregate)
        .join(Measure, Measure.id == Indicator.measure_id).where(Indicator.measure_id.in_(measures)))}
    seen: set[int] = set()
    for r in sorted(k for k in sheet.rows if k >= FIRST_ROW):
        cells = sheet.rows[r]
        where = f"{preview.file.name} 工作表“{sheet.title}”第{r}行"
        raw_id = str(cells[0].value or "").strip()
        m = re.fullmatch(r"I(\d{1,9})", raw_id)
        indicator_id = int(m.group(1)) if m else None
        found = known.get(indicator_id)
        if found is None or indicator_id in seen or ctx.department not in ctx.departments.get(found[0], []):
            preview.rows.append(RowResult(sheet.title, r, ERROR, str(cells[2].value or "")[:40],
                                          f"{where}：行号“{raw_id[:20]}”无效（被改动、重复或不属于本部门）",
                                          problems=["行号无效"]))
            continue
        seen.add(indicator_id)
        label = f"措施{found[2]}“{found[1]}”"
        cell = cells[5]
        token = read_token(ctx.key, ctx.identity, raw_id, cells[INDICATOR_TOKEN_COL - 1].value)
        if token is None:
            preview.rows.append(RowResult(sheet.title, r, ERROR, label, f"{where}：隐藏的校验信息缺失或被改动，请在下发的模板中填写",
                                          indicator_id=indicator_id, problems=["校验信息无效"]))
            continue
        if cell.data_type == "f":
            preview.rows.append(RowResult(sheet.title, r, ERROR, label, f"{where} F列（实际值）：不接受公式",
                                          indicator_id=indicator_id, problems=["F列（实际值）是公式"]))
            continue
        if cell.value is None or (isinstance(cell.value, str) and not cell.value.strip()) or \
                digest([cell.value]) == token[1]:
            preview.rows.append(RowResult(sheet.title, r, EMPTY, label, "", indicator_id=indicator_id))
            continue
        lead = ctx.departments[found[0]][0]
        if found[3] != "sum" and ctx.department != lead:  # an older template offered every indicator to everyone
            problem = f"该指标由牵头部门{lead}填报，{ctx.department}的数字不作为指标实际值"
            preview.rows.append(RowResult(sheet.title, r, ERROR, label, f"{where}：{problem}；请把情况写在“填报”工作表的"
                                          "工作进展中，或由牵头部门填报", indicator_id=indicator_id, problems=[problem]))
            continue
        number = parse_number(cell.value)
        if number is None or abs(number) > 1e12:
            problem = f"F列（实际值）：应为数字，实际为“{str(cell.value)[:20]}”"
            preview.rows.append(RowResult(sheet.title, r, ERROR, label, f"{where} {problem}",
                                          indicator_id=indicator_id, problems=[problem]))
            continue
        values = session.scalars(select(IndicatorValue).where(  # the department's own figures
            IndicatorValue.indicator_id == indicator_id, IndicatorValue.deleted.is_(False),
            IndicatorValue.department_id == ctx.department_id).order_by(IndicatorValue.as_of, IndicatorValue.id)).all()
        if any(v.as_of == ctx.report_date and v.value == number for v in values):
            preview.rows.append(RowResult(sheet.title, r, UNCHANGED, label, "与已有数值相同", indicator_id=indicator_id))
            continue
        before = f"{values[-1].value:g}（{values[-1].as_of.isoformat()}）" if values else ""
        preview.rows.append(RowResult(sheet.title, r, NEW, label, "", indicator_id=indicator_id, value=number,
                                      changes=[Change("实际值", before, f"{number:g}")]))

"""回收汇总, the last step: every accepted row of every previewed return written in one transaction, in the
departments' names, with the file's name and SHA-256 recorded, so importing the same file again creates nothing.
Rows the reviewer sent back go to the department in a 退回表 (`write_returns`) instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.periods import parse_period
from qjgb_desktop.services.accounts.access import covering, require
from qjgb_desktop.services.collection.returns import CHANGED, EMPTY, ERROR, NEW, UNCHANGED, ImportPreview, RowResult
from qjgb_desktop.services.collection.templates import META_SHEET
from qjgb_desktop.services.progress.reports import RETURN, ProgressError, add_report, correct_report
from qjgb_desktop.store.files import save_workbook
from qjgb_desktop.store.models import Department, ImportBatch, ProgressReport


@dataclass
class CommitSummary:
    reports_added: int = 0
    reports_corrected: int = 0
    values_added: int = 0
    skipped_files: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)  # earlier-saved versions of a return in the same import


def commit(session: Session, previews: list[ImportPreview], actor: str, today: date,
           rejected: set[tuple[str, str, int]] | None = None, accept_other_periods: bool = False) -> CommitSummary:
    """The import is the 督导's (or 管理员's) to do; the rows it writes are the departments' reports, in their names."""
    require(session, actor, "excel.import")
    with covering(session, "excel.import"):
        return _commit(session, previews, actor, today, rejected, accept_other_periods)


def _commit(session: Session, previews: list[ImportPreview], actor: str, today: date,
            rejected: set[tuple[str, str, int]] | None = None, accept_other_periods: bool = False) -> CommitSummary:
    """Write every accepted row of every file, in the caller's one transaction. Refuses if any file has an error,
    or any row with an error was not sent back, or a file is for another period than the one being collected
    (batch.check_batch) without the explicit choice `accept_other_periods`; a superseded return (an earlier-saved
    version of the same template in the same import) writes nothing. `rejected` holds (file name, sheet, row) the
    reviewer sent back."""
    rejected = rejected or set()
    other = [p for p in previews if p.other_period and not p.superseded_by and not p.errors]
    if other and not accept_other_periods:
        raise ProgressError("有不是本次回收周期的模板，未导入任何内容：" + "；".join(
            f"{p.file.name} 是 {p.period} 的模板（本次回收 {p.other_period}）" for p in other)
            + "。确需补录其他周期时，请明确选择导入这些文件")
    bad = [p for p in previews if p.errors or any(
        r.kind == ERROR and (p.file.name, r.sheet, r.row) not in rejected for r in p.rows)]
    if bad:  # an error row can only be sent back (rejected), never imported
        raise ProgressError("有错误，未导入任何内容：" + "；".join(
            p.errors[0] if p.errors else next(r.reason for r in p.rows if r.kind == ERROR) for p in bad))
    summary = CommitSummary()
    departments = {name: id_ for name, id_ in session.execute(select(Department.name, Department.id))}
    done: set[str] = set()
    written: dict[tuple[int, str, str], int] = {}  # (target, period, department) -> report written here
    for p in previews:
        if p.superseded_by:
            summary.superseded.append(p.file.name)
            continue
        if p.already_imported or p.sha256 in done or session.scalar(select(ImportBatch.id).where(
                ImportBatch.sha256 == p.sha256)) is not None:  # the same file twice: once is enough
            summary.skipped_files.append(p.file.name)
            continue
        for row in p.rows:
            if (p.file.name, row.sheet, row.row) in rejected or row.kind not in (NEW, CHANGED):
                continue
            if row.indicator_id is not None:
                from qjgb_desktop.services.progress.reports import _add_value

                as_of = min(max(today, parse_period(p.period).start), parse_period(p.period).end)
                _add_value(session, row.indicator_id, row.value, as_of, actor, None, note=f"导入：{p.file.name}",
                           department_id=departments[p.department], source=RETURN)
                summary.values_added += 1
                continue
            # Two returns for the same target in one import (a department sent its file twice): the later
            # one corrects what the earlier one wrote, rather than adding a duplicate. A report of this period
            # that appeared since the preview (someone else saved one) is corrected, not duplicated.
            key = (row.target_id, p.period, p.department)
            base = written.get(key) or row.replaces or _current_report(session, row.target_id, p.period, p.department)
            if base is None:
                view = add_report(session, row.target_id, row.report, actor, today)
                summary.reports_added += 1
            else:
                view = correct_report(session, base, row.report, actor, today)
                summary.reports_corrected += 1
            written[key] = view.id
        done.add(p.sha256)
        session.add(ImportBatch(sha256=p.sha256, file_name=p.file.name, department=p.department, period=p.period,
                                imported_at=datetime.now(), imported_by=actor, saved_at=p.saved_at,
                                summary={k: p.count(k) for k in (NEW, CHANGED, UNCHANGED, EMPTY)}))
    session.flush()
    return summary


def _current_report(session: Session, target_id: int, period: str, department: str) -> int | None:
    return session.scalar(select(ProgressReport.id).join(Department).where(
        ProgressReport.yearly_target_id == target_id, ProgressReport.period == period, Department.name == department,
        ProgressReport.is_current.is_(True), ProgressReport.deleted.is_(False)).order_by(ProgressReport.id.desc()))


def write_returns(preview: ImportPreview, sent_back: list[RowResult], out: Path) -> Path:
    """退回: the department's own file with a 退回 sheet listing each row sent back and why, to fill again."""
    import warnings

    from openpyxl import load_workbook
    from openpyxl.styles import Alignment, Font

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(preview.file)
    if "退回" in wb.sheetnames:
        del wb["退回"]
    if META_SHEET in wb.sheetnames:
        wb[META_SHEET].sheet_state = "veryHidden"
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
    wb.active = 0
    return save_workbook(wb, out)

"""督办通知单 (.docx): one per lead department, listing its targets that need chasing today (滞后, 逾期, 未填报:
status_core.follow_ups) with the latest report on each, and the date its answer is due (calendar.feedback_deadline,
a setting). A department with nothing to chase gets no notice.

A notice issued with registration (issue_notices) carries its number (督办〔2026〕3号, the prefix a setting) and is
entered in the 发文登记 in the same transaction as its 交办 steps; a draft (write_notices alone) leaves the number's
place blank, for a number given by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from qjgb_desktop.services.documents.docx_official import OfficialDocument, chinese_date
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress.reports import list_reports
from qjgb_desktop.services.progress.status import FollowUp, compute_status, follow_ups
from qjgb_desktop.services.settings.record import load_settings

EXCERPT_CHARS = 150
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


class NoticeError(ValueError):
    """A request the user can fix (an unknown department); the message names the value."""


def notice_path(out_dir: Path, department: str, today: date, number: str = "") -> Path:
    """督办通知单-<部门>-<日期>[-<文号>].docx, with what Windows refuses in a file name replaced. A registered notice
    carries its number in the name too, so a notice sent again the same day never replaces the one sent before."""
    def safe(text: str) -> str:
        return _UNSAFE.sub("_", text).strip(" .") or "_"
    suffix = f"-{safe(number)}" if number else ""
    return Path(out_dir) / f"督办通知单-{safe(department)}-{today.isoformat()}{suffix}.docx"


def feedback_due(session: Session, today: date) -> date:
    from qjgb_desktop.services.supervision.calendar import feedback_deadline

    return feedback_deadline(load_settings(session), today)


def _period(code: str) -> str:
    from qjgb_desktop.domain.periods import PeriodError, parse_period
    from qjgb_desktop.services.documents.report import period_label

    try:
        return period_label(parse_period(code))
    except PeriodError:
        return code


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _chased(session: Session, department: str | None, today: date):
    """The plan, and what each lead department (or the one asked) has to be chased for today."""
    tree = plan_tree(session)
    if tree is None:
        raise NoticeError("数据库中没有计划，请先运行 qjgb init")
    if department is not None and department not in tree.departments:
        raise NoticeError(f"没有名为“{department}”的部门（计划中的部门可用 qjgb plan 查看）")
    snap = compute_status(session, today, tree)
    return tree, {d: items for d, items in follow_ups(snap).items() if department is None or d == department}


def write_notices(session: Session, out_dir: Path, *, department: str | None = None, today: date,
                  issuer: str = "") -> list[Path]:
    """Draft notices (the number left blank) for one department or (department None) every lead department with
    something to chase; returns the files written, none for a department with nothing to chase. Numbered and
    registered ones: issue_notices."""
    tree, chased = _chased(session, department, today)
    return list(_write(session, out_dir, tree, chased, today, issuer, {}).values())


def _write(session: Session, out_dir: Path, tree, chased: dict[str, list[FollowUp]], today: date, issuer: str,
           numbers: dict[str, str]) -> dict[str, Path]:
    due = feedback_due(session, today)
    blank = f"{load_settings(session).notice_prefix}〔{today.year}〕\u3000\u3000号"
    written = {}
    for dept, items in chased.items():
        number = numbers.get(dept, "")
        doc = _notice(session, tree, dept, items, today, due, issuer, number or blank)
        written[dept] = doc.save(notice_path(out_dir, dept, today, number))
    return written


@dataclass(frozen=True)
class Issued:
    files: list[Path]
    recorded: list  # supervision.ItemView: the items recorded as 交办
    numbers: dict[str, str]  # department -> 文号


def issue_notices(session: Session, out_dir: Path, *, actor: str, department: str | None = None, today: date,
                  issuer: str = "") -> Issued:
    """Number, write and register the notices, in the caller's write transaction: each department's notice gets
    the year's next number, is written with it, and is entered in the 发文登记 with the 交办 of the department's
    items. If the transaction does not commit, nothing is registered and the numbers stay free (the files written
    are then drafts whose numbers will be given again)."""
    from qjgb_desktop.services.accounts.access import require
    from qjgb_desktop.services.supervision.items import assign_notices, next_notice_numbers

    require(session, actor, "supervision.assign")  # a refusal writes no file
    tree, chased = _chased(session, department, today)
    numbers = next_notice_numbers(session, today, list(chased))
    texts = {d: n.text for d, n in numbers.items()}
    notices = _write(session, out_dir, tree, chased, today, issuer, texts)
    recorded = assign_notices(session, actor, today, notices, numbers)
    return Issued(list(notices.values()), recorded, texts)


def _notice(session: Session, tree, department: str, items: list[FollowUp], today: date, due: date,
            issuer: str, number: str) -> OfficialDocument:
    doc = OfficialDocument()
    doc.document_number(number)
    doc.title("督办通知单")
    doc.recipient(department)
    states = "、".join(dict.fromkeys(f.state for f in items))
    doc.paragraph(f"根据《{tree.title}》推进情况监测，截至{chinese_date(today)}，你单位牵头的以下{len(items)}项"
                  f"年度目标处于{states}状态，现予督办。")
    latest = {f.target_id: next(iter(list_reports(session, target_id=f.target_id)), None) for f in items}
    rows = []
    for n, f in enumerate(items, 1):
        r = latest[f.target_id]
        last = f"{r.report_date.isoformat()} {r.status} {r.percent}%" if r else "尚无报送"
        rows.append([n, f"措施{f.measure_no} {f.measure_title}", f.year, f.state, last,
                     f.days_since_report if f.days_since_report is not None else "—"])
    doc.table(["序号", "改革措施", "年度", "状态", "最近一次报送", "距今天数"], rows, [0.8, 4.6, 1.4, 1.5, 3.6, 1.4],
              title="需督办的年度目标", center={0, 2, 3, 5})
    for f in items:
        measure = tree.measure(f.measure_no)
        target = next((t for t in measure.targets if t.id == f.target_id), None) if measure else None
        doc.heading3(f"措施{f.measure_no} {f.measure_title}（{f.year}年度，{f.state}）")
        if target is not None:
            doc.paragraph(target.text, lead="年度目标：")
        r = latest[f.target_id]
        if r is None:
            doc.paragraph("本年度目标尚无任何进展报送。", lead="最近一次报送：")
            continue
        days = f"，距今{f.days_since_report}天" if f.days_since_report is not None else ""
        doc.paragraph(f"{chinese_date(r.report_date)}（{_period(r.period)}，{r.department}），填报状态“{r.status}”，"
                      f"完成度{r.percent}%{days}。", lead="最近一次报送：")
        doc.paragraph(excerpt(r.done) if r.done.strip() else "（未填写）", lead="工作进展（摘要）：")
    doc.paragraph(f"请于{chinese_date(due)}前，将上述目标的推进情况、存在问题及整改措施书面反馈，并按期报送进展。",
                  lead="反馈要求：")
    doc.signature(today, issuer)
    return doc

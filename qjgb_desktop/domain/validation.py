"""Checks on a progress report and on indicator values, with messages a clerk can act on.

Every check returns Problem(field, message) items instead of stopping at the first, so a form can show them all
and keep what was typed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from qjgb_desktop.domain.periods import PeriodError, parse_period
from qjgb_desktop.domain.status import (
    R_BEHIND,
    R_DONE,
    R_NOT_BEGUN,
    R_PAUSED,
    RED,
    REPORT_STATUSES,
    YELLOW,
    Thresholds,
    expected_percent,
    percent_light,
)

MAX_TEXT = 5000

# Line-like separators become a real line break (Word's Shift+Enter arrives as \v, Excel's in-cell break as \n,
# old Mac text as \r), so the words on either side stay apart.
_LINE_BREAKS = re.compile("\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")
# What is removed: the other C0 controls, DEL, C1 controls, lone surrogates (not encodable as UTF-8, so SQLite
# refuses them), the non-characters U+FFFE/U+FFFF (not allowed in XML, so not in xlsx), the byte-order mark
# (invisible), and the bidirectional embedding/override/isolate marks that can make "报告\u202eexe.pdf" look
# like a PDF (used to disguise a file's real extension).
_REMOVED = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufeff\ufffe\uffff"
                      "\u202a-\u202e\u2066-\u2069]")


def clean_text(value, multiline: bool = True) -> str:
    r"""Text as it may be stored: the one cleaning every text input passes before it reaches the database
    (report texts, reporter, department, reasons, notes, evidence notes and file names, user and admin names).

    Decision: STRIP, silently, rather than refuse. The characters concerned are invisible (a clerk cannot see,
    let alone find and delete, a U+0001 pasted from another program), so a refusal would be a message nobody
    can act on; stripping them changes nothing a reader can see. Specifically:
    - \r\n and \r become \n; the other line-like separators (\v, \f, U+001C–U+001E, U+0085 NEL,
      U+2028, U+2029) become \n too, so words are not glued together;
    - a tab becomes a space;
    - all other C0/C1 control characters, DEL, lone surrogates, U+FEFF, U+FFFE, U+FFFF and the bidi
      embedding/override/isolate marks (U+202A–U+202E, U+2066–U+2069) are removed.
    With multiline=False (names, reasons on one line, file names) line breaks become a space as well.
    Leading and trailing whitespace is left to the caller (most strip it). None becomes "".
    """
    if value is None:
        return ""
    text = _LINE_BREAKS.sub("\n", str(value)).replace("\t", " ")
    text = _REMOVED.sub("", text)
    return text if multiline else text.replace("\n", " ")


def clean_report_input(r: "ReportInput") -> "ReportInput":
    """clean_text over every text of a report, in place (the caller's object is the one validated and stored)."""
    r.period = clean_text(r.period, multiline=False)
    r.department = clean_text(r.department, multiline=False)
    r.reporter = clean_text(r.reporter, multiline=False)
    r.status = clean_text(r.status, multiline=False)
    if isinstance(r.percent, str):
        r.percent = clean_text(r.percent, multiline=False)
    r.done, r.problems, r.next_steps = (clean_text(r.done), clean_text(r.problems), clean_text(r.next_steps))
    return r

FIELD_LABELS = {
    "period": "填报周期", "report_date": "填报日期", "department": "填报部门", "reporter": "填报人",
    "status": "状态", "percent": "完成度", "done": "工作进展", "problems": "存在问题", "next_steps": "下步计划",
    "value": "指标值", "as_of": "日期",
}


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{FIELD_LABELS.get(self.field, self.field)}：{self.message}"


@dataclass
class ReportInput:
    period: str
    report_date: date
    department: str
    reporter: str
    status: str
    percent: int | str | None
    done: str = ""
    problems: str = ""
    next_steps: str = ""


def parse_percent(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).strip().rstrip("%"))
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def parse_number(text) -> float | None:
    """A number as typed by a clerk: "96.5", "96.5%", "1,500", full-width digits."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text) if math.isfinite(text) else None
    text = str(text)
    if len(text) > 64:  # no number is that long; float() would repeat the whole text in its error message
        return None
    cleaned = text.strip().translate(str.maketrans("０１２３４５６７８９．，％", "0123456789.,%"))
    cleaned = cleaned.replace(",", "").rstrip("%").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_report(r: ReportInput, *, today: date, plan_years: list[int], target_year: int,
                 departments: list[str], thresholds: Thresholds = Thresholds()) -> list[Problem]:
    problems: list[Problem] = []
    add = lambda field, msg: problems.append(Problem(field, msg))  # noqa: E731

    first, last = date(plan_years[0], 1, 1), date(plan_years[-1], 12, 31)
    if r.report_date > today:
        add("report_date", f"不能晚于今天（{today.isoformat()}）")
    if not first <= r.report_date <= last:
        add("report_date", f"应在计划期内（{first.isoformat()} 至 {last.isoformat()}）")
    try:
        period = parse_period(r.period)
    except PeriodError as exc:
        add("period", str(exc))
        period = None
    if period is not None:
        if period.year < target_year:
            add("period", f"{period.code} 早于该目标的年度（{target_year}年）")
        elif period.year > plan_years[-1]:
            add("period", f"{period.code} 超出计划期（至{plan_years[-1]}年）")
        elif r.report_date < period.start:
            add("report_date", f"早于填报周期 {period.code} 的开始日期（{period.start.isoformat()}）")
    if r.department not in departments:
        add("department", f"“{r.department}”不是本措施的责任部门（{'、'.join(departments)}）")
    if not r.reporter.strip():
        add("reporter", "请填写填报人")
    if r.status not in REPORT_STATUSES:
        add("status", f"应为{'、'.join(REPORT_STATUSES)}之一")
    percent = parse_percent(r.percent)
    if percent is None:
        add("percent", f"应为 0–100 的整数，收到“{r.percent}”")
    elif not 0 <= percent <= 100:
        add("percent", f"应在 0–100 之间，收到 {percent}")
    else:
        if r.status == R_DONE and percent != 100:
            add("percent", "状态为“已完成”时完成度应为 100")
        if percent == 100 and r.status not in (R_DONE, ""):
            add("status", "完成度为 100 时状态应为“已完成”")
        if r.status == R_NOT_BEGUN and percent != 0:
            add("percent", "状态为“未启动”时完成度应为 0")
    for field in ("done", "problems", "next_steps"):
        if len(getattr(r, field)) > MAX_TEXT:
            add(field, f"不超过 {MAX_TEXT} 字（现 {len(getattr(r, field))} 字）")
    if r.status in (R_BEHIND, R_PAUSED) and not r.problems.strip():
        add("problems", f"状态为“{r.status}”时须说明存在的问题")
    light = report_light(r.status, percent, target_year, r.report_date, thresholds)
    if light in (RED, YELLOW):
        expected = expected_percent(target_year, r.report_date)
        if not r.problems.strip() and r.status not in (R_BEHIND, R_PAUSED):
            add("problems", f"完成度低于进度要求（此时应约 {expected:.0f}%），请说明原因")
        if not r.next_steps.strip():
            add("next_steps", "进度滞后或需关注时，请写明整改措施")
    return problems


def report_light(status: str, percent: int | None, target_year: int, on: date, t: Thresholds) -> str | None:
    """The light this report alone would give its target on the report date (关注/滞后 ask for a cause)."""
    if percent is None or status == R_DONE:
        return None
    if on.year > target_year or status == R_BEHIND:  # the year is over (逾期) or the department says 滞后
        return RED
    return percent_light(percent, expected_percent(target_year, on), t)


def check_indicator_value(value, as_of: date, *, today: date, plan_years: list[int]) -> tuple[float | None,
                                                                                          list[Problem]]:
    problems: list[Problem] = []
    number = parse_number(value)
    if number is None:
        problems.append(Problem("value", f"请输入数字，收到“{value}”"))
    if as_of > today:
        problems.append(Problem("as_of", f"不能晚于今天（{today.isoformat()}）"))
    if not date(plan_years[0], 1, 1) <= as_of <= date(plan_years[-1], 12, 31):
        problems.append(Problem("as_of", f"应在计划期内（{plan_years[0]}–{plan_years[-1]}年）"))
    return number, problems

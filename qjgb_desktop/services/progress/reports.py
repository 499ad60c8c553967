"""进展填报: add, correct, delete and list progress reports and indicator values; close and reopen periods.

Every write is validated first (domain.validation), refused as a whole when anything is wrong, and leaves an audit
event with the state before and after. Nothing is overwritten or removed: a correction is a new revision, a
deletion a mark with a reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.periods import PeriodError, parse_period, period_of
from qjgb_desktop.domain.status import R_ON_TRACK
from qjgb_desktop.domain.validation import (
    Problem,
    ReportInput,
    check_indicator_value,
    check_report,
    clean_report_input,
    clean_text,
    parse_percent,
)
from qjgb_desktop.services.accounts.access import plan_facts, require, responsible_departments
from qjgb_desktop.services.settings.record import load_settings
from qjgb_desktop.store.models import (
    AuditEvent,
    ClosedPeriod,
    Department,
    Indicator,
    IndicatorValue,
    Measure,
    MeasureDepartment,
    Plan,
    ProgressReport,
    YearlyTarget,
)


class ProgressError(Exception):
    """A request the user can fix (closed period, unknown target, missing reason); the message says how."""


class ValidationFailed(ProgressError):
    def __init__(self, problems: list[Problem], where: str = "") -> None:
        self.problems = problems
        prefix = f"{where}：" if where else ""
        super().__init__(prefix + "；".join(str(p) for p in problems))


@dataclass(frozen=True)
class ReportView:
    id: int
    series_id: int
    revision: int
    is_current: bool
    target_id: int
    measure_no: int
    year: int
    period: str
    report_date: date
    department: str
    reporter: str
    status: str
    percent: int
    done: str
    problems: str
    next_steps: str
    created_at: datetime
    created_by: str
    deleted: bool
    deleted_at: datetime | None
    deleted_by: str
    delete_reason: str

    def as_json(self) -> dict:
        out = asdict(self)
        for key in ("report_date", "created_at", "deleted_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def _view(r: ProgressReport) -> ReportView:
    return ReportView(
        id=r.id, series_id=r.series_id or r.id, revision=r.revision, is_current=r.is_current,
        target_id=r.yearly_target_id, measure_no=r.target.measure.no, year=r.target.year, period=r.period,
        report_date=r.report_date, department=r.department.name, reporter=r.reporter, status=r.status,
        percent=r.percent, done=r.done, problems=r.problems, next_steps=r.next_steps, created_at=r.created_at,
        created_by=r.created_by, deleted=r.deleted, deleted_at=r.deleted_at, deleted_by=r.deleted_by,
        delete_reason=r.delete_reason)


def _snapshot(r: ProgressReport) -> dict:
    view = _view(r).as_json()
    return {k: view[k] for k in ("period", "report_date", "department", "reporter", "status", "percent", "done",
                                 "problems", "next_steps", "revision")}


def _audit(session: Session, actor: str, action: str, entity: str, entity_id: int | None,
           before: dict | None, after: dict | None, reason: str = "") -> None:
    session.add(AuditEvent(at=datetime.now(), actor=actor, action=action, entity=entity, entity_id=entity_id,
                           before=before, after=after, reason=reason))


# -- lookups ---------------------------------------------------------------------------------------------

def plan_years(session: Session) -> list[int]:
    """The plan's years, read once per session."""
    facts = plan_facts(session)
    if "years" not in facts:
        plan = session.scalars(select(Plan).order_by(Plan.id)).first()
        if plan is None:
            raise ProgressError("数据库中没有计划，请先运行 qjgb init")
        facts["years"] = list(range(plan.start_year, plan.end_year + 1))
    return list(facts["years"])


def target_id_for(session: Session, measure_no: int, year: int) -> int:
    tid = session.scalar(select(YearlyTarget.id).join(Measure).where(
        Measure.no == measure_no, YearlyTarget.year == year, Measure.retired.is_(False),
        YearlyTarget.retired.is_(False)))
    if tid is None:
        raise ProgressError(f"没有第 {measure_no} 项措施的 {year} 年度目标")
    return tid


def measure_departments(session: Session, measure_id: int) -> list[str]:
    return list(responsible_departments(session, measure_id))


def _target(session: Session, target_id: int) -> YearlyTarget:
    target = session.get(YearlyTarget, target_id)
    if target is None or target.retired:
        raise ProgressError(f"年度目标 {target_id} 不存在")
    return target


def closed_periods(session: Session) -> set[str]:
    return set(session.scalars(select(ClosedPeriod.period)))


def _ensure_open(session: Session, period: str) -> None:
    if period in closed_periods(session):
        raise ProgressError(f"填报周期 {period} 已关闭，其中的报告已锁定；如需修改，请管理员重新开放该周期")


# -- reports ---------------------------------------------------------------------------------------------

def _checked(session: Session, target: YearlyTarget, data: ReportInput, today: date) -> tuple[int, int]:
    """Validate; return (department id, percent) or raise ValidationFailed with every problem."""
    responsible = responsible_departments(session, target.measure_id)
    departments = list(responsible)
    problems = check_report(data, today=today, plan_years=plan_years(session), target_year=target.year,
                            departments=departments, thresholds=load_settings(session).thresholds)
    if problems:
        raise ValidationFailed(problems, f"措施{target.measure.no}·{target.year}年进展")
    dep_id = responsible.get(data.department)
    if dep_id is None:
        dep_id = session.scalar(select(Department.id).where(Department.name == data.department))
    return dep_id, parse_percent(data.percent)


def add_report(session: Session, target_id: int, data: ReportInput, actor: str, today: date,
               indicator_values: dict[int, object] | None = None) -> ReportView:
    target = _target(session, target_id)
    clean_report_input(data)
    actor = clean_text(actor, multiline=False).strip()
    require(session, actor, "report.add", target_id=target.id, department=data.department)
    data.period = data.period.strip().upper()
    dep_id, percent = _checked(session, target, data, today)
    _ensure_open(session, data.period)
    values = _checked_values(session, target, indicator_values or {}, data.report_date, today)
    report = ProgressReport(
        yearly_target_id=target.id, period=data.period, report_date=data.report_date, department_id=dep_id,
        reporter=data.reporter.strip(), status=data.status, percent=percent, done=data.done.strip(),
        problems=data.problems.strip(), next_steps=data.next_steps.strip(), created_at=datetime.now(),
        created_by=actor)
    session.add(report)
    session.flush()
    report.series_id = report.id
    _audit(session, actor, "report.add", "progress_report", report.id, None, _snapshot(report))
    for indicator_id, value in values.items():
        _add_value(session, indicator_id, value, data.report_date, actor, report.id,
                   department_id=report.department_id, source=REPORT)
    session.flush()
    return _view(report)


class ReportConflict(ProgressError):
    """Someone else corrected or deleted the report since it was opened: nothing was saved. Carries both versions,
    so the user sees them side by side and chooses (the window's conflict dialog; the message on the CLI)."""

    def __init__(self, opened: ReportView, current: ReportView) -> None:
        self.opened, self.current = opened, current
        when = f"{current.deleted_at or current.created_at:%Y-%m-%d %H:%M}"
        if current.deleted:
            what = f"已被 {current.deleted_by} 于 {when} 删除（原因：{current.delete_reason}）"
        else:
            what = (f"已被 {current.created_by} 于 {when} 修订为第 {current.revision} 版（报告 #{current.id}："
                    f"{current.status} {current.percent}%）")
        super().__init__(f"报告 #{opened.id}（第 {opened.revision} 版）在你打开之后{what}；你的修改没有保存，"
                         "未覆盖对方的修改。请在最新版本上修订" + ("" if current.deleted else f"（报告 #{current.id}）"))


def _current_of(session: Session, report: ProgressReport) -> ProgressReport:
    """The series' current revision (it may be deleted)."""
    series = report.series_id or report.id
    return session.scalars(select(ProgressReport).where(
        ProgressReport.is_current.is_(True),
        (ProgressReport.series_id == series) | (ProgressReport.id == series))).first() or report


def _check_not_stale(session: Session, report: ProgressReport) -> None:
    """The version check: the revision opened must still be the current one, and not deleted."""
    if not report.is_current or report.deleted:
        raise ReportConflict(_view(report), _view(_current_of(session, report)))


def correct_report(session: Session, report_id: int, data: ReportInput, actor: str, today: date) -> ReportView:
    """A new revision of the report `report_id`, which must be the current one: a correction made from an older
    revision (someone else corrected or deleted it meanwhile) raises ReportConflict and writes nothing."""
    old = session.get(ProgressReport, report_id)
    if old is None:
        raise ProgressError(f"报告 {report_id} 不存在")
    _check_not_stale(session, old)
    clean_report_input(data)
    actor = clean_text(actor, multiline=False).strip()
    require(session, actor, "report.correct", target_id=old.yearly_target_id,
            department=(old.department.name, data.department))
    data.period = data.period.strip().upper()
    _ensure_open(session, old.period)
    dep_id, percent = _checked(session, old.target, data, today)
    _ensure_open(session, data.period)
    new = ProgressReport(
        series_id=old.series_id or old.id, revision=old.revision + 1, yearly_target_id=old.yearly_target_id,
        period=data.period, report_date=data.report_date, department_id=dep_id, reporter=data.reporter.strip(),
        status=data.status, percent=percent, done=data.done.strip(), problems=data.problems.strip(),
        next_steps=data.next_steps.strip(), created_at=datetime.now(), created_by=actor)
    old.is_current = False
    session.add(new)
    session.flush()
    _audit(session, actor, "report.correct", "progress_report", new.id, _snapshot(old), _snapshot(new))
    session.flush()
    return _view(new)


def delete_report(session: Session, report_id: int, reason: str, actor: str) -> None:
    report = session.get(ProgressReport, report_id)
    if report is None:
        raise ProgressError(f"报告 {report_id} 不存在")
    _check_not_stale(session, report)
    reason, actor = clean_text(reason), clean_text(actor, multiline=False).strip()
    require(session, actor, "report.delete", target_id=report.yearly_target_id, department=report.department.name)
    if not reason.strip():
        raise ProgressError("删除报告须写明原因")
    _ensure_open(session, report.period)
    report.deleted, report.deleted_at, report.deleted_by = True, datetime.now(), actor
    report.delete_reason = reason.strip()
    _audit(session, actor, "report.delete", "progress_report", report.id, _snapshot(report), None, reason.strip())
    session.flush()


def _report_query():
    return select(ProgressReport).join(YearlyTarget).join(Measure)


def list_reports(session: Session, measure_no: int | None = None, target_id: int | None = None,
                 include_history: bool = False, include_deleted: bool = False) -> list[ReportView]:
    """Newest first. By default only what counts: current revisions that are not deleted."""
    q = _report_query()
    if measure_no is not None:
        q = q.where(Measure.no == measure_no)
    if target_id is not None:
        q = q.where(ProgressReport.yearly_target_id == target_id)
    if not include_history:
        q = q.where(ProgressReport.is_current.is_(True))
    if not include_deleted:
        q = q.where(ProgressReport.deleted.is_(False))
    q = q.order_by(ProgressReport.report_date.desc(), ProgressReport.id.desc())
    return [_view(r) for r in session.scalars(q)]


def report_history_of(session: Session, report_id: int) -> list[ReportView]:
    """Every revision of the report series `report_id` belongs to (empty if there is no such report)."""
    row = session.get(ProgressReport, report_id)
    return report_history(session, row.series_id or row.id) if row is not None else []


def report_history(session: Session, series_id: int) -> list[ReportView]:
    """Every revision of one report, newest first, deleted ones included."""
    q = _report_query().where(ProgressReport.series_id == series_id).order_by(ProgressReport.revision.desc())
    return [_view(r) for r in session.scalars(q)]


@dataclass(frozen=True)
class FormDefaults:
    period: str
    report_date: date
    department: str
    reporter: str
    departments: list[str]
    status: str = "正常推进"
    percent: int = 0


def form_defaults(session: Session, target_id: int, today: date, actor: str = "") -> FormDefaults:
    """What a new report on this target starts with: the current period, today (within the plan), the lead
    department, the last reporter (of this target, else of this user's last report), and the status and
    percent of the target's latest report, to be updated rather than typed again."""
    target = _target(session, target_id)
    years = plan_years(session)
    day = min(max(today, date(max(target.year, years[0]), 1, 1)), date(years[-1], 12, 31))
    departments = measure_departments(session, target.measure_id)
    latest = session.scalars(select(ProgressReport).where(
        ProgressReport.yearly_target_id == target_id, ProgressReport.is_current.is_(True),
        ProgressReport.deleted.is_(False)).order_by(ProgressReport.report_date.desc(), ProgressReport.id.desc())
        .limit(1)).first()
    last = session.scalars(select(ProgressReport).where(ProgressReport.yearly_target_id == target_id)
                           .order_by(ProgressReport.id.desc()).limit(1)).first()
    if last is None and actor:
        last = session.scalars(select(ProgressReport).where(ProgressReport.created_by == actor)
                               .order_by(ProgressReport.id.desc()).limit(1)).first()
    return FormDefaults(period=period_of(day, load_settings(session).scheme).code, report_date=day,
                        department=departments[0], reporter=last.reporter if last else actor,
                        departments=departments, status=latest.status if latest else R_ON_TRACK,
                        percent=latest.percent if latest else 0)


# -- indicator values ------------------------------------------------------------------------------------

def find_indicator(session: Session, measure_no: int, name: str) -> Indicator:
    indicators = session.scalars(select(Indicator).join(Measure).where(
        Measure.no == measure_no, Indicator.retired.is_(False)).order_by(Indicator.position)).all()
    if not indicators:
        raise ProgressError(f"第 {measure_no} 项措施没有量化指标")
    exact = [i for i in indicators if i.name == name] or [i for i in indicators if name in i.name]
    if len(exact) != 1:
        names = "、".join(i.name for i in indicators)
        raise ProgressError(f"第 {measure_no} 项措施中{'有多个' if exact else '没有'}名为“{name}”的指标；可选：{names}")
    return exact[0]


def _checked_values(session: Session, target: YearlyTarget, values: dict[int, object], as_of: date,
                    today: date) -> dict[int, float]:
    out: dict[int, float] = {}
    problems: list[Problem] = []
    years = plan_years(session)
    for indicator_id, raw in values.items():
        if raw is None or str(raw).strip() == "":
            continue
        indicator = session.get(Indicator, indicator_id)
        if indicator is None or indicator.measure_id != target.measure_id:
            raise ProgressError(f"指标 {indicator_id} 不属于第 {target.measure.no} 项措施")
        number, found = check_indicator_value(raw, as_of, today=today, plan_years=years)
        problems += [Problem(p.field, f"“{indicator.name}”{p.message}") for p in found]
        if number is not None:
            out[indicator_id] = number
    if problems:
        raise ValidationFailed(problems, f"措施{target.measure.no}指标值")
    return out


REPORT, RETURN, MANUAL = "report", "return", "manual"  # where an indicator value came from


def _add_value(session: Session, indicator_id: int, value: float, as_of: date, actor: str,
               report_id: int | None, note: str = "", *, department_id: int, source: str) -> IndicatorValue:
    """An indicator value is always some department's figure, from a report, a return file or a manual entry."""
    note, actor = clean_text(note).strip(), clean_text(actor, multiline=False).strip()
    row = IndicatorValue(indicator_id=indicator_id, value=value, as_of=as_of, report_id=report_id, note=note,
                         department_id=department_id, source=source, created_at=datetime.now(), created_by=actor)
    session.add(row)
    session.flush()
    _audit(session, actor, "indicator_value.add", "indicator_value", row.id, None,
           {"indicator_id": indicator_id, "value": value, "as_of": as_of.isoformat(), "report_id": report_id,
            "department_id": department_id, "source": source})
    return row


def _value_department(session: Session, indicator: Indicator, account, department: str | None) -> int:
    """Whose figure a value entered on its own is: the department named, else the account's own department on the
    measure (a liaison enters for his department), else the measure's lead."""
    rows = session.execute(select(Department.id, Department.name, MeasureDepartment.role).join(
        MeasureDepartment, MeasureDepartment.department_id == Department.id).where(
        MeasureDepartment.measure_id == indicator.measure_id)).all()
    if department is not None:
        found = next((r.id for r in rows if r.name == department.strip()), None)
        if found is None:
            raise ProgressError(f"“{department}”不是指标“{indicator.name}”所属措施的责任部门")
        return found
    mine = [r.id for r in rows if account is not None and r.name in account.departments]
    return mine[0] if mine else next(r.id for r in rows if r.role == "lead")


def set_indicator_value(session: Session, indicator_id: int, value, as_of: date, actor: str, today: date,
                        note: str = "", department: str | None = None) -> int:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise ProgressError(f"指标 {indicator_id} 不存在")
    account = require(session, actor, "indicator.set", measure_id=indicator.measure_id,
                      **({"department": department} if department is not None else {}))
    number, problems = check_indicator_value(value, as_of, today=today, plan_years=plan_years(session))
    if problems:
        raise ValidationFailed(problems, f"指标“{indicator.name}”")
    owner = _value_department(session, indicator, account, department)
    return _add_value(session, indicator_id, number, as_of, actor, None, note, department_id=owner,
                      source=MANUAL).id


@dataclass(frozen=True)
class ValueView:
    id: int
    indicator_id: int
    value: float
    as_of: date
    report_id: int | None
    created_by: str
    department: str = ""
    source: str = MANUAL


def indicator_values(session: Session, measure_id: int) -> dict[int, list[ValueView]]:
    """Each indicator's entered values, newest first (by date, then entry), with whose figure each is."""
    rows = session.execute(select(IndicatorValue, Department.name).join(Indicator).join(
        Department, Department.id == IndicatorValue.department_id).where(
        Indicator.measure_id == measure_id, IndicatorValue.deleted.is_(False))
        .order_by(IndicatorValue.as_of.desc(), IndicatorValue.id.desc()))
    out: dict[int, list[ValueView]] = {}
    for v, department in rows:
        out.setdefault(v.indicator_id, []).append(
            ValueView(v.id, v.indicator_id, v.value, v.as_of, v.report_id, v.created_by, department, v.source))
    return out


# -- periods ---------------------------------------------------------------------------------------------

def _plan_id(session: Session) -> int:
    plan_years(session)
    return session.scalar(select(Plan.id).order_by(Plan.id).limit(1))


def close_period(session: Session, code: str, actor: str) -> None:
    actor = clean_text(actor, multiline=False).strip()
    require(session, actor, "period.close")
    try:
        period = parse_period(code)
    except PeriodError as exc:
        raise ProgressError(str(exc)) from exc
    if period.code in closed_periods(session):
        raise ProgressError(f"填报周期 {period.code} 已经关闭")
    row = ClosedPeriod(plan_id=_plan_id(session), period=period.code, closed_at=datetime.now(), closed_by=actor)
    session.add(row)
    session.flush()
    _audit(session, actor, "period.close", "closed_period", row.id, None, {"period": period.code})


def reopen_period(session: Session, code: str, reason: str, actor: str) -> None:
    reason, actor = clean_text(reason), clean_text(actor, multiline=False).strip()
    admins = load_settings(session).admins
    if require(session, actor, "period.reopen") is None and actor not in admins:  # account-free: the name list
        who = "、".join(admins) if admins else "尚未指定（用 qjgb admin add 姓名 指定）"
        raise ProgressError(f"只有管理员可以重新开放已关闭的周期；管理员：{who}")
    if not reason.strip():
        raise ProgressError("重新开放周期须写明原因")
    code = code.strip().upper()
    row = session.scalars(select(ClosedPeriod).where(ClosedPeriod.period == code)).first()
    if row is None:
        raise ProgressError(f"填报周期 {code} 没有关闭")
    _audit(session, actor, "period.reopen", "closed_period", row.id,
           {"period": code, "closed_at": row.closed_at.isoformat(), "closed_by": row.closed_by}, None, reason.strip())
    session.delete(row)
    session.flush()

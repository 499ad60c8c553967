"""填报日历: when each period's reports are due, and who reported on time.

A period's reports are due `due_days` after it ends (setting), unless the period has its own date. The lead
department owes one report per period on every yearly target of that year it leads; a cooperating department owes
one only where the setting `cooperating_duty` says so (all measures, or the measures listed), since by the rule of
truth the lead's report stands for the target — or where the plan record says so for a measure
(`"cooperating_report": true`). A report counts as received when it was first entered (the first revision's
`created_at`, kept by the program, not the report date the department writes on it), so timeliness is measured, not
assumed: a correction later does not make an early report late, and a back-dated report date does not make a late
one early.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from qjgb_desktop.domain.periods import Period, covering_codes, parse_period, periods_in
from qjgb_desktop.services.plan.query import PlanTree, plan_tree
from qjgb_desktop.services.progress.as_of import AsOf, as_of, as_of_text, visible
from qjgb_desktop.services.settings.record import load_settings
from qjgb_desktop.services.settings.values import AppSettings

ON_TIME, LATE, MISSING = "已报", "逾期报", "未报"
UPCOMING_DAYS = 7


def due_date(settings: AppSettings, period: Period) -> date:
    override = settings.due_overrides.get(period.code)
    if override:
        return date.fromisoformat(str(override)[:10])
    return period.end + timedelta(days=settings.due_days)


def feedback_deadline(settings: AppSettings, day: date) -> date:
    """The date a 督办 notice sent on `day` asks the department to answer by."""
    return day + timedelta(days=settings.feedback_days)


@dataclass(frozen=True)
class Owed:
    """One report a department owes: a target for a period, and when (if at all) it first came in."""

    department: str
    target_id: int
    measure_no: int
    year: int
    role: str  # lead / cooperating
    period: str
    due: date
    entered: datetime | None
    report_id: int | None

    @property
    def state(self) -> str:
        if self.entered is None:
            return MISSING
        return ON_TIME if self.entered.date() <= self.due else LATE


@dataclass(frozen=True)
class DepartmentSubmission:
    department: str
    expected: int
    on_time: int
    late: int
    missing: int
    state: str  # 已报 (all in by the due date) / 逾期报 (all in, some late) / 未报 (some missing)
    due: date
    overdue: bool = False  # something is still missing and the due date has passed
    owed: list[Owed] = field(default_factory=list, compare=False, repr=False)

    @property
    def received(self) -> int:
        return self.on_time + self.late


# The first entry of every counting report series (services/progress/as_of.py), by target, department and period
# code, received by the end of the day asked about. The first revision's created_at is when the report reached the
# program.
_FIRST_ENTERED_SQL = """
SELECT r.yearly_target_id, d.name, r.period, first.created_at, r.id
FROM progress_report r
JOIN progress_report first ON first.id = COALESCE(r.series_id, r.id)
JOIN department d ON d.id = r.department_id
WHERE {visible} AND first.created_at < :asof_end AND r.period IN ({codes})
"""


def _first_entries(session: Session, codes: list[str], when: AsOf) -> dict[tuple[int, str, str], tuple[datetime, int]]:
    """(target id, department, period code) -> (first entered, report id), the earliest series of each."""
    out: dict[tuple[int, str, str], tuple[datetime, int]] = {}
    codes = sorted(set(codes))
    for i in range(0, len(codes), 200):
        chunk = codes[i:i + 200]
        params = {"yes": True, "no": False, **when.params(), **{f"c{j}": c for j, c in enumerate(chunk)}}
        sql = _FIRST_ENTERED_SQL.format(visible=visible("r"), codes=", ".join(f":c{j}" for j in range(len(chunk))))
        for target_id, name, code, entered, report_id in session.execute(as_of_text(sql), params):
            if not isinstance(entered, datetime):
                entered = datetime.fromisoformat(str(entered))
            key = (target_id, name, code)
            if key not in out or entered < out[key][0]:
                out[key] = (entered, report_id)
    return out


def owed_reports(session: Session, periods: list[Period], tree: PlanTree | None = None,
                 settings: AppSettings | None = None, department: str | None = None,
                 today: date | AsOf | None = None) -> list[Owed]:
    """Every report owed for these periods, with its first entry if it came in by the day (default: now). A report
    under a code of the other scheme for the same months counts (a monthly report for its quarter, a quarterly one
    for its months)."""
    tree = tree or plan_tree(session)
    settings = settings or load_settings(session)
    if tree is None or not periods:
        return []
    covering = {p.code: covering_codes(p) for p in periods}
    when = as_of(today or date.today())
    entries = _first_entries(session, [c for codes in covering.values() for c in codes], when)
    out = []
    for period in periods:
        due = due_date(settings, period)
        for m in tree.measures():
            for t in m.targets:
                if t.year != period.year:
                    continue
                for name in m.departments:
                    if department is not None and name != department:
                        continue
                    if name != m.lead and not (m.cooperating_report or settings.cooperating_owes(m.no)):
                        continue  # the lead's report stands for the target
                    found = [entries[k] for k in {(t.id, name, c) for c in covering[period.code]} if k in entries]
                    first = min(found) if found else None
                    out.append(Owed(name, t.id, m.no, t.year, "lead" if name == m.lead else "cooperating",
                                    period.code, due, first[0] if first else None, first[1] if first else None))
    return out


def _summaries(owed: list[Owed], departments: list[str], due: date, today: date) -> list[DepartmentSubmission]:
    by_dept: dict[str, list[Owed]] = {name: [] for name in departments}
    for o in owed:
        by_dept.setdefault(o.department, []).append(o)
    out = []
    for name, items in by_dept.items():
        states = [o.state for o in items]
        on_time, late, missing = states.count(ON_TIME), states.count(LATE), states.count(MISSING)
        state = MISSING if missing else LATE if late else ON_TIME
        out.append(DepartmentSubmission(name, len(items), on_time, late, missing, state, due,
                                        overdue=bool(missing) and today > due, owed=items))
    return out


def submissions(session: Session, period: Period, today: date, tree: PlanTree | None = None,
                settings: AppSettings | None = None) -> list[DepartmentSubmission]:
    """Per department (in the plan's order), what it owed for the period and what came in, on time or late."""
    tree = tree or plan_tree(session)
    settings = settings or load_settings(session)
    if tree is None:
        return []
    owed = owed_reports(session, [period], tree, settings, today=today)
    return [s for s in _summaries(owed, tree.departments, due_date(settings, period), today) if s.expected]


@dataclass(frozen=True)
class DueSoon:
    period: Period
    due: date
    days_left: int
    departments: list[DepartmentSubmission]  # those still missing something


def due_soon(session: Session, today: date, days: int = UPCOMING_DAYS) -> list[DueSoon]:
    """Periods of the plan whose reports fall due within `days` from today, with the departments still owing."""
    tree = plan_tree(session)
    settings = load_settings(session)
    if tree is None:
        return []
    out = []
    for period in periods_in(tree.years, settings.scheme):
        due = due_date(settings, period)
        if today <= due <= today + timedelta(days=days):
            owing = [s for s in submissions(session, period, today, tree, settings) if s.missing]
            out.append(DueSoon(period, due, (due - today).days, owing))
    return out


def year_periods_due(settings: AppSettings, year: int, today: date) -> list[Period]:
    """The periods of a year whose due date has come (the ones that can be on time or late by today)."""
    return [p for p in periods_in([year], settings.scheme) if due_date(settings, p) < today]


def period_label(code: str) -> str:
    return parse_period(code).label

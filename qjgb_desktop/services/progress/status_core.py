"""The supervision picture's core, free of SQLAlchemy: the SQL it needs, the snapshot types, and the rules that turn
the rows into lights and rollups. services/progress/status.py runs the SQL through a session; `quick_status` runs
the same SQL through the standard library's sqlite3, so the window can show its lights with its first paint, before
SQLAlchemy is even imported."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from qjgb_desktop.domain.periods import Period, covering_codes, period_of
from qjgb_desktop.domain.status import (
    NEEDS_FOLLOW_UP,
    NOT_REPORTED,
    NOT_STARTED,
    SEVERITY,
    LatestReport,
    Rollup,
    Thresholds,
    rollup,
    target_percent,
    target_state,
)
from qjgb_desktop.services.plan.query import PlanTree
from qjgb_desktop.services.progress.as_of import AsOf, as_of, visible
from qjgb_desktop.services.settings.values import AppSettings, settings_from_values

# The rule of truth: the lead department's report sets a target's state and percent; each cooperating department's
# reports are its own 配合进展, shown beside the lead's and counted in its own 配合 rollup, never over the lead's.
# A report counts as of a day by services/progress/as_of.py. One row per target and department of its measure with
# its latest counting report (newest by date, then entry): one index seek per pair on ix_progress_report_department.
LATEST_SQL = f"""
SELECT t.id, md.role, d.name, r.status, r.percent, r.report_date, r.reporter
FROM yearly_target t
JOIN measure_department md ON md.measure_id = t.measure_id
JOIN department d ON d.id = md.department_id
JOIN progress_report r ON r.id = (
  SELECT r2.id FROM progress_report r2
  WHERE r2.yearly_target_id = t.id AND r2.department_id = md.department_id AND {visible("r2")}
  ORDER BY r2.report_date DESC, r2.id DESC LIMIT 1)
"""
# Which departments reported on which target in the current period (its code, or the other scheme's codes for it).
REPORTED_SQL = f"""
SELECT DISTINCT r.yearly_target_id, d.name FROM progress_report r
JOIN department d ON d.id = r.department_id
WHERE r.period IN (:p0, :p1, :p2, :p3) AND {visible("r")}
"""


def sql_params(period: Period, when: AsOf | None = None, iso: bool = False) -> dict:
    """Bind values for LATEST_SQL and REPORTED_SQL (`iso`: for sqlite3 itself, as the quick path and the benchmarks'
    floors run them)."""
    when = when or AsOf(period.end)
    yes, no = (1, 0) if iso else (True, False)
    return {"yes": yes, "no": no, **{f"p{i}": code for i, code in enumerate(covering_codes(period))},
            **when.params(iso=iso)}


@dataclass(frozen=True)
class CooperatingProgress:
    """A cooperating department's own latest report on a target (its 配合进展)."""

    department: str
    state: str  # by the same rule as a target's, for its own part
    percent: int
    status: str
    last_report: date
    reported_this_period: bool


@dataclass(frozen=True)
class TargetStatus:
    target_id: int
    measure_no: int
    year: int
    state: str
    percent: int
    last_report: date | None
    days_since_report: int | None
    reported_status: str | None
    reporter: str | None
    reporting_department: str | None  # the lead department, when it has reported
    lead: str = ""
    cooperating: tuple[CooperatingProgress, ...] = ()

    @property
    def cooperating_this_period(self) -> int:
        """How many cooperating departments reported in the current period (shown when the lead has not)."""
        return sum(c.reported_this_period for c in self.cooperating)


def cooperating_note(s: TargetStatus) -> str:
    """One line on the cooperating departments' own progress, for a target's details and the 督办 list: who reported
    this period, and where the lead has not, that the target is 未填报 all the same."""
    if not s.cooperating:
        return ""
    this_period = [c for c in s.cooperating if c.reported_this_period]
    parts = "，".join(f"{c.department} {c.percent}%（{c.status}，{c.last_report.isoformat()}）" for c in s.cooperating)
    head = f"配合部门已报 {len(this_period)} 份" if this_period else "配合部门本期未报"
    return f"{head}；配合进展：{parts}"


@dataclass
class StatusSnapshot:
    today: date
    year: int  # the year the rollups are for by default: today's, kept inside the plan
    period: Period
    thresholds: Thresholds
    targets: dict[int, TargetStatus] = field(default_factory=dict)
    measures: dict[tuple[int, int], Rollup] = field(default_factory=dict)  # (measure id, year)
    actions: dict[tuple[int, int], Rollup] = field(default_factory=dict)  # (action id, year)
    plan: dict[int, Rollup] = field(default_factory=dict)  # year
    # name -> {"lead": its lead targets' states, "cooperating": its own 配合进展 on the targets it cooperates on}
    departments: dict[str, dict[str, Rollup]] = field(default_factory=dict)
    evidence: dict[int, int] = field(default_factory=dict)  # target id -> attached files (not removed)
    tree: PlanTree | None = None


def build_snapshot(settings: AppSettings, today: date | AsOf, tree: PlanTree | None, latest: list[tuple],
                   reported: set[tuple[int, str]], evidence: dict[int, int]) -> StatusSnapshot:
    """The snapshot from the rows of LATEST_SQL, REPORTED_SQL (target id, department) and EVIDENCE_SQL."""
    when = as_of(today)
    today = when.day
    years = tree.years if tree else [today.year]
    year = min(max(today.year, years[0]), years[-1])
    snap = StatusSnapshot(today, year, period_of(today, settings.scheme), settings.thresholds, tree=tree)
    if tree is None:
        return snap
    snap.evidence = dict(evidence)
    t = settings.thresholds
    rows: dict[tuple[int, str], tuple] = {}
    for target_id, _role, department, status, percent, day, reporter in latest:
        day = when.seen_date(day if isinstance(day, date) else date.fromisoformat(str(day)[:10]))
        rows[(target_id, department)] = (LatestReport(status, int(percent), day), reporter)
    own: dict[tuple[int, str], tuple[str, int]] = {}  # (target, cooperating department) -> its own state, percent
    for m in tree.measures():
        for target in m.targets:
            report, reporter = rows.get((target.id, m.lead), (None, None))
            cooperating = []
            for name in m.cooperating:
                if (target.id, name) not in rows:
                    continue
                theirs, _ = rows[(target.id, name)]
                in_period = (target.id, name) in reported
                state = target_state(target.year, today, theirs, in_period, t)
                own[(target.id, name)] = (state, target_percent(theirs))
                cooperating.append(CooperatingProgress(name, state, target_percent(theirs), theirs.status,
                                                       theirs.report_date, in_period))
            snap.targets[target.id] = TargetStatus(
                target_id=target.id, measure_no=m.no, year=target.year,
                state=target_state(target.year, today, report, (target.id, m.lead) in reported, t),
                percent=target_percent(report), last_report=report.report_date if report else None,
                days_since_report=(today - report.report_date).days if report else None,
                reported_status=report.status if report else None, reporter=reporter,
                reporting_department=m.lead if report else None, lead=m.lead, cooperating=tuple(cooperating))
    for y in years:
        for a in tree.actions:
            for m in a.measures:
                items = [(snap.targets[t_.id].state, snap.targets[t_.id].percent) for t_ in m.targets if t_.year == y]
                snap.measures[(m.id, y)] = rollup(items, y, today, t)
            items = [(snap.measures[(m.id, y)].state, snap.measures[(m.id, y)].percent) for m in a.measures]
            snap.actions[(a.id, y)] = rollup(items, y, today, t)
        # The plan weighs every measure equally (not every action).
        snap.plan[y] = rollup([(snap.measures[(m.id, y)].state, snap.measures[(m.id, y)].percent)
                               for m in tree.measures()], y, today, t)
    for name in tree.departments:
        lead = [(snap.targets[t_.id].state, snap.targets[t_.id].percent)
                for m in tree.measures() if m.lead == name for t_ in m.targets if t_.year == year]
        # its own part where it cooperates: a target it has not reported on counts as 未填报, 0 %
        cooperating = [own.get((t_.id, name), (NOT_REPORTED if t_.year <= today.year else NOT_STARTED, 0))
                       for m in tree.measures() if name in m.cooperating for t_ in m.targets if t_.year == year]
        snap.departments[name] = {"lead": rollup(lead, year, today, t), "cooperating": rollup(cooperating, year, today, t)}
    return snap


@dataclass(frozen=True)
class FollowUp:
    department: str
    measure_no: int
    measure_title: str
    year: int
    target_id: int
    state: str
    percent: int
    last_report: date | None
    days_since_report: int | None
    evidence: int = 0


def follow_ups(snap: StatusSnapshot) -> dict[str, list[FollowUp]]:
    """督办: every target that needs chasing (滞后, 逾期, 未填报), by lead department, most urgent first."""
    out: dict[str, list[FollowUp]] = {}
    if snap.tree is None:
        return out
    for m in snap.tree.measures():
        for t_ in m.targets:
            s = snap.targets[t_.id]
            if s.state in NEEDS_FOLLOW_UP:
                out.setdefault(m.lead, []).append(FollowUp(m.lead, m.no, m.title, t_.year, t_.id, s.state,
                                                           s.percent, s.last_report, s.days_since_report,
                                                           snap.evidence.get(t_.id, 0)))
    for items in out.values():
        items.sort(key=lambda f: (SEVERITY[f.state], -(f.days_since_report or 10**6), f.measure_no, f.year))
    return dict(sorted(out.items(), key=lambda kv: (-len(kv[1]), kv[0])))


@dataclass(frozen=True)
class DepartmentTarget:
    role: str  # lead / cooperating
    measure_no: int
    measure_title: str
    year: int
    target_id: int
    state: str
    percent: int
    last_report: date | None
    evidence: int = 0


def department_targets(snap: StatusSnapshot, year: int | None = None) -> dict[str, list[DepartmentTarget]]:
    """Each department's targets for one year or all: as lead with the target's state; as cooperating with its own
    配合进展 (未填报 where it has not reported on the target)."""
    out: dict[str, list[DepartmentTarget]] = {name: [] for name in (snap.tree.departments if snap.tree else [])}
    if snap.tree is None:
        return out
    for m in snap.tree.measures():
        for name in m.departments:
            role = "lead" if name == m.lead else "cooperating"
            for t_ in m.targets:
                if year is None or t_.year == year:
                    s = snap.targets[t_.id]
                    if role == "lead":
                        state, percent, last = s.state, s.percent, s.last_report
                    else:
                        mine = next((c for c in s.cooperating if c.department == name), None)
                        state, percent, last = ((mine.state, mine.percent, mine.last_report) if mine else
                                                (NOT_STARTED if t_.year > snap.today.year else NOT_REPORTED, 0, None))
                    out[name].append(DepartmentTarget(role, m.no, m.title, t_.year, t_.id, state, percent, last,
                                                      snap.evidence.get(t_.id, 0)))
    return out


# Attached files (not removed) per target.
EVIDENCE_SQL = """
SELECT yearly_target_id, count(*) FROM evidence WHERE deleted = :no GROUP BY yearly_target_id
"""


def quick_status(url: str, today: date | AsOf, tree: PlanTree) -> StatusSnapshot | None:
    """The snapshot straight from a current SQLite file (read-only), or None when anything is unusual; the caller
    then waits for the full path, which explains errors."""
    import json

    from qjgb_desktop.services.plan.query import read_current_sqlite

    if tree is None:
        return None

    def read(conn) -> StatusSnapshot:
        values = {}
        for key, value in conn.execute("SELECT key, value FROM setting"):
            try:
                values[key] = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                values[key] = value
        settings = settings_from_values(values)
        when = as_of(today)
        params = sql_params(period_of(when.day, settings.scheme), when, iso=True)
        latest = conn.execute(LATEST_SQL, params).fetchall()
        reported = {(r[0], r[1]) for r in conn.execute(REPORTED_SQL, params)}
        evidence = {r[0]: r[1] for r in conn.execute(EVIDENCE_SQL, params)}
        return build_snapshot(settings, when, tree, latest, reported, evidence)
    return read_current_sqlite(url, read)

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
    SEVERITY,
    LatestReport,
    Rollup,
    Thresholds,
    rollup,
    target_percent,
    target_state,
)
from qjgb_desktop.services.plan.query import PlanTree
from qjgb_desktop.services.settings.values import AppSettings, settings_from_values

# Latest counting report per target (current revision, not deleted, newest by date then entry): one seek per
# target on ix_progress_report_latest, whatever the number of reports.
LATEST_SQL = """
SELECT t.id, r.status, r.percent, r.report_date, r.reporter, d.name
FROM yearly_target t
JOIN progress_report r ON r.id = (
  SELECT r2.id FROM progress_report r2
  WHERE r2.yearly_target_id = t.id AND r2.is_current = :yes AND r2.deleted = :no
  ORDER BY r2.report_date DESC, r2.id DESC LIMIT 1)
JOIN department d ON d.id = r.department_id
"""
# Targets with a counting report for the current period (its code, or the other scheme's codes for it).
REPORTED_SQL = """
SELECT DISTINCT yearly_target_id FROM progress_report
WHERE period IN (:p0, :p1, :p2, :p3) AND is_current = :yes AND deleted = :no
"""


def sql_params(period: Period) -> dict:
    return {"yes": True, "no": False, **{f"p{i}": code for i, code in enumerate(covering_codes(period))}}


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
    reporting_department: str | None


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
    departments: dict[str, dict[str, Rollup]] = field(default_factory=dict)  # name -> {"lead"|"cooperating"}
    evidence: dict[int, int] = field(default_factory=dict)  # target id -> attached files (not removed)
    tree: PlanTree | None = None


def build_snapshot(settings: AppSettings, today: date, tree: PlanTree | None, latest: dict[int, tuple],
                   reported: set[int], evidence: dict[int, int]) -> StatusSnapshot:
    """The snapshot from the rows of LATEST_SQL (by target id), REPORTED_SQL and EVIDENCE_SQL."""
    years = tree.years if tree else [today.year]
    year = min(max(today.year, years[0]), years[-1])
    snap = StatusSnapshot(today, year, period_of(today, settings.scheme), settings.thresholds, tree=tree)
    if tree is None:
        return snap
    snap.evidence = dict(evidence)
    t = settings.thresholds
    for m in tree.measures():
        for target in m.targets:
            row = latest.get(target.id)
            report = None
            if row is not None:
                status, percent, day, reporter, department = row
                day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
                report = LatestReport(status, int(percent), day)
            snap.targets[target.id] = TargetStatus(
                target_id=target.id, measure_no=m.no, year=target.year,
                state=target_state(target.year, today, report, target.id in reported, t),
                percent=target_percent(report), last_report=report.report_date if report else None,
                days_since_report=(today - report.report_date).days if report else None,
                reported_status=report.status if report else None, reporter=row[3] if row else None,
                reporting_department=row[4] if row else None)
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
        by_role = {}
        for role in ("lead", "cooperating"):
            items = [(snap.targets[t_.id].state, snap.targets[t_.id].percent)
                     for m in tree.measures() if (m.lead == name) == (role == "lead") and name in m.departments
                     for t_ in m.targets if t_.year == year]
            by_role[role] = rollup(items, year, today, t)
        snap.departments[name] = by_role
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
    """Each department's targets (as lead and as cooperating) with their states, for one year or all."""
    out: dict[str, list[DepartmentTarget]] = {name: [] for name in (snap.tree.departments if snap.tree else [])}
    if snap.tree is None:
        return out
    for m in snap.tree.measures():
        for name in m.departments:
            role = "lead" if name == m.lead else "cooperating"
            for t_ in m.targets:
                if year is None or t_.year == year:
                    s = snap.targets[t_.id]
                    out[name].append(DepartmentTarget(role, m.no, m.title, t_.year, t_.id, s.state, s.percent,
                                                      s.last_report, snap.evidence.get(t_.id, 0)))
    return out


# Attached files (not removed) per target.
EVIDENCE_SQL = """
SELECT yearly_target_id, count(*) FROM evidence WHERE deleted = :no GROUP BY yearly_target_id
"""


def quick_status(url: str, today: date, tree: PlanTree) -> StatusSnapshot | None:
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
        params = {k: (int(v) if isinstance(v, bool) else v)
                  for k, v in sql_params(period_of(today, settings.scheme)).items()}
        latest = {r[0]: tuple(r[1:]) for r in conn.execute(LATEST_SQL, params)}
        reported = {r[0] for r in conn.execute(REPORTED_SQL, params)}
        evidence = {r[0]: r[1] for r in conn.execute(EVIDENCE_SQL, params)}
        return build_snapshot(settings, today, tree, latest, reported, evidence)
    return read_current_sqlite(url, read)

"""The numbers behind the charts, as plain values (pure functions of a status snapshot, plus one query)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from qjgb_desktop.domain.status import COMPLETED, NOT_STARTED, SEVERITY, STATES, expected_percent
from qjgb_desktop.services.progress.status_core import (
    StatusSnapshot,  # no SQLAlchemy: the 部门 tab uses these with the first lights
)


@dataclass(frozen=True)
class Bar:
    key: str  # what a click selects: action no, department name, target id
    label: str
    percent: float
    state: str
    red: int = 0
    yellow: int = 0
    count: int = 0


@dataclass(frozen=True)
class Overview:
    year: int
    today: date
    percent: float
    expected: float
    state: str
    counts: dict[str, int]  # state -> targets of the year


def overview(snap: StatusSnapshot, year: int) -> Overview:
    plan = snap.plan[year]
    return Overview(year, snap.today, plan.percent, round(expected_percent(year, snap.today), 1), plan.state,
                    status_distribution(snap, year))


def action_bars(snap: StatusSnapshot, year: int) -> list[Bar]:
    return [Bar(str(a.no), f"（{a.numeral}）{a.title.removeprefix('实施')}", r.percent, r.state, r.red, r.yellow,
                r.count)
            for a in snap.tree.actions for r in [snap.actions[(a.id, year)]]]


def department_bars(snap: StatusSnapshot, year: int) -> list[Bar]:
    """Lead departments only (those that lead something), most red first, then lowest completion."""
    if year != snap.year:  # department rollups are kept for the snapshot's year; recompute for another
        from qjgb_desktop.domain.status import rollup

        bars = []
        for name in snap.tree.departments:
            items = [(snap.targets[t.id].state, snap.targets[t.id].percent) for m in snap.tree.measures()
                     if m.lead == name for t in m.targets if t.year == year]
            if items:
                r = rollup(items, year, snap.today, snap.thresholds)
                bars.append(Bar(name, name, r.percent, r.state, r.red, r.yellow, r.count))
    else:
        bars = [Bar(name, name, r["lead"].percent, r["lead"].state, r["lead"].red, r["lead"].yellow, r["lead"].count)
                for name, r in snap.departments.items() if r["lead"].count]
    return sorted(bars, key=lambda b: (-b.red, -b.yellow, b.percent, b.label))


def department_rollups(snap: StatusSnapshot, year: int) -> dict[str, dict]:
    """Each department's rollup as lead and as cooperating for a year ({name: {"lead": Rollup, "cooperating":
    Rollup}}): the snapshot's own for its year, computed the same way for another."""
    if year == snap.year or snap.tree is None:
        return snap.departments
    from qjgb_desktop.domain.status import rollup

    out = {}
    for name in snap.tree.departments:
        by_role = {}
        for role in ("lead", "cooperating"):
            items = [(snap.targets[t.id].state, snap.targets[t.id].percent) for m in snap.tree.measures()
                     if (m.lead == name) == (role == "lead") and name in m.departments
                     for t in m.targets if t.year == year]
            by_role[role] = rollup(items, year, snap.today, snap.thresholds)
        out[name] = by_role
    return out


def status_distribution(snap: StatusSnapshot, year: int) -> dict[str, int]:
    counts = Counter(s.state for s in snap.targets.values() if s.year == year)
    return {state: counts.get(state, 0) for state in STATES}


def most_lagging(snap: StatusSnapshot, year: int, n: int = 10) -> list[Bar]:
    """The targets of the year furthest behind: by state (逾期, 滞后, 未填报, 关注 first) then by the gap."""
    expected = expected_percent(year, snap.today)
    rows = []
    for m in snap.tree.measures():
        for t in m.targets:
            s = snap.targets[t.id]
            if t.year != year or s.state in (COMPLETED, NOT_STARTED):
                continue
            rows.append((SEVERITY[s.state], -(expected - s.percent), m.no,
                         Bar(str(t.id), f"{m.no}. {m.title}", s.percent, s.state)))
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows[:n]]


def monthly_activity(session, first: date, last: date) -> list[tuple[str, int]]:
    """Reports per month (current revisions, not deleted), every month from `first` to `last` listed."""
    from sqlalchemy import func, select

    from qjgb_desktop.store.models import ProgressReport

    rows = session.execute(select(ProgressReport.report_date, func.count())
                           .where(ProgressReport.is_current.is_(True), ProgressReport.deleted.is_(False),
                                  ProgressReport.report_date >= first, ProgressReport.report_date <= last)
                           .group_by(ProgressReport.report_date))
    per_month: Counter = Counter()
    for day, n in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        per_month[f"{day.year}-{day.month:02d}"] += n
    months = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        months.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return [(month, per_month.get(month, 0)) for month in months]


@dataclass(frozen=True)
class IndicatorSeries:
    measure_no: int
    name: str
    unit: str
    comparator: str
    years: list[int]
    targets: list[float | None]
    actuals: list[float | None]  # the latest value entered as of each year
    met: list[bool | None]


def indicator_series(row: dict, years: list[int]) -> IndicatorSeries:
    """From a row of services.indicators.indicator_rows: target and latest actual for each year."""
    from qjgb_desktop.domain.status import meets
    from qjgb_desktop.services.progress.indicators import row_actual

    def by_year_end(year: int) -> float | None:  # the actual as it stood at the year's end, if entered in it
        found = row_actual(row, date(year, 12, 31))
        return found["value"] if found and int(found["as_of"][:4]) == year else None

    targets = [row["targets"].get(str(y)) for y in years]
    actuals = [by_year_end(y) for y in years]
    met = [None if a is None or t is None else meets(row["comparator"], a, t) for a, t in zip(actuals, targets)]
    return IndicatorSeries(row["measure"], row["name"], row["unit"], row["comparator"], years, targets, actuals, met)

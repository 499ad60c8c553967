"""What every return of one import is checked against (returns.py), read once per session rather than once per file:
the plan, the template key, the closed periods, departments, targets and who is responsible for each measure."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.services.collection.templates import template_key
from qjgb_desktop.services.progress.reports import closed_periods, plan_years
from qjgb_desktop.services.settings.record import load_settings
from qjgb_desktop.store.models import Department, Measure, MeasureDepartment, Plan, YearlyTarget


@dataclass(frozen=True)
class Facts:
    """What every return of one import is checked against and that reading returns does not change: read once per
    session (an import reads all its files in one), not once per file."""
    plan: Plan
    key: bytes
    closed: set[str]
    department_ids: dict[str, int]
    years: list[int]
    thresholds: object
    targets: dict[int, tuple[int, int, int, bool]]
    departments: dict[int, list[str]]


def facts(session: Session) -> Facts:
    facts = session.info.get("qjgb_return_facts")
    if facts is None:
        facts = session.info["qjgb_return_facts"] = Facts(
            session.scalars(select(Plan).order_by(Plan.id)).first(), template_key(session), closed_periods(session),
            {name: i for i, name in session.execute(select(Department.id, Department.name))}, plan_years(session),
            load_settings(session).thresholds,
            {tid: (no, mid, year, retired) for tid, no, mid, year, retired in session.execute(
                select(YearlyTarget.id, Measure.no, Measure.id, YearlyTarget.year, YearlyTarget.retired)
                .join(Measure, Measure.id == YearlyTarget.measure_id))},
            _measure_departments(session))
    return facts


def _measure_departments(session: Session) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for measure_id, name in session.execute(select(MeasureDepartment.measure_id, Department.name).join(Department)
                                            .order_by(MeasureDepartment.measure_id, MeasureDepartment.position)):
        out.setdefault(measure_id, []).append(name)
    return out

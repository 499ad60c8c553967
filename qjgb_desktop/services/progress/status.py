"""The supervision picture on a given day: each yearly target's light, rollups to measure, action, plan and
department, and the 督办 (follow-up) list. Two queries over the reports, whatever their number."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from qjgb_desktop.domain.status import Rollup
from qjgb_desktop.services.plan.query import PlanTree, plan_tree
from qjgb_desktop.services.progress.as_of import AsOf, as_of, as_of_text

# the snapshot types live where the quick path can use them too, and are imported from here as well
from qjgb_desktop.services.progress.status_core import (  # noqa: F401 - re-exported
    EVIDENCE_SQL,
    LATEST_SQL,
    REPORTED_SQL,
    DepartmentTarget,
    FollowUp,
    StatusSnapshot,
    TargetStatus,
    build_snapshot,
    department_targets,
    follow_ups,
    sql_params,
)
from qjgb_desktop.services.settings.record import load_settings


def compute_status(session: Session, today: date | AsOf, tree: PlanTree | None = None) -> StatusSnapshot:
    """The picture as of a day (services/progress/as_of.py) through the session (any database);
    status_core.quick_status reads the same SQL through sqlite3 for the window's first paint."""
    settings = load_settings(session)
    tree = tree or plan_tree(session)
    when = as_of(today)
    if tree is None:
        return build_snapshot(settings, when, None, [], set(), {})
    from qjgb_desktop.domain.periods import period_of

    params = sql_params(period_of(when.day, settings.scheme), when)
    latest = session.execute(as_of_text(LATEST_SQL), params).all()
    reported = {(r[0], r[1]) for r in session.execute(as_of_text(REPORTED_SQL), params)}
    evidence = {row[0]: row[1] for row in session.execute(text(EVIDENCE_SQL), params)}
    return build_snapshot(settings, when, tree, latest, reported, evidence)


def _rollup_json(r: Rollup) -> dict:
    return {"percent": r.percent, "state": r.state, "count": r.count, "red": r.red, "yellow": r.yellow,
            "not_reported": r.not_reported, "completed": r.completed}


def status_as_json(snap: StatusSnapshot) -> dict:
    tree = snap.tree
    measures = tree.measures() if tree else []
    return {
        "today": snap.today.isoformat(),  # the day the picture is of
        "year": snap.year,
        "period": snap.period.code,
        "thresholds": {"green_margin": snap.thresholds.green_margin, "yellow_margin": snap.thresholds.yellow_margin},
        "targets": [{
            "measure": s.measure_no, "year": s.year, "state": s.state, "percent": s.percent,
            "last_report": s.last_report.isoformat() if s.last_report else None,
            "days_since_report": s.days_since_report, "reported_status": s.reported_status,
            "lead": s.lead, "evidence": snap.evidence.get(s.target_id, 0),
            "cooperating": [{"department": c.department, "state": c.state, "percent": c.percent, "status": c.status,
                             "last_report": c.last_report.isoformat(), "this_period": c.reported_this_period}
                            for c in s.cooperating],
        } for s in snap.targets.values()],
        "measures": [{"no": m.no, "year": y, **_rollup_json(snap.measures[(m.id, y)])}
                     for m in measures for y in (tree.years if tree else [])],
        "actions": [{"no": a.no, "year": snap.year, **_rollup_json(snap.actions[(a.id, snap.year)])}
                    for a in (tree.actions if tree else [])],
        "plan": {"year": snap.year, **_rollup_json(snap.plan[snap.year])} if snap.plan else {},
        "departments": [{"name": name, "lead": _rollup_json(r["lead"]), "cooperating": _rollup_json(r["cooperating"])}
                        for name, r in snap.departments.items()],
    }

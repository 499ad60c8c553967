"""The supervision picture on a given day: each yearly target's light, rollups to measure, action, plan and
department, and the 督办 (follow-up) list. Two queries over the reports, whatever their number."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from qjgb_desktop.domain.status import Rollup
from qjgb_desktop.services.plan.query import PlanTree, plan_tree

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


def compute_status(session: Session, today: date, tree: PlanTree | None = None) -> StatusSnapshot:
    """The picture through the session (any database); status_core.quick_status reads the same SQL through
    sqlite3 for the window's first paint."""
    settings = load_settings(session)
    tree = tree or plan_tree(session)
    if tree is None:
        return build_snapshot(settings, today, None, {}, set(), {})
    from qjgb_desktop.domain.periods import period_of

    params = sql_params(period_of(today, settings.scheme))
    latest = {row[0]: tuple(row[1:]) for row in session.execute(text(LATEST_SQL), params)}
    reported = {row[0] for row in session.execute(text(REPORTED_SQL), params)}
    evidence = {row[0]: row[1] for row in session.execute(text(EVIDENCE_SQL), params)}
    return build_snapshot(settings, today, tree, latest, reported, evidence)


def _rollup_json(r: Rollup) -> dict:
    return {"percent": r.percent, "state": r.state, "count": r.count, "red": r.red, "yellow": r.yellow,
            "not_reported": r.not_reported, "completed": r.completed}


def status_as_json(snap: StatusSnapshot) -> dict:
    tree = snap.tree
    measures = tree.measures() if tree else []
    return {
        "today": snap.today.isoformat(),
        "year": snap.year,
        "period": snap.period.code,
        "thresholds": {"green_margin": snap.thresholds.green_margin, "yellow_margin": snap.thresholds.yellow_margin},
        "targets": [{
            "measure": s.measure_no, "year": s.year, "state": s.state, "percent": s.percent,
            "last_report": s.last_report.isoformat() if s.last_report else None,
            "days_since_report": s.days_since_report, "reported_status": s.reported_status,
            "evidence": snap.evidence.get(s.target_id, 0),
        } for s in snap.targets.values()],
        "measures": [{"no": m.no, "year": y, **_rollup_json(snap.measures[(m.id, y)])}
                     for m in measures for y in (tree.years if tree else [])],
        "actions": [{"no": a.no, "year": snap.year, **_rollup_json(snap.actions[(a.id, snap.year)])}
                    for a in (tree.actions if tree else [])],
        "plan": {"year": snap.year, **_rollup_json(snap.plan[snap.year])} if snap.plan else {},
        "departments": [{"name": name, "lead": _rollup_json(r["lead"]), "cooperating": _rollup_json(r["cooperating"])}
                        for name, r in snap.departments.items()],
    }

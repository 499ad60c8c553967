"""Indicators with their yearly targets and the actual values entered, and whether each target is met."""

from __future__ import annotations

from sqlalchemy.orm import Session

from qjgb_desktop.domain.status import meets
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress.reports import indicator_values

COMPARATOR_TEXT = {">=": "≥", "<=": "≤", "=": "="}


def indicator_rows(session: Session, measure_no: int | None = None, tree=None) -> list[dict]:
    tree = tree or plan_tree(session)
    rows = []
    for m in tree.measures() if tree else []:
        if measure_no is not None and m.no != measure_no:
            continue
        values = indicator_values(session, m.id)
        for ind in m.indicators:
            history = values.get(ind.id, [])
            latest = history[0] if history else None
            target = ind.targets.get(latest.as_of.year) if latest else None
            rows.append({
                "measure": m.no,
                "indicator_id": ind.id,
                "name": ind.name,
                "unit": ind.unit,
                "comparator": ind.comparator,
                "targets": {str(y): ind.targets.get(y) for y in tree.years},
                "targets_text": "，".join(f"{y}年{COMPARATOR_TEXT[ind.comparator]}{ind.targets[y]:g}{ind.unit}"
                                         for y in tree.years if y in ind.targets),
                "latest": {"value": latest.value, "as_of": latest.as_of.isoformat()} if latest else None,
                "met": meets(ind.comparator, latest.value, target) if latest and target is not None else None,
                "values": [{"value": v.value, "as_of": v.as_of.isoformat(), "report_id": v.report_id,
                            "by": v.created_by} for v in history],
            })
    return rows

"""Indicators with their yearly targets and the actual values entered, and whether each target is met."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from qjgb_desktop.domain.status import meets
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress.reports import indicator_values

COMPARATOR_TEXT = {">=": "≥", "<=": "≤", "=": "="}


def row_actual(row: dict, day: date | None = None) -> dict | None:
    """An indicator's actual from a row of `indicator_rows`, as of a day if given (values dated after it are not
    seen): the lead department's latest value, or for an indicator declared "sum", each department's latest added up
    (dated as the latest of them). Another department's figure never stands for the lead's."""
    seen = [v for v in row["values"] if day is None or date.fromisoformat(v["as_of"]) <= day]
    if row["aggregate"] == "sum":
        latest: dict[str, dict] = {}
        for v in seen:
            latest.setdefault(v["department"], v)
        if not latest:
            return None
        parts = [latest[name] for name in sorted(latest)]
        return {"value": round(sum(v["value"] for v in parts), 6), "as_of": max(v["as_of"] for v in parts),
                "department": "、".join(sorted(latest)), "source": "sum"}
    mine = next((v for v in seen if v["department"] == row["lead"]), None)
    return {k: mine[k] for k in ("value", "as_of", "department", "source")} if mine else None


def indicator_rows(session: Session, measure_no: int | None = None, tree=None) -> list[dict]:
    tree = tree or plan_tree(session)
    rows = []
    for m in tree.measures() if tree else []:
        if measure_no is not None and m.no != measure_no:
            continue
        values = indicator_values(session, m.id)
        for ind in m.indicators:
            history = [{"value": v.value, "as_of": v.as_of.isoformat(), "report_id": v.report_id, "by": v.created_by,
                        "department": v.department, "source": v.source} for v in values.get(ind.id, [])]
            row = {"measure": m.no, "indicator_id": ind.id, "lead": m.lead, "aggregate": ind.aggregate,
                   "values": history}
            latest = row_actual(row)
            target = ind.targets.get(int(latest["as_of"][:4])) if latest else None
            rows.append({
                **row,
                "name": ind.name,
                "unit": ind.unit,
                "comparator": ind.comparator,
                "targets": {str(y): ind.targets.get(y) for y in tree.years},
                "targets_text": "，".join(f"{y}年{COMPARATOR_TEXT[ind.comparator]}{ind.targets[y]:g}{ind.unit}"
                                         for y in tree.years if y in ind.targets),
                "latest": latest,
                "met": meets(ind.comparator, latest["value"], target) if latest and target is not None else None,
            })
    return rows

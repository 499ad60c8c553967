"""Read the plan back out of the database as plain values: the JSON export and the tree the window shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..store.models import Action, Indicator, Measure, MeasureDepartment, Plan


def _num(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def current_plan(session: Session) -> Plan | None:
    return session.scalars(select(Plan).order_by(Plan.id)).first()


def _measures_query(plan_id: int):
    return (select(Measure)
            .where(Measure.plan_id == plan_id, Measure.retired.is_(False))
            .order_by(Measure.no)
            .options(selectinload(Measure.departments).selectinload(MeasureDepartment.department),
                     selectinload(Measure.targets),
                     selectinload(Measure.indicators).selectinload(Indicator.targets)))


def plan_as_dict(session: Session) -> dict:
    """The plan in the shape of `qjgb plan --json`."""
    plan = current_plan(session)
    if plan is None:
        return {}
    years = list(range(plan.start_year, plan.end_year + 1))
    by_action: dict[int, list[dict]] = {}
    for m in session.scalars(_measures_query(plan.id)):
        by_action.setdefault(m.action_id, []).append({
            "no": m.no,
            "title": m.title,
            "body": m.body,
            "departments": [{"name": md.department.name, "role": md.role} for md in m.departments],
            "targets": {str(t.year): t.text for t in m.targets if not t.retired},
            "indicators": [{
                "name": i.name,
                "unit": i.unit,
                "comparator": i.comparator,
                "targets": {str(y): _num(next((t.value for t in i.targets if t.year == y), None)) for y in years},
            } for i in m.indicators if not i.retired],
        })
    actions = session.scalars(select(Action).where(Action.plan_id == plan.id, Action.retired.is_(False))
                              .order_by(Action.no))
    return {
        "title": plan.title,
        "status": plan.status,
        "years": years,
        "actions": [{"no": a.no, "title": a.title, "measures": by_action.get(a.id, [])} for a in actions],
    }


# The tree the window shows: plain values, built once per load, cheap to filter.

@dataclass
class IndicatorInfo:
    name: str
    unit: str
    comparator: str
    note: str
    targets: dict[int, float | int]
    sources: dict[int, str]


@dataclass
class TargetNode:
    id: int
    year: int
    text: str
    measure: MeasureNode = field(repr=False)


@dataclass
class MeasureNode:
    id: int
    no: int
    title: str
    body: str
    lead: str
    cooperating: list[str]
    department_note: str
    indicators: list[IndicatorInfo]
    action: ActionNode = field(repr=False)
    targets: list[TargetNode] = field(default_factory=list)

    @property
    def departments(self) -> list[str]:
        return [self.lead, *self.cooperating]


@dataclass
class ActionNode:
    id: int
    no: int
    numeral: str
    title: str
    measures: list[MeasureNode] = field(default_factory=list)


@dataclass
class PlanTree:
    title: str
    status: str
    years: list[int]
    actions: list[ActionNode]
    departments: list[str]  # every department named in a measure, in the document's order

    def measure(self, no: int) -> MeasureNode | None:
        return next((m for a in self.actions for m in a.measures if m.no == no), None)


def plan_tree(session: Session) -> PlanTree | None:
    plan = current_plan(session)
    if plan is None:
        return None
    actions = {a.id: ActionNode(a.id, a.no, a.numeral, a.title) for a in session.scalars(
        select(Action).where(Action.plan_id == plan.id, Action.retired.is_(False)).order_by(Action.no))}
    departments: list[str] = []
    for m in session.scalars(_measures_query(plan.id)):
        action = actions.get(m.action_id)
        if action is None:
            continue
        names = [md.department.name for md in m.departments]
        for name in names:
            if name not in departments:
                departments.append(name)
        node = MeasureNode(
            id=m.id, no=m.no, title=m.title, body=m.body,
            lead=next(md.department.name for md in m.departments if md.role == "lead"),
            cooperating=[md.department.name for md in m.departments if md.role == "cooperating"],
            department_note=m.department_note,
            indicators=[IndicatorInfo(i.name, i.unit, i.comparator, i.note,
                                      {t.year: _num(t.value) for t in i.targets},
                                      {t.year: t.source for t in i.targets})
                        for i in m.indicators if not i.retired],
            action=action,
        )
        node.targets = [TargetNode(t.id, t.year, t.text, node) for t in m.targets if not t.retired]
        action.measures.append(node)
    return PlanTree(plan.title, plan.status, list(range(plan.start_year, plan.end_year + 1)),
                    list(actions.values()), departments)

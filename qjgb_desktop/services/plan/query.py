"""Read the plan back out of the database as plain values: the tree the window shows and the JSON export.

The reading is written once, as plain portable SELECTs with named parameters, and runs through any
function that executes such a statement: a SQLAlchemy session (plan_tree) or, for the window's first paint,
the standard library's sqlite3 (plan_tree_quick), which keeps SQLAlchemy's import (~300 ms) off start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Fetch = Callable[[str, dict], Sequence[Sequence]]


@dataclass
class IndicatorInfo:
    id: int
    name: str
    unit: str
    comparator: str
    note: str
    aggregate: str = "lead"  # the actual: the lead department's latest ("lead") or each department's latest summed
    targets: dict[int, float | int] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)


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
    department_note: str
    action: ActionNode = field(repr=False)
    lead: str = ""
    cooperating: list[str] = field(default_factory=list)
    cooperating_report: bool = False  # the plan record says its cooperating departments report every period too
    indicators: list[IndicatorInfo] = field(default_factory=list)
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

    def measures(self) -> list[MeasureNode]:
        return [m for a in self.actions for m in a.measures]


@dataclass(frozen=True)
class DepartmentLoad:
    name: str
    lead: int  # measures it leads (牵头)
    cooperating: int  # measures it cooperates on (配合)


def departments_by_load(tree: PlanTree | None) -> list[DepartmentLoad]:
    """The departments in the order a clerk looks for them: first those that lead measures, most led first (区教委,
    区委教育工委, 区科信局: whom progress is chased with), then the others by how many measures they cooperate on
    (区财政局 in 14, 各街乡镇 in 11 … down to those named once); ties keep the document's order. The 45 names
    almost all begin with 区, so an alphabetical (pinyin) list would not put the busy ones where they are found."""
    if tree is None:
        return []
    lead: dict[str, int] = {}
    coop: dict[str, int] = {}
    for m in tree.measures():
        lead[m.lead] = lead.get(m.lead, 0) + 1
        for name in m.cooperating:
            coop[name] = coop.get(name, 0) + 1
    loads = [DepartmentLoad(name, lead.get(name, 0), coop.get(name, 0)) for name in tree.departments]
    position = {name: i for i, name in enumerate(tree.departments)}
    return sorted(loads, key=lambda d: (d.lead == 0, -d.lead, -(d.lead + d.cooperating), position[d.name]))


def _num(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


_PLAN = "SELECT id, title, status, start_year, end_year FROM plan ORDER BY id LIMIT 1"
_ACTIONS = "SELECT id, no, numeral, title FROM action WHERE plan_id = :plan AND NOT retired ORDER BY no"
_MEASURES = ("SELECT id, action_id, no, title, body, department_note, cooperating_report FROM measure "
             "WHERE plan_id = :plan AND NOT retired ORDER BY no")
_DEPARTMENTS = ("SELECT md.measure_id, d.name, md.role FROM measure_department md "
                "JOIN department d ON d.id = md.department_id JOIN measure m ON m.id = md.measure_id "
                "WHERE m.plan_id = :plan ORDER BY m.no, md.position")
_TARGETS = ("SELECT t.id, t.measure_id, t.year, t.text FROM yearly_target t JOIN measure m ON m.id = t.measure_id "
            "WHERE m.plan_id = :plan AND NOT t.retired ORDER BY m.no, t.year")
_INDICATORS = ("SELECT i.id, i.measure_id, i.name, i.unit, i.comparator, i.note, i.aggregate FROM indicator i "
               "JOIN measure m ON m.id = i.measure_id WHERE m.plan_id = :plan AND NOT i.retired "
               "ORDER BY m.no, i.position")
_INDICATOR_TARGETS = ("SELECT it.indicator_id, it.year, it.value, it.source FROM indicator_target it "
                      "JOIN indicator i ON i.id = it.indicator_id JOIN measure m ON m.id = i.measure_id "
                      "WHERE m.plan_id = :plan ORDER BY it.year")


def read_plan_tree(fetch: Fetch) -> PlanTree | None:
    plans = fetch(_PLAN, {})
    if not plans:
        return None
    plan_id, title, status, start_year, end_year = plans[0]
    p = {"plan": plan_id}
    actions = {row[0]: ActionNode(*row) for row in fetch(_ACTIONS, p)}
    measures: dict[int, MeasureNode] = {}
    for mid, action_id, no, mtitle, body, note, cooperating_report in fetch(_MEASURES, p):
        action = actions.get(action_id)
        if action is not None:
            measures[mid] = MeasureNode(mid, no, mtitle, body, note or "", action,
                                        cooperating_report=bool(cooperating_report))
            action.measures.append(measures[mid])
    departments: list[str] = []
    for mid, name, role in fetch(_DEPARTMENTS, p):
        measure = measures.get(mid)
        if measure is None:
            continue
        if role == "lead":
            measure.lead = name
        else:
            measure.cooperating.append(name)
        if name not in departments:
            departments.append(name)
    for tid, mid, year, text in fetch(_TARGETS, p):
        if mid in measures:
            measures[mid].targets.append(TargetNode(tid, year, text, measures[mid]))
    indicators: dict[int, IndicatorInfo] = {}
    for iid, mid, name, unit, comparator, note, aggregate in fetch(_INDICATORS, p):
        if mid in measures:
            indicators[iid] = IndicatorInfo(iid, name, unit, comparator, note or "", aggregate or "lead")
            measures[mid].indicators.append(indicators[iid])
    for iid, year, value, source in fetch(_INDICATOR_TARGETS, p):
        if iid in indicators:
            indicators[iid].targets[year] = _num(value)
            indicators[iid].sources[year] = source
    return PlanTree(title, status, list(range(start_year, end_year + 1)), list(actions.values()), departments)


def plan_tree(session) -> PlanTree | None:
    from sqlalchemy import text

    return read_plan_tree(lambda sql, params: session.execute(text(sql), params).all())


def read_current_sqlite(url: str, read: Callable):
    """read(connection) on a SQLite file whose schema is current, opened read-only through the standard library's
    sqlite3 (no SQLAlchemy); None when the file is missing, another database, older or newer, or unreadable."""
    import sqlite3

    from qjgb_desktop.paths import sqlite_path
    from qjgb_desktop.store.revision import HEAD

    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if not row or row[0] != HEAD:
            return None
        return read(conn)
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        conn.close()


def plan_tree_quick(url: str) -> PlanTree | None:
    """The tree straight from a SQLite file whose schema is current, or None (then use the full path).

    Read-only and without SQLAlchemy, for the window's first paint. Anything unusual (another database,
    a missing file, an older or newer schema, no plan yet) returns None and the caller opens the database
    the normal way, which migrates, seeds and explains errors.
    """
    return read_current_sqlite(url, lambda conn: read_plan_tree(lambda sql, params: conn.execute(sql, params)
                                                                 .fetchall()))


def plan_as_dict(tree: PlanTree | None) -> dict:
    """The plan in the shape of `qjgb plan --json`."""
    if tree is None:
        return {}
    return {
        "title": tree.title,
        "status": tree.status,
        "years": tree.years,
        "actions": [{
            "no": a.no,
            "title": a.title,
            "measures": [{
                "no": m.no,
                "title": m.title,
                "body": m.body,
                **({"cooperating_report": True} if m.cooperating_report else {}),
                "departments": [{"name": m.lead, "role": "lead"}]
                + [{"name": n, "role": "cooperating"} for n in m.cooperating],
                "targets": {str(t.year): t.text for t in m.targets},
                "indicators": [{
                    "name": i.name,
                    "unit": i.unit,
                    "comparator": i.comparator,
                    **({"aggregate": i.aggregate} if i.aggregate != "lead" else {}),
                    "targets": {str(y): i.targets.get(y) for y in tree.years},
                } for i in m.indicators],
            } for m in a.measures],
        } for a in tree.actions],
    }

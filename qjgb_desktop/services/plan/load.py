"""Load a plan record (resources/plan/plan.json or a revised one) into the database.

Loading is an upsert keyed by the document's own numbering: action no, measure no, (measure, year) for a
yearly target, (measure, name) for an indicator. Rows keep their ids, so progress, indicator values and
evidence recorded against them stay attached. Items a revised plan no longer has are marked retired, never
deleted. Every change is written to the audit log with its before and after. One transaction: a record that
fails validation changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.paths import resource_path
from qjgb_desktop.store.models import (
    Action,
    AuditEvent,
    Department,
    Indicator,
    IndicatorTarget,
    Measure,
    MeasureDepartment,
    Plan,
    Safeguard,
    YearlyTarget,
)

BUILTIN_PLAN = ("resources", "plan", "plan.json")
ROLES = ("lead", "cooperating")
COMPARATORS = {">=": "higher", "<=": "lower", "=": "equal"}
AGGREGATES = ("lead", "sum")  # an indicator's actual: the lead department's latest, or every department's summed


class PlanRecordError(ValueError):
    """The plan file is not a valid plan record; the message names the place."""


@dataclass
class LoadSummary:
    created: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.created or self.added or self.changed or self.retired)


def builtin_plan_record() -> dict:
    return read_plan_file(resource_path(*BUILTIN_PLAN))


def read_plan_file(path: Path) -> dict:
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanRecordError(f"{path}: 无法读取：{exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanRecordError(f"{path}: 不是有效的 JSON 计划文件：{exc}") from exc
    validate_record(record, str(path))
    return record


def record_sha256(record: dict) -> str:
    canonical = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def validate_record(record: dict, where: str = "计划文件") -> None:
    def fail(msg: str) -> None:
        raise PlanRecordError(f"{where}: {msg}")

    if not isinstance(record, dict):
        fail("顶层应为对象")
    for key in ("code", "title", "status", "years", "actions"):
        if key not in record:
            fail(f"缺少字段“{key}”")
    years = record["years"]
    if not (isinstance(years, list) and years and all(isinstance(y, int) for y in years)):
        fail("“years”应为年份列表")
    seen_measures: set[int] = set()
    for ai, action in enumerate(record["actions"], 1):
        for key in ("no", "title", "measures"):
            if key not in action:
                fail(f"第{ai}个改革任务缺少字段“{key}”")
        for measure in action["measures"]:
            no = measure.get("no")
            place = f"措施{no}"
            if not isinstance(no, int) or no in seen_measures:
                fail(f"{place}: 序号缺失或重复")
            seen_measures.add(no)
            for key in ("title", "body", "departments", "targets", "indicators"):
                if key not in measure:
                    fail(f"{place}: 缺少字段“{key}”")
            if not measure["departments"] or any(d.get("role") not in ROLES for d in measure["departments"]):
                fail(f"{place}: 责任部门为空或角色不是 lead/cooperating")
            if [d["role"] for d in measure["departments"]].count("lead") != 1:
                fail(f"{place}: 应恰有一个牵头部门")
            if not isinstance(measure.get("cooperating_report", False), bool):
                fail(f"{place}: cooperating_report 应为 true 或 false（配合部门是否也须每期报送）")
            for year in years:
                if not isinstance(measure["targets"].get(str(year)), str):
                    fail(f"{place}: 缺少{year}年度目标")
            names = set()
            for ind in measure["indicators"]:
                if ind.get("comparator") not in COMPARATORS:
                    fail(f"{place}指标“{ind.get('name')}”: 比较方式应为 >=、<= 或 =")
                if ind.get("aggregate", "lead") not in AGGREGATES:
                    fail(f"{place}指标“{ind.get('name')}”: aggregate 应为 lead（取牵头部门的值）或 sum（各部门相加）")
                if ind["name"] in names:
                    fail(f"{place}: 指标“{ind['name']}”重复")
                names.add(ind["name"])
                for y, v in ind.get("targets", {}).items():
                    if v is not None and not isinstance(v, (int, float)):
                        fail(f"{place}指标“{ind['name']}”{y}年目标值不是数字：{v!r}")


def _audit(session: Session, actor: str, action: str, entity: str, entity_id: int | None,
           before: dict | None, after: dict | None, reason: str = "") -> None:
    session.add(AuditEvent(at=datetime.now(), actor=actor, action=action, entity=entity, entity_id=entity_id,
                           before=before, after=after, reason=reason))


def _update(session: Session, obj, values: dict, label: str, summary: LoadSummary, actor: str) -> None:
    """Set the attributes that differ and audit them as one change of `obj`."""
    before = {k: getattr(obj, k) for k, v in values.items() if getattr(obj, k) != v}
    if not before:
        return
    for k in before:
        setattr(obj, k, values[k])
    session.flush()
    summary.changed.append(label)
    _audit(session, actor, "plan.update", obj.__tablename__, obj.id, before, {k: values[k] for k in before})


def _upsert(session: Session, existing, make, values: dict, label: str, summary: LoadSummary, actor: str):
    """Update `existing` in place (audited), or create it with make(**values) and note it as added."""
    if existing is not None:
        _update(session, existing, values, label, summary, actor)
        return existing
    obj = make(**values)
    session.add(obj)
    session.flush()
    if not summary.created:
        summary.added.append(label)
    return obj


def _retire(session: Session, obj, label: str, summary: LoadSummary, actor: str) -> None:
    if not obj.retired:
        _update(session, obj, {"retired": True}, label, summary, actor)
        summary.retired.append(label)


def load_plan(session: Session, record: dict, actor: str = "system", source: str = "") -> LoadSummary:
    validate_record(record)
    from qjgb_desktop.services.accounts.access import forget_plan_facts, require

    forget_plan_facts(session)  # what this session read of the plan before is about to change

    # The built-in plan seeded into an empty database at the first start is no one's act; any other load is.
    if not (actor == "system" and session.scalar(select(Plan.id).limit(1)) is None):
        require(session, actor, "plan.load")
    summary = LoadSummary()
    sha = record_sha256(record)
    plan = session.scalars(select(Plan).where(Plan.code == record["code"])).one_or_none()
    if plan is not None and plan.record_sha256 == sha:
        return summary
    plan_values = dict(
        title=record["title"], status=record["status"], start_year=min(record["years"]),
        end_year=max(record["years"]), preamble=record.get("preamble", ""),
        guiding_ideology=record.get("guiding_ideology", ""), goals=record.get("goals", ""),
        annex_title=record.get("annex_title", ""), source_file=record.get("source", {}).get("file", ""),
        source_sha256=record.get("source", {}).get("sha256", ""),
    )
    if plan is None:
        plan = Plan(code=record["code"], record_sha256=sha, loaded_at=datetime.now(), **plan_values)
        session.add(plan)
        session.flush()
        summary.created = True
    else:
        _update(session, plan, plan_values, "计划", summary, actor)
        plan.record_sha256 = sha
        plan.loaded_at = datetime.now()

    departments = _load_departments(session, record)
    _load_safeguards(session, plan, record.get("safeguards", []), summary, actor)

    actions = {a.no: a for a in session.scalars(select(Action).where(Action.plan_id == plan.id))}
    measures = {m.no: m for m in session.scalars(select(Measure).where(Measure.plan_id == plan.id))}
    seen_actions, seen_measures = set(), set()
    for a in record["actions"]:
        seen_actions.add(a["no"])
        action = _upsert(session, actions.get(a["no"]), partial(Action, plan_id=plan.id, no=a["no"]),
                         dict(numeral=a.get("numeral", ""), title=a["title"], retired=False),
                         f"任务{a['no']}", summary, actor)
        for m in a["measures"]:
            seen_measures.add(m["no"])
            _load_measure(session, plan, action, measures.get(m["no"]), m, record["years"], departments,
                          summary, actor)
    for no in sorted(actions.keys() - seen_actions):
        _retire(session, actions[no], f"任务{no}", summary, actor)
    for no in sorted(measures.keys() - seen_measures):
        _retire(session, measures[no], f"措施{no}", summary, actor)
    _audit(session, actor, "plan.load", "plan", plan.id, None,
           {"record_sha256": sha, "status": plan.status, "added": summary.added, "changed": summary.changed,
            "retired": summary.retired}, reason=source)
    session.flush()
    return summary


def _load_departments(session: Session, record: dict) -> dict[str, Department]:
    existing = {d.name: d for d in session.scalars(select(Department))}
    names = [(d["name"], d.get("aliases", [])) for d in record.get("departments", [])]
    for a in record["actions"]:
        for m in a["measures"]:
            names += [(d["name"], []) for d in m["departments"]]
    for name, aliases in names:
        dep = existing.get(name)
        if dep is None:
            dep = existing[name] = Department(name=name, aliases=list(aliases))
            session.add(dep)
        elif aliases and dep.aliases != aliases:
            dep.aliases = list(aliases)
    session.flush()
    return existing


def _load_safeguards(session: Session, plan: Plan, items: list[dict], summary: LoadSummary, actor: str) -> None:
    existing = {s.no: s for s in session.scalars(select(Safeguard).where(Safeguard.plan_id == plan.id))}
    for item in items:
        values = dict(title=item["title"], text=item["text"])
        if item["no"] in existing:
            _update(session, existing[item["no"]], values, f"保障措施{item['no']}", summary, actor)
        else:
            session.add(Safeguard(plan_id=plan.id, no=item["no"], **values))


def _load_measure(session: Session, plan: Plan, action: Action, measure: Measure | None, m: dict,
                  years: list[int], departments: dict[str, Department], summary: LoadSummary, actor: str) -> None:
    label = f"措施{m['no']}"
    values = dict(action_id=action.id, title=m["title"], body=m["body"],
                  department_note=m.get("department_note", ""), department_sources=m.get("department_sources"),
                  cooperating_report=bool(m.get("cooperating_report", False)), retired=False)
    measure = _upsert(session, measure, partial(Measure, plan_id=plan.id, no=m["no"]), values, label, summary, actor)

    # Departments: the listing is replaced as a whole when it differs (order and roles matter).
    wanted = [(departments[d["name"]].id, d["role"], d.get("listed_as", "")) for d in m["departments"]]
    current = [(md.department_id, md.role, md.listed_as) for md in measure.departments]
    if wanted != current:
        if current:
            summary.changed.append(f"{label}责任部门")
            _audit(session, actor, "plan.update", "measure_department", measure.id,
                   {"departments": [departments_name(departments, c[0]) for c in current]},
                   {"departments": [d["name"] for d in m["departments"]]})
        measure.departments.clear()
        session.flush()
        for pos, (dep_id, role, listed_as) in enumerate(wanted):
            measure.departments.append(MeasureDepartment(department_id=dep_id, role=role, position=pos,
                                                         listed_as=listed_as))

    targets = {t.year: t for t in measure.targets}
    for year in years:
        text = m["targets"][str(year)]
        target = targets.get(year)
        if target is None:
            session.add(YearlyTarget(measure_id=measure.id, year=year, text=text))
            if not summary.created:
                summary.added.append(f"{label}·{year}年目标")
        else:
            _update(session, target, {"text": text, "retired": False}, f"{label}·{year}年目标", summary, actor)
    for year in sorted(targets.keys() - set(years)):
        _retire(session, targets[year], f"{label}·{year}年目标", summary, actor)

    indicators = {i.name: i for i in measure.indicators}
    for pos, ind in enumerate(m["indicators"]):
        values = dict(unit=ind["unit"], comparator=ind["comparator"], direction=COMPARATORS[ind["comparator"]],
                      note=ind.get("note", ""), position=pos, retired=False,
                      aggregate=ind.get("aggregate") or "lead")
        ilabel = f"{label}指标“{ind['name']}”"
        indicator = _upsert(session, indicators.get(ind["name"]), partial(Indicator, measure_id=measure.id,
                            name=ind["name"]), values, ilabel, summary, actor)
        wanted_t = {int(y): (float(v), ind.get("sources", {}).get(y, ""))
                    for y, v in ind.get("targets", {}).items() if v is not None}
        current_t = {t.year: (t.value, t.source) for t in indicator.targets}
        if wanted_t != current_t:
            if current_t:
                summary.changed.append(f"{ilabel}目标值")
                _audit(session, actor, "plan.update", "indicator_target", indicator.id,
                       {str(y): v for y, (v, _) in sorted(current_t.items())},
                       {str(y): v for y, (v, _) in sorted(wanted_t.items())})
            indicator.targets.clear()
            session.flush()
            for year, (value, source) in sorted(wanted_t.items()):
                indicator.targets.append(IndicatorTarget(year=year, value=value, source=source))
    for name in sorted(indicators.keys() - {i["name"] for i in m["indicators"]}):
        _retire(session, indicators[name], f"{label}指标“{name}”", summary, actor)


def departments_name(departments: dict[str, Department], dep_id: int) -> str:
    return next((name for name, d in departments.items() if d.id == dep_id), str(dep_id))

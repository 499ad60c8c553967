"""Turn the parsed document into the plan record (resources/plan/plan.json).

Checks made here, each an error naming what disagrees: the body and the annex list the same measures with the
same titles, the annex's 改革任务 cells name each measure's own action, every indicator rule finds its phrase.
Department lists that differ between body and annex are resolved by RESOLUTIONS below and both facts are kept.
"""

from __future__ import annotations

import hashlib
import re

from qjgb_desktop.planparse.document import CN_NUMERALS, YEARS, PlanDocument, PlanDocumentError, parse_document
from qjgb_desktop.planparse.indicators import DIRECTION, RULES, IndicatorRule

FORMAT = 1
PLAN_CODE = "yanqing-qjgb-2025-2027"

# One department, two names: the document writes the longer form in some measures only.
ALIASES = {
    "区科信局（中关村延庆园管委会）": "区科信局",
    "区文物局区长城管理处": "区文物局",
}

# Where the body's 责任部门 line and the annex row disagree: which list the plan keeps, and why.
RESOLUTIONS = {
    2: ("annex",
        "正文责任部门写作“区文物局区长城管理处”，附表写作“区文物局”。区文物局与区长城管理处为同一机构"
        "（一个机构两块牌子），正文两名之间既无顿号也无括号，按附表记为“区文物局”一个部门，"
        "正文写法作为别名保留；两处原文均记录在 department_sources 中。"),
}


def _canonical(name: str) -> str:
    return ALIASES.get(name, name)


def _departments(names: list[str]) -> list[dict]:
    out = []
    for i, name in enumerate(names):
        entry = {"name": _canonical(name), "role": "lead" if i == 0 else "cooperating"}
        if entry["name"] != name:
            entry["listed_as"] = name
        out.append(entry)
    return out


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def extract_indicator(rule: IndicatorRule, targets: dict[int, str]) -> dict:
    values: dict[str, int | float | None] = {}
    sources: dict[str, str] = {}
    for year in YEARS:
        pattern = rule.per_year.get(year, rule.pattern)
        m = re.search(pattern, targets[year])
        if not m:
            values[str(year)] = None
            continue
        value = _number(m.group(1))
        if year in rule.derive:
            base_year, _ = rule.derive[year]
            base = values[str(base_year)]
            if base is None:
                raise PlanDocumentError(f"措施{rule.measure}指标“{rule.name}”：{year}年需以{base_year}年为基数，但该年无值")
            value = _number(str(base + value))
        values[str(year)] = value
        sources[str(year)] = m.group(0)
    if not sources:
        raise PlanDocumentError(f"措施{rule.measure}指标“{rule.name}”：三个年度目标中都找不到对应表述")
    notes = [rule.note] if rule.note else []
    notes += [note for _, note in rule.derive.values()]
    entry = {
        "name": rule.name,
        "unit": rule.unit,
        "comparator": rule.comparator,
        "direction": DIRECTION[rule.comparator],
        "targets": values,
        "sources": sources,
    }
    if notes:
        entry["note"] = "；".join(notes)
    return entry


def build_plan(doc: PlanDocument, source_name: str, source_sha256: str) -> dict:
    annex = {row.measure_no: row for row in doc.annex}
    body_nos = [m.no for m in doc.measures]
    if sorted(annex) != body_nos or body_nos != list(range(1, len(body_nos) + 1)):
        raise PlanDocumentError(f"正文措施序号{body_nos}与附表序号{sorted(annex)}不一致")
    action_titles = dict(doc.actions)
    rules_by_measure: dict[int, list[IndicatorRule]] = {}
    for r in RULES:
        rules_by_measure.setdefault(r.measure, []).append(r)

    actions = []
    for action_no, action_title in doc.actions:
        measures = []
        for m in (m for m in doc.measures if m.action_no == action_no):
            row = annex[m.no]
            if row.measure_title != m.title:
                raise PlanDocumentError(f"措施{m.no}标题：正文“{m.title}”，附表“{row.measure_title}”")
            if row.action_title and row.action_title != f"（{CN_NUMERALS[action_no - 1]}）{action_title}":
                raise PlanDocumentError(f"附表第{row.line}行：措施{m.no}所属任务“{row.action_title}”与正文不符")
            measure = {"no": m.no, "title": m.title, "body": m.body}
            if m.departments == row.departments:
                measure["departments"] = _departments(m.departments)
            else:
                if m.no not in RESOLUTIONS:
                    raise PlanDocumentError(
                        f"措施{m.no}责任部门：正文{m.departments}与附表{row.departments}不一致，且未给出处理方式")
                chosen, note = RESOLUTIONS[m.no]
                measure["departments"] = _departments(row.departments if chosen == "annex" else m.departments)
                measure["department_sources"] = {"body": m.departments, "annex": row.departments}
                measure["department_note"] = note
            measure["targets"] = {str(y): row.targets[y] for y in YEARS}
            measure["indicators"] = [extract_indicator(r, row.targets) for r in rules_by_measure.get(m.no, [])]
            measures.append(measure)
        actions.append({
            "no": action_no,
            "numeral": CN_NUMERALS[action_no - 1],
            "title": action_titles[action_no],
            "measures": measures,
        })

    aliases: dict[str, list[str]] = {}
    for alias, name in ALIASES.items():
        aliases.setdefault(name, []).append(alias)
    names: list[str] = []
    for action in actions:
        for measure in action["measures"]:
            for d in measure["departments"]:
                if d["name"] not in names:
                    names.append(d["name"])
    return {
        "format": FORMAT,
        "code": PLAN_CODE,
        "title": doc.title,
        "status": doc.status,
        "years": list(YEARS),
        "source": {"file": source_name, "sha256": source_sha256},
        "preamble": doc.preamble,
        "guiding_ideology": doc.sections.get("指导思想", ""),
        "goals": doc.sections.get("工作目标", ""),
        "safeguards": doc.safeguards,
        "annex_title": doc.annex_title,
        "departments": [{"name": n, "aliases": aliases.get(n, [])} for n in names],
        "actions": actions,
    }


def build_from_text(text: str, source_name: str) -> dict:
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return build_plan(parse_document(text), source_name, sha)

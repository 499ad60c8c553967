"""考核: a score per department for a year, from the record, with the rule shown and every figure traceable.

A department is scored on what it is responsible for, and ranked only against departments with the same kind of
responsibility: 牵头部门 (it leads at least one measure), 街乡镇, and 仅配合部门. Four components, each 0–100,
weighted by the setting `assessment_weights`:
- 完成度: a lead department's lead targets of the year, completion ÷ expected progress on the day (each capped at
  100), averaged. A cooperating department that owes reports of its own (setting `cooperating_duty`) is measured
  the same way on its own 配合进展 for the targets it owes them on (a target it has not reported on counts 0);
- 按时报送率: of the reports it owed for the periods already due (the lead's duty, and a cooperating department's
  where the setting says so), the share first entered by the due date;
- 佐证覆盖率: of its lead targets of the year (the year begun), the share with evidence attached;
- 督办办结率: of the 督办 items addressed to it whose feedback fell due in the year (by the day), the share closed.
  An item not yet due is not counted, so opening one never lowers a score by itself.
A component with nothing to measure is not counted — it gives no marks, and the basis says so; the total is the
weighted mean of the components that count. A department whose counted components carry less than half of all the
weight (or none at all) has too little to measure: it is listed as 不参与排名, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from qjgb_desktop.domain.responsibility import GROUPS, LEADS, UNRANKED, group_of
from qjgb_desktop.domain.status import NOT_STARTED, expected_percent
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress.as_of import AsOf, as_of
from qjgb_desktop.services.progress.status import compute_status
from qjgb_desktop.services.settings.record import load_settings
from qjgb_desktop.services.settings.values import DEFAULT_WEIGHTS
from qjgb_desktop.services.supervision.calendar import ON_TIME, owed_reports, year_periods_due
from qjgb_desktop.services.supervision.items import CLOSED, list_items

LABELS = {"completion": "完成度", "timeliness": "按时报送率", "evidence": "佐证覆盖率", "supervision": "督办办结率"}


@dataclass(frozen=True)
class Component:
    key: str
    label: str
    weight: float
    score: float | None  # None: nothing to measure, left out of the total
    numerator: float
    denominator: float
    basis: str  # one line: how the score came about
    records: list[str] = field(default_factory=list, compare=False)  # the records behind it, one per line

    @property
    def counted(self) -> bool:
        return self.score is not None


@dataclass(frozen=True)
class DepartmentScore:
    department: str
    year: int
    total: float
    rank: int | None  # within its group; None: 不参与排名 (see `note`)
    components: list[Component]
    group: str = LEADS
    note: str = ""  # why it is not ranked

    @property
    def rank_label(self) -> str:
        return str(self.rank) if self.rank is not None else UNRANKED

    def component(self, key: str) -> Component:
        return next(c for c in self.components if c.key == key)

    def as_json(self) -> dict:
        return {"department": self.department, "year": self.year, "group": self.group, "total": self.total,
                "rank": self.rank, "ranked": self.rank is not None, "note": self.note,
                "components": [{"key": c.key, "label": c.label, "weight": c.weight, "score": c.score,
                                "counted": c.counted, "numerator": c.numerator, "denominator": c.denominator,
                                "basis": c.basis, "records": c.records} for c in self.components]}


def _score(numerator: float, denominator: float) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


def assess(session: Session, year: int, today: date | AsOf) -> list[DepartmentScore]:
    """Every department named in the plan, by group (牵头部门, 街乡镇, 仅配合部门), best first within each; equal
    totals share a rank; those with too little to measure last in their group, not ranked."""
    tree = plan_tree(session)
    if tree is None:
        return []
    when = as_of(today)
    today = when.day
    settings = load_settings(session)
    weights = settings.weights
    snap = compute_status(session, when, tree)
    expected = expected_percent(year, today)
    owed = owed_reports(session, year_periods_due(settings, year, today), tree, settings, today=when)
    items = [i for i in list_items(session, today, year=year)
             if i.feedback_due is not None and i.feedback_due.year == year and i.feedback_due <= today]
    scores = [_department(name, tree, snap, year, expected, owed, items, settings) for name in tree.departments]
    half = sum(weights.values()) / 2
    ranked = []
    for group in GROUPS:
        members = sorted((s for s in scores if s.group == group), key=lambda s: -s.total)
        previous, rank, place = None, 0, 0
        for s in members:
            counted = sum(c.weight for c in s.components if c.counted and c.weight > 0)
            if counted < half or counted == 0:
                why = "；".join(c.basis for c in s.components if not c.counted)
                ranked.append(DepartmentScore(s.department, year, s.total, None, s.components, group,
                                              f"可计入的考核项权重 {counted:g}，不足总权重的一半（{why}）"))
                continue
            place += 1
            if s.total != previous:
                rank, previous = place, s.total
            ranked.append(DepartmentScore(s.department, year, s.total, rank, s.components, group))
    order = {g: i for i, g in enumerate(GROUPS)}
    return sorted(ranked, key=lambda s: (order[s.group], s.rank is None, s.rank or 0, -s.total))


def _department(name, tree, snap, year, expected, owed, items, settings) -> DepartmentScore:
    weights = settings.weights
    group = group_of(name, any(m.lead == name for m in tree.measures()))
    lead = [(m, t) for m in tree.measures() if m.lead == name for t in m.targets if t.year == year]
    # 完成度: its lead targets; or, for a department that only cooperates, its own 配合进展 where it owes reports
    records, ratios = [], []
    if lead:
        for m, t in lead:
            s = snap.targets[t.id]
            if expected <= 0:
                continue
            ratio = min(1.0, s.percent / expected)
            ratios.append(ratio)
            last = f"（{s.reporting_department} {s.last_report.isoformat()} 报）" if s.last_report else "（牵头部门未报）"
            records.append(f"措施{m.no}·{year}年：完成度 {s.percent}%{last}，应完成 {expected:.1f}%，"
                           f"计 {100 * ratio:.1f} 分")
        basis = f"{len(ratios)} 项牵头目标的平均完成比例" if ratios else "年度未开始，不计"
    else:
        mine = [(m, t) for m in tree.measures() if name in m.cooperating
                and (m.cooperating_report or settings.cooperating_owes(m.no))
                for t in m.targets if t.year == year]
        for m, t in mine:
            if expected <= 0:
                continue
            own = next((c for c in snap.targets[t.id].cooperating if c.department == name), None)
            ratio = min(1.0, (own.percent if own else 0) / expected)
            ratios.append(ratio)
            records.append(f"措施{m.no}·{year}年（配合）：自报完成度 {own.percent if own else 0}%"
                           f"{'' if own else '（未报）'}，应完成 {expected:.1f}%，计 {100 * ratio:.1f} 分")
        basis = (f"{len(ratios)} 项须报送的配合目标的平均完成比例" if ratios else
                 "不牵头任何措施，也无须自行报送配合进展，不计")
    completion = Component("completion", LABELS["completion"], weights["completion"],
                           _score(sum(ratios), len(ratios)), round(sum(ratios), 3), len(ratios), basis, records)
    # 按时报送率: the reports it owed (its duties)
    due = [o for o in owed if o.department == name]
    on_time = [o for o in due if o.state == ON_TIME]
    records = [f"{o.period} 措施{o.measure_no}·{o.year}年（{'牵头' if o.role == 'lead' else '配合'}）："
               f"{o.state}" + (f"，{o.entered:%Y-%m-%d %H:%M} 录入（报告 #{o.report_id}）" if o.entered else "")
               + f"，期限 {o.due.isoformat()}" for o in due]
    timeliness = Component("timeliness", LABELS["timeliness"], weights["timeliness"],
                           _score(len(on_time), len(due)), len(on_time), len(due),
                           f"应报 {len(due)} 份，按期 {len(on_time)} 份" if due else "无到期的报送义务，不计", records)
    # 佐证覆盖率: its lead targets that have begun
    begun = [(m, t) for m, t in lead if snap.targets[t.id].state != NOT_STARTED]
    covered = [(m, t) for m, t in begun if snap.evidence.get(t.id, 0)]
    records = [f"措施{m.no}·{year}年：佐证 {snap.evidence.get(t.id, 0)} 件" for m, t in begun]
    evidence = Component("evidence", LABELS["evidence"], weights["evidence"], _score(len(covered), len(begun)),
                         len(covered), len(begun),
                         f"{len(begun)} 项牵头目标中 {len(covered)} 项有佐证" if begun else "无已开始的牵头目标，不计",
                         records)
    # 督办办结率: the items addressed to it that fell due in the year
    theirs = [i for i in items if i.department == name]
    closed = [i for i in theirs if i.stage == CLOSED]
    records = [f"督办 #{i.id} {i.subject}：{i.stage}，反馈期限 {i.feedback_due.isoformat()}"
               + (f"（{i.closed_on.isoformat()} 办结）" if i.closed_on else "") for i in theirs]
    supervision = Component("supervision", LABELS["supervision"], weights["supervision"],
                            _score(len(closed), len(theirs)), len(closed), len(theirs),
                            f"到期督办 {len(theirs)} 项，办结 {len(closed)} 项" if theirs else "本年度无到期的督办事项，不计",
                            records)
    components = [completion, timeliness, evidence, supervision]
    counted = [c for c in components if c.counted and c.weight > 0]
    total_weight = sum(c.weight for c in counted)
    total = round(sum(c.score * c.weight for c in counted) / total_weight, 1) if total_weight else 0.0
    return DepartmentScore(name, year, total, None, components, group)


def rule_text(session: Session) -> str:
    """The rule and the weights in force, in Chinese, for printing under every 考核 table."""
    w = load_settings(session).weights
    parts = "、".join(f"{LABELS[k]} {w[k]:g}" for k in DEFAULT_WEIGHTS)
    return ("各部门按承担的责任考核，并只与同类部门比较排名（牵头部门、街乡镇、仅配合部门分组）。"
            "考核得分 = Σ（计入项得分 × 权重）÷ Σ计入项权重，各项满分 100；权重：" + parts + "。"
            "完成度：牵头年度目标的完成度 ÷ 当日应完成进度（每项最高 100 分）的平均；仅配合的部门在须自行报送时按其自报的"
            "配合进展计算；按时报送率：已到报送期限的周期中，应报的报告（牵头部门；配合部门仅在设置要求时）按期首次录入的比例；"
            "佐证覆盖率：已开始的牵头年度目标中有佐证材料的比例；"
            "督办办结率：本年度已到反馈期限的督办事项中已办结的比例，未到期的事项不计。"
            "无可计依据的项目不计分、不给满分，并注明原因；计入项权重不足总权重一半的部门不参与排名。")


def worked_example() -> str:
    """How one total comes about, for the 考核 tab and the README."""
    return ("例：某牵头部门完成度 80 分、按时报送率 75 分、佐证覆盖率 50 分，本年度无到期督办事项（不计）："
            "（80×40 + 75×30 + 50×15）÷（40 + 30 + 15）= 6200 ÷ 85 ≈ 72.9 分；计入项权重 85，超过总权重 100 的一半，参与牵头部门组排名。"
            "某仅配合部门无须自行报送、也无到期督办事项：各项均不计，不参与排名。")

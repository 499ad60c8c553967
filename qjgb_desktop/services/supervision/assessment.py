"""考核: a score per department for a year, from the record, with the rule shown and every figure traceable.

Four components, each 0–100, weighted by the setting `assessment_weights`:
- 完成度 (completion): over the department's lead targets of the year, completion ÷ expected progress on the day
  (capped at 100 each), averaged;
- 按时报送率 (timeliness): of the reports it owed (lead and cooperating) for the periods already due, the share
  first entered by the due date;
- 佐证覆盖率 (evidence): of its lead targets of the year (the year begun), the share with evidence attached;
- 督办办结率 (supervision): of the 督办 items addressed to it for the year, the share closed; none is full marks.
A component with nothing to measure (a department leading no target has no completion) is left out and the
weights of the others carry the score, so nobody gains or loses by what they were never asked to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from qjgb_desktop.domain.status import NOT_STARTED, expected_percent
from qjgb_desktop.services.plan.query import plan_tree
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
    rank: int
    components: list[Component]

    def component(self, key: str) -> Component:
        return next(c for c in self.components if c.key == key)

    def as_json(self) -> dict:
        return {"department": self.department, "year": self.year, "total": self.total, "rank": self.rank,
                "components": [{"key": c.key, "label": c.label, "weight": c.weight, "score": c.score,
                                "numerator": c.numerator, "denominator": c.denominator, "basis": c.basis,
                                "records": c.records} for c in self.components]}


def _score(numerator: float, denominator: float) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


def assess(session: Session, year: int, today: date) -> list[DepartmentScore]:
    """Every department named in the plan, best first; equal totals share a rank."""
    tree = plan_tree(session)
    if tree is None:
        return []
    settings = load_settings(session)
    weights = settings.weights
    snap = compute_status(session, today, tree)
    expected = expected_percent(year, today)
    owed = owed_reports(session, year_periods_due(settings, year, today), tree, settings)
    items = list_items(session, today, year=year)
    scores = []
    for name in tree.departments:
        lead = [(m, t) for m in tree.measures() if m.lead == name for t in m.targets if t.year == year]
        # 完成度
        records, ratios = [], []
        for m, t in lead:
            s = snap.targets[t.id]
            if expected <= 0:
                continue
            ratio = min(1.0, s.percent / expected)
            ratios.append(ratio)
            last = f"（{s.reporting_department} {s.last_report.isoformat()} 报）" if s.last_report else "（未报）"
            records.append(f"措施{m.no}·{year}年：完成度 {s.percent}%{last}，应完成 {expected:.1f}%，"
                           f"计 {100 * ratio:.1f} 分")
        completion = Component("completion", LABELS["completion"], weights["completion"],
                               _score(sum(ratios), len(ratios)), round(sum(ratios), 3), len(ratios),
                               f"{len(ratios)} 项牵头目标的平均完成比例" if ratios else "无牵头目标或年度未开始，不计",
                               records)
        # 按时报送率
        mine = [o for o in owed if o.department == name]
        on_time = [o for o in mine if o.state == ON_TIME]
        records = [f"{o.period} 措施{o.measure_no}·{o.year}年（{'牵头' if o.role == 'lead' else '配合'}）："
                   f"{o.state}" + (f"，{o.entered:%Y-%m-%d %H:%M} 录入（报告 #{o.report_id}）" if o.entered else "")
                   + f"，期限 {o.due.isoformat()}" for o in mine]
        timeliness = Component("timeliness", LABELS["timeliness"], weights["timeliness"],
                               _score(len(on_time), len(mine)), len(on_time), len(mine),
                               f"应报 {len(mine)} 份，按期 {len(on_time)} 份" if mine else "尚无到期的报送周期，不计",
                               records)
        # 佐证覆盖率
        begun = [(m, t) for m, t in lead if snap.targets[t.id].state != NOT_STARTED]
        covered = [(m, t) for m, t in begun if snap.evidence.get(t.id, 0)]
        records = [f"措施{m.no}·{year}年：佐证 {snap.evidence.get(t.id, 0)} 件" for m, t in begun]
        evidence = Component("evidence", LABELS["evidence"], weights["evidence"], _score(len(covered), len(begun)),
                             len(covered), len(begun),
                             f"{len(begun)} 项牵头目标中 {len(covered)} 项有佐证" if begun else "无已开始的牵头目标，不计",
                             records)
        # 督办办结率
        theirs = [i for i in items if i.department == name]
        closed = [i for i in theirs if i.stage == CLOSED]
        records = [f"督办 #{i.id} {i.subject}：{i.stage}" + (f"（{i.closed_on.isoformat()} 办结）" if i.closed_on else "")
                   for i in theirs]
        supervision = Component("supervision", LABELS["supervision"], weights["supervision"],
                                _score(len(closed), len(theirs)) if theirs else 100.0, len(closed), len(theirs),
                                f"督办 {len(theirs)} 项，办结 {len(closed)} 项" if theirs else "无督办事项，计满分",
                                records)
        components = [completion, timeliness, evidence, supervision]
        counted = [c for c in components if c.counted and c.weight > 0]
        total_weight = sum(c.weight for c in counted)
        total = round(sum(c.score * c.weight for c in counted) / total_weight, 1) if total_weight else 0.0
        scores.append(DepartmentScore(name, year, total, 0, components))
    scores.sort(key=lambda s: -s.total)
    ranked, previous, rank = [], None, 0
    for i, s in enumerate(scores, 1):
        if s.total != previous:
            rank, previous = i, s.total
        ranked.append(DepartmentScore(s.department, s.year, s.total, rank, s.components))
    return ranked


def rule_text(session: Session) -> str:
    """The rule and the weights in force, in Chinese, for printing under every 考核 table."""
    w = load_settings(session).weights
    parts = "、".join(f"{LABELS[k]} {w[k]:g}" for k in DEFAULT_WEIGHTS)
    return ("考核得分 = Σ（各项得分 × 权重）÷ Σ权重，各项满分 100；权重：" + parts + "。"
            "完成度：牵头年度目标的完成度 ÷ 当日应完成进度（每项最高 100 分）的平均；"
            "按时报送率：已到报送期限的周期中，应报（牵头和配合）的报告按期首次录入的比例；"
            "佐证覆盖率：已开始的牵头年度目标中有佐证材料的比例；"
            "督办办结率：本年度督办事项中已办结的比例，无督办事项计满分。"
            "无可计依据的项目不计入，其权重由其余项目按比例承担。")

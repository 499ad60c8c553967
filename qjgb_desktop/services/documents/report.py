"""进展情况报告 (.docx) for a reporting period (2026Q4, 2026-11) or a year, compiled from the record only.

What it says and where it comes from:
- the lights and completion as of the period's end (or today, if earlier): the same rules and the same as-of rule
  as the window and every other view (services/progress/as_of.py) — a report dated in the period and entered
  after it (a quarter's returns, imported in the following weeks) counts, a report dated after it does not; the
  lead department's report sets a target's state;
- per 改革任务 (一、) and 改革措施 (（一）): the departments, the year's target text, the state, and what each
  department reported for the period (lead first, then cooperating), or that nobody did; for a year, each
  department's latest report of the year;
- submissions per department and on time (calendar), indicators against the year's targets (indicators),
  the dashboard charts (charts, 300 dpi), the 考核 for a year (assessment), the 督办 items as an annex
  (supervision).
Nothing is added that the record does not hold: empty fields are shown as 未填写.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.periods import Period, PeriodError, covering_codes, parse_period, periods_in
from qjgb_desktop.domain.status import NOT_STARTED, STATES, expected_percent, meets
from qjgb_desktop.services.documents.docx_official import OfficialDocument, chinese_date, chinese_number
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress.as_of import AsOf, visible_clause
from qjgb_desktop.services.progress.indicators import COMPARATOR_TEXT, indicator_rows, row_actual
from qjgb_desktop.services.progress.status import StatusSnapshot, compute_status
from qjgb_desktop.services.settings.record import load_settings
from qjgb_desktop.store.models import Department, ProgressReport, YearlyTarget

LIGHT_NAMES = {"正常": "正常（绿灯）", "关注": "关注（黄灯）", "滞后": "滞后（红灯）", "逾期": "逾期（红灯）"}
NOT_FILLED = "（未填写）"


class ReportError(ValueError):
    """A request the user can fix (no such period, a period not begun); the message names the value."""


@dataclass(frozen=True)
class ReportSummary:
    title: str
    scope: str  # 2026年第四季度 / 2026年度
    as_of: date
    measures: int
    reports: int  # department reports quoted
    silent: int  # measures nobody reported on in the scope
    indicators: int
    pictures: int
    supervision: int
    assessed: int  # departments in the 考核 table (0: none in this report)


@dataclass(frozen=True)
class _Report:
    id: int
    target_id: int
    code: str
    period: Period
    day: date
    status: str
    percent: int
    reporter: str
    department: str
    done: str
    problems: str
    next_steps: str


@dataclass(frozen=True)
class _Scope:
    year: int
    period: Period | None  # None: the whole year
    label: str
    end: date
    as_of: date

    def holds(self, r: _Report) -> bool:
        """Whether a report was made for this scope (the period, or any period of the year)."""
        if self.period is None:
            return r.period.end <= self.end
        return r.code in covering_codes(self.period)


def period_label(p: Period) -> str:
    """2026年第四季度 or 2026年11月, as a document writes them."""
    return f"{p.year}年第{chinese_number(int(p.code[-1]))}季度" if "Q" in p.code else p.label


def _scope(tree, period: str | None, year: int | None, today: date) -> _Scope:
    if (period is None) == (year is None):
        raise ReportError("请指定填报周期（如 2026Q4）或年度（如 2026）其中之一")
    years = tree.years
    if period is not None:
        try:
            p = parse_period(period)
        except PeriodError as exc:
            raise ReportError(str(exc)) from exc
        scope = _Scope(p.year, p, period_label(p), p.end, min(p.end, today))
        what = f"填报周期“{p.code}”"
    else:
        scope = _Scope(year, None, f"{year}年度", date(year, 12, 31), min(date(year, 12, 31), today))
        what = f"年度“{year}”"
    if scope.year not in years:
        raise ReportError(f"{what}不在计划年度 {years[0]}–{years[-1]} 内")
    start = scope.period.start if scope.period else date(scope.year, 1, 1)
    if start > today:
        raise ReportError(f"{what}尚未开始（今天是 {today.isoformat()}），无进展可报告")
    return scope


def _reports(session: Session, year: int, when: AsOf) -> list[_Report]:
    """Every report on a target of the year that counts as of `when` (services/progress/as_of.py)."""
    q = (select(ProgressReport.id, ProgressReport.yearly_target_id, ProgressReport.period,
                ProgressReport.report_date, ProgressReport.status, ProgressReport.percent, ProgressReport.reporter,
                Department.name, ProgressReport.done, ProgressReport.problems, ProgressReport.next_steps)
         .join(Department, Department.id == ProgressReport.department_id)
         .join(YearlyTarget, YearlyTarget.id == ProgressReport.yearly_target_id)
         .where(YearlyTarget.year == year, visible_clause("progress_report", when)))
    out = []
    for rid, tid, code, day, status, percent, reporter, dept, done, problems, next_steps in session.execute(q):
        try:
            p = parse_period(code)
        except PeriodError:
            continue  # a code the program never writes: not for any period
        out.append(_Report(rid, tid, p.code, p, day, status, percent, reporter or "", dept, done or "",
                           problems or "", next_steps or ""))
    return out


def _newest(reports):
    return max(reports, key=lambda r: (r.day, r.id))


def _png(draw, width: float, height: float) -> bytes:
    from qjgb_desktop.services.charts import figures as charts

    fig = charts.new_figure(width, height)
    draw(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=300, format="png")
    return buffer.getvalue()


def _percent(value: float) -> str:
    return f"{value:g}%"


def build_progress_report(session: Session, out: Path, *, period: str | None = None, year: int | None = None,
                          today: date, issuer: str = "") -> ReportSummary:
    tree = plan_tree(session)
    if tree is None:
        raise ReportError("数据库中没有计划，请先运行 qjgb init")
    scope = _scope(tree, period, year, today)
    when = AsOf(scope.as_of)  # the period as the record stands, nothing dated after it
    reports = _reports(session, scope.year, when)
    snap = compute_status(session, when, tree)
    in_scope = [r for r in reports if scope.holds(r)]
    title = f"关于《{tree.title}》{scope.label}推进情况的报告"
    doc = OfficialDocument()
    doc.title(title)
    doc.subtitle(f"（统计截至{chinese_date(scope.as_of)}）")
    doc.paragraph(f"现将《{tree.title}》{scope.label}推进情况报告如下。本报告中的进展、状态和数据均来自各责任部门"
                  f"报送并录入的记录，统计截至{chinese_date(scope.as_of)}。")
    _overall(doc, session, tree, snap, scope)
    quoted, silent = _actions(doc, tree, snap, scope, in_scope)
    _submissions(doc, session, scope, today)
    indicators = _indicators(doc, session, tree, scope)
    assessed = _assessment(doc, session, scope, today) if scope.period is None else 0
    doc.blank()
    doc.paragraph("附件：督办事项清单")
    doc.signature(today, issuer)
    supervision = _supervision(doc, session, scope, today)
    doc.save(out)
    return ReportSummary(title, scope.label, scope.as_of, len(tree.measures()), quoted, silent, indicators,
                         doc.pictures, supervision, assessed)


def _overall(doc: OfficialDocument, session: Session, tree, snap: StatusSnapshot, scope: _Scope) -> None:
    from qjgb_desktop.services.charts import data as cd
    from qjgb_desktop.services.charts import figures as charts

    y, day = scope.year, scope.as_of
    plan = snap.plan[y]
    expected = round(expected_percent(y, day), 1)
    counts = cd.status_distribution(snap, y)
    n_targets = sum(counts.values())
    doc.paragraph(f"{y}年度共有年度目标{n_targets}项（{len(tree.actions)}项改革任务、{len(tree.measures())}项改革措施）。"
                  f"截至{chinese_date(day)}，总体完成度{_percent(plan.percent)}，按时间进度应完成约{_percent(expected)}，"
                  f"总体状态为“{plan.state}”。", lead="总体情况。")
    lights = "，".join(f"{LIGHT_NAMES.get(s, s)}{counts[s]}项" for s in STATES
                      if s != NOT_STARTED or counts[s])
    doc.paragraph(f"{lights}。", lead="预警情况。")
    overview = cd.overview(snap, y)
    doc.picture(_png(lambda fig: charts.draw_overview(fig, overview), 6.1, 1.9), f"{y}年总体完成度")
    doc.picture(_png(lambda fig: charts.draw_distribution(fig, counts, y), 6.1, 2.6), f"{y}年度目标状态分布")
    actions = cd.action_bars(snap, y)
    doc.picture(_png(lambda fig: charts.draw_bars(fig, actions, f"{y}年各改革任务完成度", expected), 6.1,
                     0.9 + 0.38 * len(actions)), f"{y}年各改革任务完成度")
    leads = cd.department_bars(snap, y)
    doc.picture(_png(lambda fig: charts.draw_bars(fig, leads, f"{y}年各牵头部门完成度", expected), 6.1,
                     0.9 + 0.38 * max(len(leads), 1)), f"{y}年各牵头部门完成度")


def _actions(doc: OfficialDocument, tree, snap: StatusSnapshot, scope: _Scope, in_scope: list[_Report]
             ) -> tuple[int, int]:
    """一、 per task and （一） per measure; returns (department reports quoted, measures without any)."""
    y, when = scope.year, ("本期" if scope.period else "本年度")
    expected = round(expected_percent(y, scope.as_of), 1)
    quoted = silent = 0
    for a in tree.actions:
        doc.heading1(a.title)
        r = snap.actions[(a.id, y)]
        doc.paragraph(f"本任务共{len(a.measures)}项改革措施，{y}年度平均完成度{_percent(r.percent)}，状态为“{r.state}”；"
                      f"其中已完成{r.completed}项，滞后或逾期{r.red}项，关注{r.yellow}项，未填报{r.not_reported}项。")
        for m in a.measures:
            doc.heading2(f"{m.title}（措施{m.no}）")
            roles = f"{m.lead}（牵头）" + (f"，{'、'.join(m.cooperating)}（配合）" if m.cooperating else "")
            doc.paragraph(roles + "。", lead="责任部门：")
            target = next((t for t in m.targets if t.year == y), None)
            if target is None:
                doc.paragraph(f"本措施没有{y}年度目标。")
                continue
            doc.paragraph(target.text, lead=f"{y}年度目标：")
            s = snap.targets[target.id]
            last = f"牵头部门最近一次报送为{chinese_date(s.last_report)}" if s.last_report else "牵头部门尚无报送"
            if s.cooperating_this_period and s.state == "未填报":
                last += f"（本期牵头部门未报，配合部门已报{s.cooperating_this_period}份，不代替牵头部门的报告）"
            doc.paragraph(f"{s.state}，完成度{s.percent}%（按时间进度应完成约{_percent(expected)}）；{last}。",
                          lead="推进状态：")
            mine = [r for r in in_scope if r.target_id == target.id]
            if not mine:
                silent += 1
                doc.paragraph(f"{when}无部门报送进展。")
                continue
            by_dept: dict[str, list[_Report]] = {}
            for rep in mine:
                by_dept.setdefault(rep.department, []).append(rep)
            order = [d for d in m.departments if d in by_dept] + sorted(d for d in by_dept if d not in m.departments)
            for dept in order:
                rep = _newest(by_dept[dept])
                quoted += 1
                role = "（牵头）" if dept == m.lead else "（配合）" if dept in m.cooperating else ""
                doc.heading3(f"{dept}{role}")
                who = f"，填报人{rep.reporter}" if rep.reporter else ""
                doc.paragraph(f"{chinese_date(rep.day)}报送（{period_label(rep.period)}{who}），"
                              f"填报状态“{rep.status}”，完成度{rep.percent}%。", lead="报送情况：")
                doc.paragraph(rep.done or NOT_FILLED, lead="工作进展：")
                doc.paragraph(rep.problems or NOT_FILLED, lead="存在问题：")
                doc.paragraph(rep.next_steps or NOT_FILLED, lead="下步计划：")
            missing = [d for d in m.departments if d not in by_dept]
            if missing:
                doc.paragraph(f"{when}未报送进展的责任部门：{'、'.join(missing)}。")
    return quoted, silent


def _submissions(doc: OfficialDocument, session: Session, scope: _Scope, today: date) -> None:
    from qjgb_desktop.services.charts import data as cd
    from qjgb_desktop.services.charts import figures as charts
    from qjgb_desktop.services.supervision.calendar import MISSING, submissions

    doc.heading1("各部门报送情况")
    if scope.period is not None:
        periods = [scope.period]
    else:
        periods = [p for p in periods_in([scope.year], load_settings(session).scheme) if p.start <= scope.as_of]
    totals: dict[str, list[int]] = {}
    dues, states, pending = [], {}, 0
    for p in periods:
        for s in submissions(session, p, today):
            t = totals.setdefault(s.department, [0, 0, 0, 0])
            for i, v in enumerate((s.expected, s.on_time, s.late, s.missing)):
                t[i] += v
            states[s.department] = s.state + ("（未到期）" if s.state == MISSING and not s.overdue else "")
            pending += 0 if s.overdue else s.missing
            dues.append(s.due)
    expected, on_time, late, missing = (sum(t[i] for t in totals.values()) for i in range(4))
    all_on_time = sum(1 for t in totals.values() if t[1] == t[0])
    due_text = f"报送截止日期为{chinese_date(max(dues))}，" if scope.period is not None and dues else ""
    doc.paragraph(f"{'本期' if scope.period else '本年度各期'}各责任部门应报送进展{expected}份（每个部门对其牵头或配合的"
                  f"每项年度目标每期报送一份），{due_text}已收到{on_time + late}份，其中按时{on_time}份、逾期{late}份，"
                  f"未报送{missing}份" + (f"（其中{pending}份尚未到报送截止日期）" if pending else "") +
                  f"；{len(totals)}个部门中{all_on_time}个全部按时报送。")
    headers = ["部门", "应报", "按时报送", "逾期报送", "未报送"] + (["情况"] if scope.period else [])
    rows = [[name, *t] + ([states[name]] if scope.period else []) for name, t in totals.items()]
    doc.table(headers, rows, [5, 1.3, 1.6, 1.6, 1.4] + ([3] if scope.period else []),
              title=f"{scope.label}各部门进展报送情况", center={1, 2, 3, 4})
    first = date(scope.year, 1, 1)
    months = cd.monthly_activity(session, first, scope.as_of)
    doc.picture(_png(lambda fig: charts.draw_activity(fig, months), 6.1, 2.4), f"{scope.year}年每月填报数量")


def _indicators(doc: OfficialDocument, session: Session, tree, scope: _Scope) -> int:
    doc.heading1("量化指标完成情况")
    rows, met, unmet, entered = [], 0, 0, 0
    for row in indicator_rows(session, tree=tree):
        target = row["targets"].get(str(scope.year))
        value = row_actual(row, scope.as_of)
        target_text = f"{COMPARATOR_TEXT[row['comparator']]}{target:g}" if target is not None else "未设定"
        if value is None:
            actual, verdict = "未录入", "—"
        else:
            entered += 1
            actual = f"{value['value']:g}（{value['as_of']}）"
            if target is None:
                verdict = "—"
            elif meets(row["comparator"], value["value"], target):
                verdict, met = "达标", met + 1
            else:
                verdict, unmet = "未达标", unmet + 1
        rows.append([row["measure"], row["name"], row["unit"], target_text, actual, verdict])
    doc.paragraph(f"计划共设{len(rows)}项量化指标。截至{chinese_date(scope.as_of)}，已录入实际值{entered}项，"
                  f"对照{scope.year}年目标达标{met}项、未达标{unmet}项（“≤”类指标以不高于目标为达标）。")
    doc.table(["措施", "指标", "单位", f"{scope.year}年目标", "最新实际值（截至日期）", "是否达标"], rows,
              [1, 4.6, 1.2, 1.6, 3, 1.3], title=f"量化指标{scope.year}年目标完成情况", center={0, 2, 3, 5})
    return len(rows)


def _assessment(doc: OfficialDocument, session: Session, scope: _Scope, today: date) -> int:
    from qjgb_desktop.services.supervision.assessment import assess, rule_text

    scores = assess(session, scope.year, AsOf(scope.as_of))
    doc.heading1("年度考核情况")
    if not scores:
        doc.paragraph(f"{scope.year}年度暂无考核结果。")
        return 0
    labels = [f"{c.label}（权重{c.weight:g}）" for c in scores[0].components]
    rows = [[f"{s.group}{s.rank_label}" if s.rank is None else f"{s.group}第{s.rank}名", s.department,
             f"{s.total:.1f}", *("不计" if c.score is None else f"{c.score:.1f}" for c in s.components)]
            for s in scores]
    unranked = sum(s.rank is None for s in scores)
    doc.paragraph(f"按考核规则对{len(scores)}个责任部门的{scope.year}年度工作进行评分，牵头部门、街乡镇、仅配合部门分组排名"
                  f"（{unranked}个部门可考核的依据不足，不参与排名），结果见下表。")
    doc.table(["组别与排名", "部门", "总分", *labels], rows, [2.2, 3.4, 1.2, *([1.4] * len(labels))],
              title=f"{scope.year}年度责任部门考核得分", center=set(range(len(labels) + 3)) - {1})
    doc.paragraph(rule_text(session), lead="考核规则：")
    return len(scores)


def _supervision(doc: OfficialDocument, session: Session, scope: _Scope, today: date) -> int:
    from qjgb_desktop.services.supervision.items import CLOSED, ORIGINS, list_items

    start = scope.period.start if scope.period else date(scope.year, 1, 1)
    items = [i for i in list_items(session, today, year=scope.year) if i.opened_on <= scope.as_of
             and not (i.stage == CLOSED and i.closed_on is not None and i.closed_on < start)]
    items.sort(key=lambda i: (i.opened_on, i.id))
    doc.annex("附件", "督办事项清单")
    if not items:
        doc.paragraph(f"截至{chinese_date(scope.as_of)}，{scope.label}无督办事项。")
        return 0
    doc.paragraph(f"下表列出{scope.label}内在办及办结的督办事项{len(items)}项；“环节”为本报告生成时"
                  f"（{chinese_date(today)}）的状态。")
    rows = [[n, f"措施{i.measure_no}\n{i.year}年" if i.measure_no else i.subject, i.department, i.reason or ORIGINS.get(i.origin, i.origin), i.opened_on.isoformat(),
             i.feedback_due.isoformat() if i.feedback_due else "—", i.stage + ("（逾期未反馈）" if i.overdue else "")]
            for n, i in enumerate(items, 1)]
    doc.table(["序号", "事项", "责任部门", "督办事由", "立项日期", "反馈期限", "环节"], rows,
              [0.7, 2.0, 2.0, 3.0, 2.9, 2.9, 2.1], title="督办事项清单", center={0, 4, 5, 6})
    return len(items)

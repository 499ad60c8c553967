"""The right-hand panel: everything the plan says about the selected task, measure or yearly target."""

from __future__ import annotations

import re
from html import escape

from PySide6.QtWidgets import QTextBrowser

from qjgb_desktop.services.plan.query import ActionNode, IndicatorInfo, MeasureNode, PlanTree, TargetNode
from qjgb_desktop.services.progress.status_core import cooperating_note

COMPARATOR_TEXT = {">=": "≥", "<=": "≤", "=": "="}
MET_TEXT = {True: "✓ 达标", False: "✕ 未达标", None: "—"}

STYLE = """
<style>
h2 { font-size: 15pt; margin: 0 0 6px 0; }
h3 { font-size: 12pt; margin: 12px 0 4px 0; color: #1f4e79; }
p { margin: 2px 0 6px 0; line-height: 150%; }
.muted { color: #555; }
.note { color: #7a4b00; }
table.ind { border-collapse: collapse; }
table.ind td, table.ind th { border: 1px solid #b8c4d0; padding: 3px 6px; }
table.ind th { background: #e8eef5; }
td.num { text-align: right; }
p.state { font-size: 11pt; background: #f2f5f8; padding: 4px; }
</style>
"""


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def indicator_table(indicators: list[IndicatorInfo], years: list[int], only_year: int | None = None,
                    actuals: dict | None = None) -> str:
    if not indicators:
        return "<p class='muted'>本项无量化指标。</p>"
    shown = [only_year] if only_year else years
    head = "".join(f"<th>{y}年目标</th>" for y in shown)
    if actuals is not None:
        head += "<th>最新实际值</th><th>是否达标</th>"
    rows = []
    for ind in indicators:
        cmp = COMPARATOR_TEXT.get(ind.comparator, ind.comparator)
        cells = "".join(
            f"<td class='num'>{'' if ind.targets.get(y) is None else cmp + ' '}{_fmt(ind.targets.get(y))}"
            f"{'' if ind.targets.get(y) is None else ' ' + escape(ind.unit)}</td>" for y in shown)
        note = f"<br><span class='note'>{escape(ind.note)}</span>" if ind.note else ""
        if actuals is not None:
            row = actuals.get(ind.id) or {}
            latest = row.get("latest")
            cells += (f"<td class='num'>{_fmt(latest['value'])} {escape(ind.unit)}<br>"
                      f"<span class='muted'>{latest['as_of']}</span></td>" if latest else "<td class='num'>未录入</td>")
            cells += f"<td>{MET_TEXT[row.get('met')]}</td>"
        rows.append(f"<tr><td>{escape(ind.name)}{note}</td>{cells}</tr>")
    return f"<table class='ind' cellspacing='0'><tr><th>指标</th>{head}</tr>{''.join(rows)}</table>"


def departments_html(measure: MeasureNode) -> str:
    coop = "、".join(escape(d) for d in measure.cooperating) or "无"
    html = f"<p><b>牵头部门：</b>{escape(measure.lead)}</p><p><b>配合部门：</b>{coop}</p>"
    if measure.department_note:
        html += f"<p class='note'>说明：{escape(measure.department_note)}</p>"
    return html


def highlighted(text: str, words: list[str]) -> str:
    """Escaped text with each search word marked, so a clerk sees why an item matched."""
    html = escape(text)
    escaped = sorted({escape(w) for w in words if w}, key=len, reverse=True)
    if not escaped:
        return html
    pattern = re.compile("|".join(re.escape(w) for w in escaped))  # one pass: no word matches inside a mark
    return pattern.sub(lambda m: f"<span style='background-color:#ffe58f'>{m.group(0)}</span>", html)


class DetailPanel(QTextBrowser):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setObjectName("detailPanel")
        self._tree: PlanTree | None = None
        self._words: list[str] = []
        self._node = None
        self._status = None  # services.status.StatusSnapshot
        self._actuals: dict | None = None  # indicator id -> row of services.indicators.indicator_rows
        self._year: int | None = None  # the year filter: measures and tasks summarise it (else this year)
        self.show_overview()

    def set_year(self, year: int | None) -> None:
        """The year chosen in the filter bar: a measure's or task's state line is for that year, as in the tree."""
        if year != self._year:
            self._year = year
            self._rerender()

    def set_status(self, snap) -> None:
        self._status = snap
        self._rerender()

    def set_actuals(self, rows: dict) -> None:
        self._actuals = rows
        self._rerender()

    def _rerender(self) -> None:
        if self._node is not None:
            bar = self.verticalScrollBar().value()
            self.show_node(self._node)
            self.verticalScrollBar().setValue(bar)

    def _state_line(self, node) -> str:
        snap = self._status
        if snap is None:
            return ""
        if isinstance(node, TargetNode):
            s = snap.targets.get(node.id)
            if s is None:
                return ""
            last = f"，牵头部门最近填报 {s.last_report.isoformat()}（{s.reporting_department}，{s.reporter}）" \
                if s.last_report else f"，牵头部门{s.lead}尚无填报"
            note = cooperating_note(s)
            note = f"<p class='note'>{escape(note)}</p>" if note else ""
            return f"<p class='state'><b>{escape(s.state)}</b> · 完成度 {s.percent}%{last}</p>{note}"
        year = self._year or snap.year
        key = (node.id, year)
        r = (snap.measures if isinstance(node, MeasureNode) else snap.actions).get(key)
        if r is None:
            return ""
        return (f"<p class='state'>{year}年：<b>{escape(r.state)}</b> · 完成度 {r.percent:g}%"
                f"（红 {r.red} · 黄 {r.yellow} · 未填报 {r.not_reported}）</p>")

    def set_highlight(self, keyword: str) -> None:
        words = keyword.split()
        if words != self._words:
            self._words = words
            if self._node is not None:
                self.show_node(self._node)

    def _t(self, text: str) -> str:
        return highlighted(text, self._words)

    def set_tree(self, tree: PlanTree | None) -> None:
        self._tree = tree
        self.show_overview()

    def show_overview(self) -> None:
        self._node = None
        tree = self._tree
        if tree is None:
            self.setHtml(STYLE + "<p class='muted'>尚未载入计划。</p>")
            return
        n_measures = sum(len(a.measures) for a in tree.actions)
        items = "".join(f"<li>（{a.numeral}）{escape(a.title)}：{len(a.measures)} 项措施</li>" for a in tree.actions)
        self.setHtml(STYLE + f"<h2>{escape(tree.title)}</h2><p class='muted'>{escape(tree.status)} · "
                     f"{tree.years[0]}–{tree.years[-1]}年 · {len(tree.actions)} 项改革任务 · {n_measures} 项改革措施 · "
                     f"{n_measures * len(tree.years)} 个年度目标</p><ul>{items}</ul>"
                     "<p class='muted'>在左侧选择任务、措施或年度目标查看详情。</p>")

    def show_node(self, node) -> None:
        if node is not self._node:
            self._actuals = None  # belongs to the previous selection
        self._node = node
        if node is None:
            self.show_overview()
        elif isinstance(node, ActionNode):
            self._show_action(node)
        elif isinstance(node, MeasureNode):
            self._show_measure(node)
        elif isinstance(node, TargetNode):
            self._show_target(node)

    def _years(self) -> list[int]:
        return self._tree.years if self._tree else []

    def _show_action(self, action: ActionNode) -> None:
        rows = "".join(f"<li>{m.no}. {self._t(m.title)} <span class='muted'>（牵头：{escape(m.lead)}）</span></li>"
                       for m in action.measures)
        self.setHtml(STYLE + f"<h2>改革任务（{action.numeral}）{self._t(action.title)}</h2>{self._state_line(action)}"
                     f"<h3>改革措施（{len(action.measures)} 项）</h3><ul>{rows}</ul>")

    def _show_measure(self, m: MeasureNode) -> None:
        targets = "".join(f"<h3>{t.year}年度目标</h3><p>{self._t(t.text)}</p>" for t in m.targets)
        self.setHtml(STYLE + f"<h2>{m.no}. {self._t(m.title)}</h2>{self._state_line(m)}"
                     f"<p class='muted'>改革任务（{m.action.numeral}）{escape(m.action.title)}</p>"
                     f"<h3>责任部门</h3>{departments_html(m)}"
                     f"<h3>措施内容</h3><p>{self._t(m.body)}</p>"
                     f"<h3>量化指标</h3>{indicator_table(m.indicators, self._years(), actuals=self._actuals)}"
                     f"{targets}")

    def _show_target(self, t: TargetNode) -> None:
        m = t.measure
        in_year = [i for i in m.indicators if t.year in i.targets]
        self.setHtml(STYLE + f"<h2>{t.year}年度目标</h2>{self._state_line(t)}"
                     f"<p class='muted'>{m.no}. {escape(m.title)} · 改革任务（{m.action.numeral}）"
                     f"{escape(m.action.title)}</p>"
                     f"<h3>目标内容</h3><p>{self._t(t.text)}</p>"
                     f"<h3>责任部门</h3>{departments_html(m)}"
                     f"<h3>本年度量化指标</h3>"
                     f"{indicator_table(in_year, self._years(), only_year=t.year, actuals=self._actuals)}")

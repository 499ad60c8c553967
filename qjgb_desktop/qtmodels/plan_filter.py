"""Filtering the plan tree by department, year and keyword.

A row stays when it passes every active filter itself; Qt's recursive filtering then keeps its ancestors
visible. A keyword that matches a measure's title keeps the whole measure (its targets too), so a search
for a measure shows what it contains; a keyword that matches one target's text keeps that target only.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from qjgb_desktop.qtmodels.plan_tree import COL_NAME, NodeRole
from qjgb_desktop.qtmodels.rows import filter_change
from qjgb_desktop.services.plan.query import ActionNode, MeasureNode, TargetNode

ROLE_ANY, ROLE_LEAD, ROLE_COOPERATING = "any", "lead", "cooperating"


class PlanFilterProxy(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        # What the filter looks at (titles, texts, departments, years) never changes with progress, so a
        # status update need not re-run it for every row; criteria changes re-filter explicitly.
        self.setDynamicSortFilter(False)
        self._department: str | None = None
        self._role = ROLE_ANY
        self._year: int | None = None
        self._keyword = ""

    # -- criteria ---------------------------------------------------------------------------------
    def set_department(self, name: str | None, role: str = ROLE_ANY) -> None:
        if (name or None, role) != (self._department, self._role):
            with filter_change(self):
                self._department, self._role = name or None, role

    def set_year(self, year: int | None) -> None:
        if year != self._year:
            with filter_change(self):
                self._year = year

    def set_keyword(self, text: str) -> None:
        text = text.strip()
        if text != self._keyword:
            with filter_change(self):
                self._keyword = text

    def keyword(self) -> str:
        return self._keyword

    def is_filtering(self) -> bool:
        return bool(self._department or self._year or self._keyword)

    # -- the rule ---------------------------------------------------------------------------------
    def _department_ok(self, measure: MeasureNode) -> bool:
        if not self._department:
            return True
        if self._role == ROLE_LEAD:
            return measure.lead == self._department
        if self._role == ROLE_COOPERATING:
            return self._department in measure.cooperating
        return self._department in measure.departments

    def _keyword_hits(self, node) -> bool:
        words = self._keyword.split()
        text = node.text if isinstance(node, TargetNode) else node.title
        return all(w in text for w in words)

    def accepts_node(self, node) -> bool:
        if isinstance(node, ActionNode):
            if self._department or self._year:
                return False  # shown only through a measure or target that passes
            return not self._keyword or self._keyword_hits(node)
        measure = node if isinstance(node, MeasureNode) else node.measure
        if not self._department_ok(measure):
            return False
        if isinstance(node, MeasureNode):
            if self._year and not self._keyword:
                return False  # shown through its target of that year
        elif self._year and node.year != self._year:
            return False
        if not self._keyword:
            return True
        chain = [node, measure, measure.action] if isinstance(node, TargetNode) else [node, node.action]
        return any(self._keyword_hits(n) for n in chain)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self.is_filtering():
            return True
        index = self.sourceModel().index(source_row, 0, source_parent)
        return self.accepts_node(index.data(NodeRole))

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        """While searching, a target row shows the passage around the match instead of its first sentence."""
        if self._keyword and role == Qt.ItemDataRole.DisplayRole and index.column() == COL_NAME:
            node = index.data(NodeRole)
            if isinstance(node, TargetNode):
                snippet = match_snippet(node.text, self._keyword.split()[0])
                if snippet:
                    return f"{node.year}年：{snippet}"
        return super().data(index, role)


def match_snippet(text: str, word: str, before: int = 12, after: int = 40) -> str | None:
    pos = text.find(word)
    if pos < 0:
        return None
    start = max(0, pos - before)
    end = min(len(text), pos + len(word) + after)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")

"""The plan as a Qt tree: 任务 → 措施 → 年度目标, over the plain PlanTree from services.plan_query.

Indexes carry an integer id (kind * KIND_STRIDE + database id) rather than a Python object pointer, so an
index never outlives the object it points at. Later columns (progress, lights) are added by extending COLUMNS
and data(); edits must emit dataChanged for the rows they touch, never reset the model.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

from qjgb_desktop.qtmodels.lights import state_icon
from qjgb_desktop.services.plan.query import ActionNode, MeasureNode, PlanTree, TargetNode

COL_NAME, COL_LEAD, COL_YEAR, COL_PERCENT, COL_STATE, COL_LAST, COL_EVIDENCE = range(7)
COLUMNS = ("名称", "牵头部门", "年度", "完成度", "状态", "最近填报", "佐证")
STATUS_COLUMNS = (COL_PERCENT, COL_STATE, COL_LAST, COL_EVIDENCE)

KIND_ACTION, KIND_MEASURE, KIND_TARGET = 1, 2, 3
KIND_STRIDE = 10_000_000

NodeRole = Qt.ItemDataRole.UserRole + 1  # the ActionNode / MeasureNode / TargetNode itself
KindRole = Qt.ItemDataRole.UserRole + 2
IdRole = Qt.ItemDataRole.UserRole + 3  # database id of the action, measure or yearly target
SearchTextRole = Qt.ItemDataRole.UserRole + 4  # what the keyword filter looks in
StateRole = Qt.ItemDataRole.UserRole + 5  # the row's state (已完成, 正常 …) or None
# "2026年" on a measure or action row when the year filter is 全部年度: the year its state and percent are for
# (the state column shows it beside the state; the display text stays the state's name).
YearLabelRole = Qt.ItemDataRole.UserRole + 6

Node = ActionNode | MeasureNode | TargetNode


def node_kind(node: Node) -> int:
    if isinstance(node, ActionNode):
        return KIND_ACTION
    if isinstance(node, MeasureNode):
        return KIND_MEASURE
    return KIND_TARGET


def first_sentence(text: str, limit: int = 60) -> str:
    head = text.split("。", 1)[0]
    return head if len(head) <= limit else head[:limit] + "…"


class PlanTreeModel(QAbstractItemModel):
    def __init__(self, tree: PlanTree | None = None, parent=None) -> None:
        super().__init__(parent)
        self._tree: PlanTree | None = None
        self._nodes: dict[int, Node] = {}
        self._parents: dict[int, int] = {}  # key -> parent key (0 for top level)
        self._rows: dict[int, int] = {}
        self._status = None  # services.status.StatusSnapshot
        self._year: int | None = None  # the year measure and action rows summarise
        if tree is not None:
            self.set_tree(tree)

    # -- data source --------------------------------------------------------------------------------
    def set_tree(self, tree: PlanTree) -> None:
        """Replace the whole plan (only when a different plan is loaded, not on edits)."""
        self.beginResetModel()
        self._tree = tree
        self._nodes.clear()
        self._parents.clear()
        self._rows.clear()
        for ar, action in enumerate(tree.actions):
            akey = self._register(action, 0, ar)
            for mr, measure in enumerate(action.measures):
                mkey = self._register(measure, akey, mr)
                for tr, target in enumerate(measure.targets):
                    self._register(target, mkey, tr)
        self.endResetModel()

    def tree(self) -> PlanTree | None:
        return self._tree

    # -- status columns ---------------------------------------------------------------------------------
    def set_status(self, snapshot, year: int | None = None) -> None:
        """Show a new status snapshot; only rows whose figures changed are signalled (selection stays)."""
        old = {key: self._status_values(node) for key, node in self._nodes.items()}
        self._status = snapshot
        if year is not None:
            self._year = year
        self._signal_changed(old)

    def set_year(self, year: int | None) -> None:
        """Which year measure and action rows summarise (the year filter, else the snapshot's year)."""
        if year == self._year:
            return
        old = {key: self._status_values(node) for key, node in self._nodes.items()}
        self._year = year
        self._signal_changed(old)

    def status(self):
        return self._status

    def focus_year(self) -> int | None:
        if self._year is not None:
            return self._year
        return self._status.year if self._status else None

    def _signal_changed(self, old: dict) -> None:
        """One dataChanged per parent, spanning its changed rows (fewer signals than one per row)."""
        first, last = STATUS_COLUMNS[0], STATUS_COLUMNS[-1]
        spans: dict[int, list[int]] = {}  # parent key -> [first changed key, last changed key]
        for key, node in self._nodes.items():
            if self._status_values(node) != old.get(key):
                span = spans.setdefault(self._parents[key], [key, key])
                if self._rows[key] < self._rows[span[0]]:
                    span[0] = key
                if self._rows[key] > self._rows[span[1]]:
                    span[1] = key
        for top, bottom in spans.values():
            self.dataChanged.emit(self.createIndex(self._rows[top], first, top),
                                  self.createIndex(self._rows[bottom], last, bottom))

    def _status_values(self, node: Node) -> tuple | None:
        """(state, percent, last report date, evidence count, year label) of a row, or None before the first
        snapshot. Measures and actions show the focus year's state, labelled with that year when no year is
        chosen; their evidence count covers all years."""
        snap = self._status
        if snap is None:
            return None
        files = snap.evidence
        if isinstance(node, TargetNode):
            s = snap.targets.get(node.id)
            return (s.state, s.percent, s.last_report, files.get(node.id, 0), None) if s else None
        year = self.focus_year()
        label = f"{year}年" if self._year is None else None
        if isinstance(node, MeasureNode):
            r = snap.measures.get((node.id, year))
            if r is None:
                return None
            last = max((snap.targets[t.id].last_report for t in node.targets
                        if t.year == year and snap.targets.get(t.id) and snap.targets[t.id].last_report),
                       default=None)
            return (r.state, r.percent, last, sum(files.get(t.id, 0) for t in node.targets), label)
        r = snap.actions.get((node.id, year))
        count = sum(files.get(t.id, 0) for m in node.measures for t in m.targets)
        return (r.state, r.percent, None, count, label) if r else None

    def _register(self, node: Node, parent_key: int, row: int) -> int:
        key = node_kind(node) * KIND_STRIDE + node.id
        self._nodes[key] = node
        self._parents[key] = parent_key
        self._rows[key] = row
        return key

    @staticmethod
    def key_of(node: Node) -> int:
        return node_kind(node) * KIND_STRIDE + node.id

    def node(self, index: QModelIndex | QPersistentModelIndex) -> Node | None:
        if not index.isValid():
            return None
        return self._nodes.get(index.internalId())

    def _children(self, node: Node | None) -> list:
        if node is None:
            return self._tree.actions if self._tree else []
        if isinstance(node, ActionNode):
            return node.measures
        if isinstance(node, MeasureNode):
            return node.targets
        return []

    def index_of(self, node: Node, column: int = 0) -> QModelIndex:
        key = self.key_of(node)
        if key not in self._nodes:
            return QModelIndex()
        return self.createIndex(self._rows[key], column, key)

    def index_of_key(self, key: int, column: int = 0) -> QModelIndex:
        """The index of the row with this key (see key_of), or an invalid index when the plan has no such row."""
        if key not in self._nodes:
            return QModelIndex()
        return self.createIndex(self._rows[key], column, key)

    def measure_index(self, no: int) -> QModelIndex:
        measure = self._tree.measure(no) if self._tree else None
        return self.index_of(measure) if measure else QModelIndex()

    # -- QAbstractItemModel ---------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()):
        if column < 0 or column >= len(COLUMNS) or row < 0:
            return QModelIndex()
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        children = self._children(self.node(parent) if parent.isValid() else None)
        if row >= len(children):
            return QModelIndex()
        return self.createIndex(row, column, self.key_of(children[row]))

    def parent(self, index: QModelIndex | QPersistentModelIndex = QModelIndex()):  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        parent_key = self._parents.get(index.internalId(), 0)
        if not parent_key:
            return QModelIndex()
        return self.createIndex(self._rows[parent_key], 0, parent_key)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._children(self.node(parent) if parent.isValid() else None))

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return len(COLUMNS)

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return self.rowCount(parent) > 0

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        node = self.node(index)
        if node is None:
            return None
        col = index.column()
        if role == NodeRole:
            return node
        if role == KindRole:
            return node_kind(node)
        if role == IdRole:
            return node.id
        if role == SearchTextRole:
            return self._search_text(node)
        if col in STATUS_COLUMNS or role == StateRole:
            return self._status_data(node, col, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(node, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node, col)
        return None

    def _status_data(self, node: Node, col: int, role: int):
        values = self._status_values(node)
        if values is None:
            return None
        state, percent, last, files, label = values
        if role == StateRole:
            return state
        if role == YearLabelRole:
            return label if col == COL_STATE else None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_PERCENT:
                return f"{percent:g}%"
            if col == COL_STATE:
                return state  # the icon carries colour and shape
            if col == COL_LAST:
                return last.isoformat() if last else "—"
            if col == COL_EVIDENCE:
                return str(files) if files else ""
        if role == Qt.ItemDataRole.DecorationRole and col == COL_STATE:
            return state_icon(state)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_PERCENT, COL_EVIDENCE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if isinstance(node, TargetNode):
                return f"{node.year}年度目标：{state}，完成度 {percent:g}%"
            return f"{self.focus_year()}年：完成度 {percent:g}%，{state}（{'措施' if isinstance(node, MeasureNode) else '任务'}" \
                   f"汇总该年度目标）"
        return None

    @staticmethod
    def _display(node: Node, col: int) -> str | None:
        if isinstance(node, ActionNode):
            return f"（{node.numeral}）{node.title}" if col == COL_NAME else ""
        if isinstance(node, MeasureNode):
            if col == COL_NAME:
                return f"{node.no}. {node.title}"
            if col == COL_LEAD:
                return node.lead
            return ""
        if col == COL_NAME:
            return f"{node.year}年：{first_sentence(node.text)}"
        if col == COL_LEAD:
            return node.measure.lead
        return f"{node.year}"

    @staticmethod
    def _tooltip(node: Node, col: int) -> str | None:
        if col == COL_LEAD and not isinstance(node, ActionNode):
            m = node if isinstance(node, MeasureNode) else node.measure
            return f"牵头：{m.lead}\n配合：{'、'.join(m.cooperating) or '无'}"
        if isinstance(node, MeasureNode):
            return f"{node.no}. {node.title}"
        if isinstance(node, TargetNode):
            return f"{node.measure.no}. {node.measure.title} · {node.year}年度目标\n{node.text}"
        return node.title

    @staticmethod
    def _search_text(node: Node) -> str:
        if isinstance(node, TargetNode):
            return node.text
        return node.title

"""督办事项: the items on their way from 立项 to 办结, each with its steps; the forms for every step.

One panel serves the 督办 tab (every item, filtered by stage, department or overdue) and the plan's bottom tabs
(the items of the selected target: its 督办 history). Writes go through ctx.write (one transaction, then every
view refreshes); a refused step says why in the form and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop.errors import UserError
from qjgb_desktop.ui.widgets.dialog_parts import (
    GuardedDialog,
    date_field,
    error_banner,
    picked_date,
    row_table,
    save_cancel,
)

ItemIdRole = Qt.ItemDataRole.UserRole + 11
TargetIdRole = Qt.ItemDataRole.UserRole + 12
LATE = QColor("#B23B00")
FILTERS = (("未办结", {"open_only": True}), ("逾期未反馈", {"overdue_only": True}), ("全部", {}),
           ("立项", {"stage": "立项"}), ("交办", {"stage": "交办"}), ("反馈", {"stage": "反馈"}),
           ("继续督办", {"stage": "继续督办"}), ("办结", {"stage": "办结"}))


def _cell(text, item_id: int | None = None, target_id: int | None = None, tooltip: str = "") -> QStandardItem:
    cell = QStandardItem(str(text))
    cell.setEditable(False)
    cell.setToolTip(tooltip or str(text))
    cell.setData(item_id, ItemIdRole)
    cell.setData(target_id, TargetIdRole)
    return cell


class SupervisionItemsPanel(QWidget):
    """The items with their steps. `target_mode` shows one target's items (set_target) without the filters."""

    target_activated = Signal(int)
    changed = Signal()
    HEADERS = ("编号", "督办部门", "事项", "当前环节", "立项日期", "反馈期限", "立项原因")

    def __init__(self, ctx, parent=None, target_mode: bool = False) -> None:
        super().__init__(parent)
        self.ctx, self.target_mode = ctx, target_mode
        self._target = None  # TargetNode in target mode
        self._items: dict[int, object] = {}
        self.pick_target = lambda: None  # the window sets: the target selected elsewhere (督办 list)
        self.stage = QComboBox(objectName="supervisionStage")
        for label, _ in FILTERS:
            self.stage.addItem(label)
        self.department = QComboBox(objectName="supervisionDepartment")
        self.department.addItem("全部部门", None)
        self.summary = QLabel(objectName="supervisionSummary")
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(self.HEADERS)
        self.table = row_table(self.model, "supervisionItems")
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # one line per item, as in the other lists
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(self.HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.steps = QPlainTextEdit(objectName="supervisionSteps", readOnly=True)
        self.steps.setPlaceholderText("选中一项督办事项，这里列出它的每一步：日期、环节、经办人、内容。")
        self.buttons = {}
        row = QHBoxLayout()
        for key, label in (("open", "立项…"), ("交办", "交办…"), ("反馈", "反馈…"), ("继续督办", "继续督办…"),
                           ("办结", "办结…")):
            button = QPushButton(label, objectName=f"supervision_{key}")
            button.clicked.connect(lambda _c=False, k=key: self.start_step(k))
            self.buttons[key] = button
            row.addWidget(button)
        if not target_mode:
            self.auto = QPushButton("为全部滞后目标立项", objectName="supervisionAuto")
            self.auto.setToolTip("为每个滞后、逾期、未填报且尚无未办结事项的年度目标立项（交其牵头部门）")
            self.auto.clicked.connect(self.open_for_all)
            row.addWidget(self.auto)
            self.register = QPushButton("发文登记…", objectName="supervisionNoticeRegister")
            self.register.setToolTip("已登记的督办通知单及其文号")
            self.register.clicked.connect(self.show_notice_register)
            row.addWidget(self.register)
        row.addStretch(1)
        top = QHBoxLayout()
        if not target_mode:
            top.addWidget(QLabel("环节"))
            top.addWidget(self.stage)
            top.addWidget(QLabel("部门"))
            top.addWidget(self.department)
        top.addWidget(self.summary, 1)
        split = QSplitter(Qt.Orientation.Horizontal if not target_mode else Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.steps)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0) if target_mode else layout.setContentsMargins(9, 0, 9, 6)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        self.stage.currentIndexChanged.connect(lambda _i: self.reload())
        self.department.currentIndexChanged.connect(lambda _i: self.reload())
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._show_selected())
        self.table.doubleClicked.connect(self._activated)
        ctx.data_changed.connect(self.reload)  # every write, here or on another PC sharing the database
        ctx.database_ready.connect(self.reload)
        self._show_selected()

    def show_notice_register(self):
        from qjgb_desktop.ui.documents.document_dialogs import show_notice_register

        return show_notice_register(self, self.ctx)

    # -- data ---------------------------------------------------------------------------------------
    def set_departments(self, names: list[str]) -> None:
        current = self.department.currentData()
        self.department.blockSignals(True)
        self.department.clear()
        self.department.addItem("全部部门", None)
        for name in names:
            self.department.addItem(name, name)
        self.department.setCurrentIndex(max(0, self.department.findData(current)))
        self.department.blockSignals(False)

    def set_target(self, target) -> None:
        self._target = target
        self.reload()

    def reload(self) -> None:
        if self.ctx.db is None:
            return
        from qjgb_desktop.services.supervision.items import list_items

        today = self.ctx.today()
        if self.target_mode:
            if self._target is None:
                self._fill([])
                return
            target_id = self._target.id
            self.ctx.read(lambda s: list_items(s, today, target_id=target_id), self._fill, key=f"items-{id(self)}")
            return
        filters = dict(FILTERS[self.stage.currentIndex()][1])
        department = self.department.currentData()
        self.ctx.read(lambda s: list_items(s, today, department=department, **filters), self._fill,
                      key=f"items-{id(self)}")

    def _fill(self, items) -> None:
        chosen = self.selected_item()
        chosen_id = chosen.id if chosen else None
        self._items = {i.id: i for i in items}
        self.model.removeRows(0, self.model.rowCount())
        for i in items:
            due = i.feedback_due.isoformat() if i.feedback_due and i.stage != "办结" else "—"
            cells = [_cell(f"#{i.id}", i.id, i.target_id), _cell(i.department, i.id, i.target_id),
                     _cell(i.subject, i.id, i.target_id),
                     _cell(i.stage + ("（逾期）" if i.overdue else ""), i.id, i.target_id),
                     _cell(i.opened_on.isoformat(), i.id, i.target_id),
                     _cell(due, i.id, i.target_id, "已过反馈期限仍未反馈" if i.overdue else ""),
                     _cell(i.reason or "—", i.id, i.target_id, i.reason)]
            if i.overdue:
                for c in cells:
                    c.setForeground(QBrush(LATE))
            self.model.appendRow(cells)
        late = sum(i.overdue for i in items)
        open_ = sum(i.stage != "办结" for i in items)
        self.summary.setText(("" if self.target_mode else "督办事项：") + f"{len(items)} 项，未办结 {open_} 项"
                             + (f"，逾期未反馈 {late} 项" if late else "") + ("。双击一行可在计划中查看。" if items else ""))
        ids = [i.id for i in items]
        if chosen_id in ids:
            self.table.selectRow(ids.index(chosen_id))
        self._show_selected()

    def selected_item(self):
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self._items.get(index.siblingAtColumn(0).data(ItemIdRole))

    def _show_selected(self) -> None:
        item = self.selected_item()
        allowed = ()
        if item is not None:  # (imported only then: the window's first paint stays free of SQLAlchemy)
            from qjgb_desktop.services.supervision.items import NEXT

            allowed = NEXT.get(item.stage, ())
        for kind, button in self.buttons.items():
            button.setEnabled(self.ctx.db is not None and (kind == "open" or kind in allowed))
        if item is None:
            self.steps.setPlainText("")
            return
        lines = [f"督办事项 #{item.id} · {item.department} · {item.subject}", f"立项原因：{item.reason or '—'}", ""]
        for s in item.steps:
            text = s.summary()
            lines.append(f"{s.day.isoformat()}  {s.kind}  经办：{s.actor}（记录于 {s.at:%Y-%m-%d %H:%M}）")
            if text:
                lines.append(f"    {text}")
        if item.overdue:
            lines += ["", f"已过反馈期限 {item.feedback_due.isoformat()}，尚未反馈。"]
        self.steps.setPlainText("\n".join(lines))

    def _activated(self, index) -> None:
        target_id = index.siblingAtColumn(0).data(TargetIdRole)
        if target_id is not None:
            self.target_activated.emit(int(target_id))

    # -- steps --------------------------------------------------------------------------------------
    def start_step(self, kind: str):
        if self.ctx.db is None:
            return None
        item = self.selected_item()
        if kind != "open" and item is None:
            return None
        target = self._target if self.target_mode else self.pick_target()
        dialog = StepDialog(self.ctx, kind, item, target, self)
        dialog.saved.connect(lambda _view: self.changed.emit())  # ctx.write has refreshed the views already
        dialog.open()
        return dialog

    def open_for_all(self) -> int:
        from qjgb_desktop.services.supervision.items import open_from_follow_ups

        today, user = self.ctx.today(), self.ctx.user
        try:
            made = self.ctx.write(lambda s: open_from_follow_ups(s, user, today))
        except UserError as exc:  # refused for the logged-in account (access.py): said where it was asked
            self.summary.setText(f"未立项：{exc}")
            return 0
        self.summary.setText(f"已为 {len(made)} 个滞后、逾期或未填报的年度目标立项" if made else "没有需要新立项的年度目标")
        self.changed.emit()
        return len(made)


class StepDialog(GuardedDialog):
    """The form of one step: 立项 (for a target, or a department with a reason), 交办, 反馈, 继续督办, 办结."""

    saved = Signal(object)
    TITLES = {"open": "督办立项", "交办": "交办", "反馈": "记录反馈", "继续督办": "继续督办", "办结": "办结"}

    def __init__(self, ctx, kind: str, item=None, target=None, parent=None) -> None:
        super().__init__(parent)
        self.ctx, self.kind, self.item, self.target = ctx, kind, item, target
        self.setObjectName("supervisionStepDialog")
        subject = f"督办事项 #{item.id} · {item.department} · {item.subject}" if item and kind != "open" else ""
        self.setWindowTitle(self.TITLES[kind] + (f" · #{item.id}" if subject else ""))
        self.errors = error_banner("supervisionErrors")
        form = QFormLayout()
        if subject:
            form.addRow(QLabel(subject))
        today = ctx.today()
        self.day = date_field(today, "stepDate")
        form.addRow("日期", self.day)
        self.fields = {}
        if kind == "open":
            self.for_target = QCheckBox(objectName="openForTarget")
            if target is not None:
                self.for_target.setText(f"措施{target.measure.no}·{target.year}年度目标（交牵头部门 {target.measure.lead}）")
                self.for_target.setChecked(True)
            else:
                self.for_target.setText("（未选中年度目标：请在督办清单或计划中先选中一项，或按部门立项）")
                self.for_target.setEnabled(False)
            form.addRow("年度目标", self.for_target)
            self.fields["department"] = dept = QComboBox(objectName="openDepartment")
            tree = getattr(parent, "window", lambda: None)()
            names = [d.name for d in _departments(tree)]
            dept.addItems(names)
            form.addRow("督办部门", dept)
            self.for_target.toggled.connect(lambda on: dept.setEnabled(not on))
            dept.setEnabled(not self.for_target.isChecked())
            self.fields["reason"] = QPlainTextEdit(objectName="openReason")
            form.addRow("立项原因", self.fields["reason"])
        elif kind == "交办":
            self.fields["to_whom"] = QLineEdit(objectName="assignTo", placeholderText="部门联系人，如 区教委 李科长")
            form.addRow("交办对象", self.fields["to_whom"])
            self.due = date_field(today + timedelta(days=_feedback_days(ctx)), "feedbackDue")
            form.addRow("反馈期限", self.due)
            self.notice = QLineEdit(objectName="noticeFile", placeholderText="可不选；记录文件名和校验值")
            browse = QPushButton("选择…")
            browse.clicked.connect(self._browse)
            box = QHBoxLayout()
            box.addWidget(self.notice, 1)
            box.addWidget(browse)
            form.addRow("督办通知单", box)
        elif kind == "反馈":
            self.fields["answer"] = QPlainTextEdit(objectName="answerText")
            form.addRow("反馈内容", self.fields["answer"])
            self.evidence = QListWidget(objectName="answerEvidence")
            form.addRow("佐证材料", self.evidence)
            hint = QLabel("勾选该年度目标已上传的佐证材料；新的材料请先在计划页“佐证材料”中添加。")
            hint.setWordWrap(True)
            form.addRow("", hint)
            self._load_evidence()
        else:
            self.fields["note"] = QPlainTextEdit(objectName="stepNote")
            form.addRow("理由" if kind == "继续督办" else "办结意见", self.fields["note"])
            if kind == "继续督办":
                self.due = date_field(today + timedelta(days=_feedback_days(ctx)), "feedbackDue")
                form.addRow("新的反馈期限", self.due)
        layout = QVBoxLayout(self)
        layout.addWidget(self.errors)
        layout.addLayout(form)
        layout.addWidget(save_cancel(self, "保存"))
        self.resize(520, 360)
        self.remember_state()

    def form_state(self) -> object:
        values = []
        for w in self.fields.values():
            values.append(w.toPlainText() if isinstance(w, QPlainTextEdit) else
                          w.text() if isinstance(w, QLineEdit) else w.currentIndex())
        return tuple(values) + ((self.notice.text(),) if hasattr(self, "notice") else ())

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "选择督办通知单文件", "", "Word 文档 (*.docx *.doc *.wps);;所有文件 (*)")
        if name:
            self.notice.setText(name)

    def _load_evidence(self) -> None:
        if self.item is None or self.item.target_id is None:
            return
        from qjgb_desktop.services.evidence.records import list_evidence

        with self.ctx.db.sessions() as s:
            files = list_evidence(s, target_id=self.item.target_id)
        for f in files:
            entry = QListWidgetItem(f"#{f.id} {f.original_name}")
            entry.setData(Qt.ItemDataRole.UserRole, f.id)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Unchecked)
            self.evidence.addItem(entry)

    def accept(self) -> None:
        from pathlib import Path

        from qjgb_desktop.services.supervision import items as svc

        day, user = picked_date(self.day), self.ctx.user
        f = self.fields
        item_id = self.item.id if self.item else None
        try:
            if self.kind == "open":
                on_target = self.for_target.isChecked() and self.target is not None
                reason = f["reason"].toPlainText()
                kwargs = ({"target_id": self.target.id, "origin": "target"} if on_target else
                          {"department": f["department"].currentText(), "origin": "manual"})
                view = self.ctx.write(lambda s: svc.open_item(s, user, day, reason=reason, **kwargs))
            elif self.kind == "交办":
                notice = Path(self.notice.text().strip()) if self.notice.text().strip() else None
                to_whom, due = f["to_whom"].text(), picked_date(self.due)
                view = self.ctx.write(lambda s: svc.assign(s, item_id, user, day, to_whom, notice, due))
            elif self.kind == "反馈":
                ids = [self.evidence.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.evidence.count())
                       if self.evidence.item(i).checkState() == Qt.CheckState.Checked]
                text = f["answer"].toPlainText()
                view = self.ctx.write(lambda s: svc.answer(s, item_id, user, day, text, ids))
            elif self.kind == "继续督办":
                note, due = f["note"].toPlainText(), picked_date(self.due)
                view = self.ctx.write(lambda s: svc.continue_item(s, item_id, user, day, note, due))
            else:
                note = f["note"].toPlainText()
                view = self.ctx.write(lambda s: svc.close(s, item_id, user, day, note))
        except (svc.SupervisionError, UserError) as exc:  # UserError: refused for the logged-in account
            self.errors.setText(f"未保存：{exc}")
            self.errors.show()
            return
        self.saved.emit(view)  # after the commit
        super().accept()


def _departments(window):
    from qjgb_desktop.services.plan.query import departments_by_load

    model = getattr(window, "model", None)
    return departments_by_load(model.tree() if model is not None else None)


def _feedback_days(ctx) -> int:
    from qjgb_desktop.services.settings.record import load_settings

    with ctx.db.sessions() as s:
        return load_settings(s).feedback_days


"""Excel in the window: export for leaders, send templates, import returns with a preview the reviewer checks.

Reading, writing and committing run in the background with a busy dialog; the preview shows every row as
新增 / 修改 / 无变化 / 错误 with its reason; the reviewer unticks rows to send back (退回), and the import is
one transaction."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
)

from qjgb_desktop.ui.widgets.file_dialogs import existing_folder, open_file_names, save_file_name

RowRole = Qt.ItemDataRole.UserRole + 1


def _busy(parent, text: str) -> QProgressDialog:
    dialog = QProgressDialog(text, None, 0, 0, parent)
    dialog.setWindowTitle("请稍候")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setCancelButton(None)
    return dialog


def export_excel(window, out: str | None = None) -> None:
    from qjgb_desktop.services.collection.export import export_workbook

    ctx = window.ctx
    if out is None:
        out = save_file_name(window, "excel-export", "导出 Excel", f"强基固本进展-{ctx.today().isoformat()}.xlsx",
                             "Excel 工作簿 (*.xlsx)")
    if not out or ctx.db is None:
        return
    path = Path(out if out.lower().endswith(".xlsx") else out + ".xlsx")
    busy = _busy(window, "正在导出 Excel…")
    sessions, today, year = ctx.db.sessions, ctx.today(), window.model.focus_year()

    def job():
        with sessions() as s:
            return export_workbook(s, path, year=year, today=today)
    ctx.workers.run(job, lambda counts: (busy.reset(), window.statusBar().showMessage(
        f"已导出 {path.name}（进展明细 {counts['进展明细']} 行）", 8000)),
                    lambda exc: (busy.reset(), QMessageBox.warning(window, "未导出", str(exc))))


class TemplateDialog(QDialog):
    """Choose the period and the department (or all) for the fill-in templates."""

    def __init__(self, window) -> None:
        super().__init__(window)
        from qjgb_desktop.domain.periods import periods_in

        self.setWindowTitle("下发填报模板")
        snap = window.model.status()
        self.period = QComboBox(objectName="templatePeriod")
        codes = [p.code for p in periods_in(window.model.tree().years)]
        self.period.addItems(codes)
        if snap is not None and snap.period.code in codes:
            self.period.setCurrentText(snap.period.code)
        self.department = QComboBox(objectName="templateDepartment")
        self.department.addItem("全部部门（每个部门一个文件）", None)
        for name in window.model.tree().departments:
            self.department.addItem(name, name)
        form = QFormLayout(self)
        form.addRow("填报周期", self.period)
        form.addRow("部门", self.department)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("生成…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def send_templates(window, period: str, department: str | None, out: str) -> None:
    from qjgb_desktop.services.collection.templates import write_template, write_templates

    ctx = window.ctx
    busy = _busy(window, "正在生成模板…")
    sessions, departments = ctx.db.sessions, window.model.tree().departments

    def job():
        with sessions() as s:
            if department:
                write_template(s, department, period, Path(out))
                return 1
            return len(write_templates(s, departments, period, Path(out)))
    ctx.workers.run(job, lambda n: (busy.reset(), window.statusBar().showMessage(f"已生成 {n} 个模板到 {out}", 8000)),
                    lambda exc: (busy.reset(), QMessageBox.warning(window, "未生成", str(exc))))


def ask_and_send_templates(window) -> None:
    dialog = TemplateDialog(window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return
    period, department = dialog.period.currentText(), dialog.department.currentData()
    if department:
        out = save_file_name(window, "templates", "保存模板", f"{department}-{period}-进展填报.xlsx",
                             "Excel 工作簿 (*.xlsx)")
    else:
        out = existing_folder(window, "templates", "选择存放模板的文件夹")
    if out:
        send_templates(window, period, department, out)


class _KindFilter(QSortFilterProxyModel):
    """Files always; their rows by result kind."""

    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.kinds: set[str] | None = None

    def set_kinds(self, kinds: set[str] | None) -> None:
        from qjgb_desktop.qtmodels.rows import filter_change

        with filter_change(self, rows_only=True):
            self.kinds = kinds

    def filterAcceptsRow(self, source_row, source_parent) -> bool:  # noqa: N802 (Qt's name)
        if not source_parent.isValid() or self.kinds is None:
            return True
        data = self.sourceModel().index(source_row, 0, source_parent).data(RowRole)
        return data is not None and data[1].kind in self.kinds


def _changes_text(changes, limit: int = 24) -> str:
    return "；".join(c.summary(limit, "空") for c in changes)


class ImportDialog(QDialog):
    """The preview of returned templates: every row's result, what a changed row changes (before → after), the
    whole problem text in a detail pane, counts per department, a filter to errors; tick what to import, untick
    what to send back."""

    HEADERS = ("文件 / 行", "目标", "结果", "变更（原 → 新）", "说明")
    FILTERS = (("待导入、错误和已报（不含未填）", "default"), ("仅错误", "errors"), ("仅新增和修改", "writes"),
               ("全部（含未填）", "all"))

    def __init__(self, window, previews: list) -> None:
        super().__init__(window)
        from qjgb_desktop.services.collection.returns import CHANGED, EMPTY, ERROR, NEW, UNCHANGED

        self.kinds = {"default": {NEW, CHANGED, UNCHANGED, ERROR}, "errors": {ERROR}, "writes": {NEW, CHANGED},
                      "all": None}
        self.setObjectName("importDialog")
        self.window_ = window
        self.previews = previews
        self.setWindowTitle("导入交回的模板 · 预览")
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(self.HEADERS)
        for p in previews:
            counts = p.counts()
            head = QStandardItem(p.file.name)
            head.setData((p, None), RowRole)
            cells = [head] + [QStandardItem("") for _ in self.HEADERS[1:]]
            cells[1].setText(f"{p.department} {p.period}".strip())
            if p.errors:
                cells[2].setText("整份文件错误")
                cells[2].setForeground(Qt.GlobalColor.red)
                cells[4].setText("；".join(p.errors))
            else:
                cells[2].setText("已导入过" if p.already_imported else "已被取代" if p.superseded_by else
                                 "其他周期" if p.other_period else "文件")
                cells[3].setText("，".join(f"{k} {counts[k]}" for k in (NEW, CHANGED, UNCHANGED, EMPTY, ERROR)))
                if p.already_imported:
                    cells[4].setText("此文件已导入过，不会重复导入")
                elif p.superseded_by:
                    cells[4].setText(f"同一模板另有后保存的一份“{p.superseded_by}”，以其为准，本文件不导入")
                elif p.other_period:
                    cells[2].setForeground(Qt.GlobalColor.darkYellow)
                    cells[4].setText(f"是 {p.period} 的模板，不是本次回收的 {p.other_period} 周期：默认不导入；"
                                     "确需补录，请勾选其中要导入的行")
            for item in cells:
                item.setEditable(False)
                item.setToolTip(item.text())
            self.model.appendRow(cells)
            for r in p.rows:
                first = QStandardItem(f"{r.sheet} 第{r.row}行")
                first.setData((p, r), RowRole)
                if r.kind in (NEW, CHANGED) and not p.already_imported and not p.errors and not p.superseded_by:
                    first.setCheckable(True)  # another period's rows wait for an explicit tick
                    first.setCheckState(Qt.CheckState.Unchecked if p.other_period else Qt.CheckState.Checked)
                row = [first, QStandardItem(r.label), QStandardItem(r.kind), QStandardItem(_changes_text(r.changes)),
                       QStandardItem(r.reason)]
                for item in row:
                    item.setEditable(False)
                row[4].setToolTip(r.reason)
                if r.kind == ERROR:
                    row[2].setForeground(Qt.GlobalColor.red)
                head.appendRow(row)
        self.proxy = _KindFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTreeView(objectName="importPreview")
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        header = self.view.header()
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        for col, width in enumerate((200, 120, 80, 300)):
            self.view.setColumnWidth(col, width)
        self.filter = QComboBox(objectName="importFilter")
        for text, key in self.FILTERS:
            self.filter.addItem(text, key)
        self.filter.currentIndexChanged.connect(self._filter_changed)
        self.detail = QTextBrowser(objectName="importDetail")
        self.detail.setOpenLinks(False)
        self.view.selectionModel().currentChanged.connect(self._show_detail)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        self.summary = QLabel(objectName="importSummary")
        self.summary.setWordWrap(True)
        self.import_button = QPushButton("导入勾选的行（一次提交）", objectName="commitImport")
        self.returns_button = QPushButton("生成退回表…", objectName="makeReturns")
        cancel = QPushButton("关闭")
        buttons = QDialogButtonBox()
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.returns_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        self.import_button.clicked.connect(self.commit)
        self.returns_button.clicked.connect(self.make_returns)
        cancel.clicked.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(QLabel("显示："))
        top.addWidget(self.filter)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        self.resize(1000, 600)
        self._filter_changed()
        self.summary.setText(self._summary_text())

    def _summary_text(self) -> str:
        from qjgb_desktop.services.collection.returns import CHANGED, EMPTY, ERROR, NEW, UNCHANGED

        kinds = (NEW, CHANGED, UNCHANGED, EMPTY, ERROR)
        by_department: dict[str, dict[str, int]] = {}
        superseded = [p for p in self.previews if p.superseded_by]
        for p in self.previews:
            if p.superseded_by:
                continue  # a later-saved version of its template stands for it
            sums = by_department.setdefault(p.department or p.file.name, dict.fromkeys(kinds, 0))
            for k, n in p.counts().items():
                sums[k] += n
            sums[ERROR] += len(p.errors)
        total = {k: sum(d[k] for d in by_department.values()) for k in kinds}
        files_bad = sum(bool(p.errors) for p in self.previews)
        lines = [f"{len(self.previews)} 个文件：" + "，".join(f"{k} {total[k]}" for k in kinds) + " 行"
                 + (f"；{files_bad} 个文件整体有误（须修改后重交）" if files_bad else "")
                 + (f"；{len(superseded)} 个文件已被同一模板后保存的一份取代，不计" if superseded else "")
                 + "。未勾选的行和有错误的行不会导入，可生成退回表发回部门；未修改也未确认的行视为本期未填。"]
        if len(by_department) > 1:
            lines.append("按部门：" + "；".join(
                f"{d} " + " ".join(f"{k}{n[k]}" for k in kinds if n[k]) for d, n in by_department.items()))
        return "\n".join(lines)

    def _filter_changed(self, *_) -> None:
        self.proxy.set_kinds(self.kinds[self.filter.currentData()])
        self.view.expandAll()

    def _show_detail(self, current, _previous=None) -> None:
        from html import escape

        data = current.sibling(current.row(), 0).data(RowRole) if current.isValid() else None
        if data is None:
            self.detail.clear()
            return
        p, r = data
        if r is None:
            parts = [f"<b>{escape(p.file.name)}</b>　{escape(p.department)} {escape(p.period)}",
                     "，".join(f"{k} {n}" for k, n in p.counts().items())]
            parts += [f"<p style='color:#b00'>{escape(e)}</p>" for e in p.errors]
            self.detail.setHtml("<br>".join(parts))
            return
        html = [f"<b>{escape(p.file.name)}</b>　工作表“{escape(r.sheet)}”第{r.row}行　{escape(r.label)}　"
                f"<b>{escape(r.kind)}</b>"]
        if r.reason:
            color = "#b00" if r.problems and r.kind == "错误" else "#333"
            html.append(f"<p style='color:{color}; white-space:pre-wrap'>{escape(r.reason)}</p>")
        if r.changes:
            rows = "".join(f"<tr><td>{escape(c.field)}</td><td style='white-space:pre-wrap'>{escape(c.before) or '（空）'}"
                           f"</td><td style='white-space:pre-wrap'>{escape(c.after) or '（空）'}</td></tr>"
                           for c in r.changes)
            html.append("<table border='1' cellspacing='0' cellpadding='3'><tr><th>字段</th><th>原</th><th>新</th></tr>"
                        f"{rows}</table>")
        self.detail.setHtml("".join(html))

    def sent_back(self) -> dict:
        """(preview → rows) not imported: errors, and rows the reviewer unticked."""
        from qjgb_desktop.services.collection.returns import ERROR

        out: dict = {}
        for i in range(self.model.rowCount()):
            head = self.model.item(i, 0)
            for c in range(head.rowCount()):
                item = head.child(c, 0)
                p, r = item.data(RowRole)
                if r.kind == ERROR or (item.isCheckable() and item.checkState() != Qt.CheckState.Checked):
                    out.setdefault(id(p), (p, []))[1].append(r)
        return out

    def commit(self) -> None:
        from qjgb_desktop.services.collection.commit import commit

        sent_back = self.sent_back()
        rejected = {(p.file.name, r.sheet, r.row) for p, rows in sent_back.values() for r in rows}
        chosen = [p for p in self.previews if self._takes_part(p, sent_back)]
        ctx = self.window_.ctx
        try:
            summary = ctx.write(lambda s: commit(s, chosen, ctx.user, ctx.today(), rejected,
                                                 accept_other_periods=True))
        except Exception as exc:
            QMessageBox.warning(self, "未导入", str(exc))
            return
        self.window_.statusBar().showMessage(
            f"已导入：新增报告 {summary.reports_added}，修订 {summary.reports_corrected}，指标值 {summary.values_added}",
            10000)
        self.import_button.setEnabled(False)
        self.summary.setText(self.summary.text() + "\n已导入。")

    @staticmethod
    def _takes_part(p, sent_back: dict) -> bool:
        """A file of another period than the one collected takes part only where the reviewer ticked some of its
        rows: that tick is the explicit choice to import it."""
        from qjgb_desktop.services.collection.returns import CHANGED, NEW

        if not p.other_period or p.superseded_by or p.errors:
            return True
        writes = sum(r.kind in (NEW, CHANGED) for r in p.rows)
        untouched = sum(r.kind in (NEW, CHANGED) for r in sent_back.get(id(p), (p, []))[1])
        return untouched < writes

    def make_returns(self, folder: str | None = None) -> list[Path]:
        from qjgb_desktop.services.collection.commit import write_returns

        groups = [g for g in self.sent_back().values() if not g[0].errors]
        if not groups:
            QMessageBox.information(self, "退回", "没有需要退回的行。")
            return []
        folder = folder or existing_folder(self, "returns-out", "选择存放退回表的文件夹")
        if not folder:
            return []
        Path(folder).mkdir(parents=True, exist_ok=True)
        written = [write_returns(p, rows, Path(folder) / f"{p.file.stem}-退回.xlsx") for p, rows in groups]
        self.window_.statusBar().showMessage(f"已生成 {len(written)} 个退回表到 {folder}", 10000)
        return written


def import_returns(window, files: list[str] | None = None):
    from qjgb_desktop.services.collection.returns import read_return

    ctx = window.ctx
    if files is None:
        files = open_file_names(window, "returns-in", "选择各部门交回的模板",
                                "Excel 工作簿 (*.xlsx);;其他表格 (*.ods *.xls *.et *.xlsb);;所有文件 (*)")
    if not files or ctx.db is None:
        return None
    busy = _busy(window, f"正在检查 {len(files)} 个文件…")
    sessions, today = ctx.db.sessions, ctx.today()

    def job():
        from qjgb_desktop.services.collection.batch import check_batch

        with sessions() as s:
            previews = [read_return(s, Path(f), today) for f in files]
        check_batch(previews)  # superseded versions, and returns for another period than the one collected
        return previews

    def show(previews) -> None:
        busy.reset()
        dialog = ImportDialog(window, previews)
        window.import_dialog = dialog
        dialog.open()
    ctx.workers.run(job, show, lambda exc: (busy.reset(), QMessageBox.warning(window, "无法读取", str(exc))))
    return True

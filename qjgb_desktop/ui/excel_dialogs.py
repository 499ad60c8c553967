"""Excel in the window: export for leaders, send templates, import returns with a preview the reviewer checks.

Reading, writing and committing run in the background with a busy dialog; the preview shows every row as
新增 / 修改 / 无变化 / 错误 with its reason; the reviewer unticks rows to send back (退回), and the import is
one transaction."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTreeView,
    QVBoxLayout,
)

RowRole = Qt.ItemDataRole.UserRole + 1


def _busy(parent, text: str) -> QProgressDialog:
    dialog = QProgressDialog(text, None, 0, 0, parent)
    dialog.setWindowTitle("请稍候")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setCancelButton(None)
    return dialog


def export_excel(window, out: str | None = None) -> None:
    from ..services.excel_export import export_workbook

    ctx = window.ctx
    if out is None:
        out, _ = QFileDialog.getSaveFileName(window, "导出 Excel", f"强基固本进展-{ctx.today().isoformat()}.xlsx",
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
        from ..domain.periods import periods_in

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
    from ..services.excel_template import write_template, write_templates

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
        out, _ = QFileDialog.getSaveFileName(window, "保存模板", f"{department}-{period}-进展填报.xlsx",
                                             "Excel 工作簿 (*.xlsx)")
    else:
        out = QFileDialog.getExistingDirectory(window, "选择存放模板的文件夹")
    if out:
        send_templates(window, period, department, out)


class ImportDialog(QDialog):
    """The preview of returned templates: tick what to import, untick what to send back."""

    HEADERS = ("文件 / 行", "目标", "结果", "说明")

    def __init__(self, window, previews: list) -> None:
        super().__init__(window)
        from ..services.excel_import import CHANGED, EMPTY, ERROR, NEW

        self.setObjectName("importDialog")
        self.window_ = window
        self.previews = previews
        self.setWindowTitle("导入交回的模板 · 预览")
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(self.HEADERS)
        for p in previews:
            head = QStandardItem(f"{p.file.name}（{p.department} {p.period}）" +
                                 ("　已导入过，不会重复导入" if p.already_imported else ""))
            head.setEditable(False)
            cells = [head] + [QStandardItem("") for _ in self.HEADERS[1:]]
            if p.errors:
                cells[2].setText("整份文件错误")
                cells[3].setText("；".join(p.errors))
            self.model.appendRow(cells)
            for r in p.rows:
                if r.kind == EMPTY:
                    continue
                first = QStandardItem(f"{r.sheet} 第{r.row}行")
                first.setData((p, r), RowRole)
                first.setEditable(False)
                if r.kind in (NEW, CHANGED) and not p.already_imported and not p.errors:
                    first.setCheckable(True)
                    first.setCheckState(Qt.CheckState.Checked)
                row = [first, QStandardItem(r.label), QStandardItem(r.kind), QStandardItem(r.reason)]
                for item in row[1:]:
                    item.setEditable(False)
                if r.kind == ERROR:
                    row[2].setForeground(Qt.GlobalColor.red)
                head.appendRow(row)
        self.view = QTreeView(objectName="importPreview")
        self.view.setModel(self.model)
        self.view.expandAll()
        self.view.header().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.view.setColumnWidth(0, 260)
        self.summary = QLabel()
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        self.resize(1000, 560)
        n = {k: sum(p.count(k) for p in previews) for k in (NEW, CHANGED, ERROR)}
        files_bad = sum(bool(p.errors) for p in previews)
        self.summary.setText(f"{len(previews)} 个文件：新增 {n[NEW]}，修改 {n[CHANGED]}，错误 {n[ERROR]} 行"
                             + (f"，{files_bad} 个文件整体有误（须修改后重交）" if files_bad else "")
                             + "。取消勾选的行和有错误的行不会导入，可生成退回表发回部门。")

    def sent_back(self) -> dict:
        """(preview → rows) not imported: errors, and rows the reviewer unticked."""
        from ..services.excel_import import ERROR

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
        from ..services.excel_import import commit

        rejected = {(p.file.name, r.sheet, r.row) for p, rows in self.sent_back().values() for r in rows}
        ctx = self.window_.ctx
        try:
            summary = ctx.write(lambda s: commit(s, self.previews, ctx.user, ctx.today(), rejected))
        except Exception as exc:
            QMessageBox.warning(self, "未导入", str(exc))
            return
        self.window_.statusBar().showMessage(
            f"已导入：新增报告 {summary.reports_added}，修订 {summary.reports_corrected}，指标值 {summary.values_added}",
            10000)
        self.import_button.setEnabled(False)
        self.summary.setText(self.summary.text() + "\n已导入。")

    def make_returns(self, folder: str | None = None) -> list[Path]:
        from ..services.excel_import import write_returns

        groups = [g for g in self.sent_back().values() if not g[0].errors]
        if not groups:
            QMessageBox.information(self, "退回", "没有需要退回的行。")
            return []
        folder = folder or QFileDialog.getExistingDirectory(self, "选择存放退回表的文件夹")
        if not folder:
            return []
        Path(folder).mkdir(parents=True, exist_ok=True)
        written = [write_returns(p, rows, Path(folder) / f"{p.file.stem}-退回.xlsx") for p, rows in groups]
        self.window_.statusBar().showMessage(f"已生成 {len(written)} 个退回表到 {folder}", 10000)
        return written


def import_returns(window, files: list[str] | None = None):
    from ..services.excel_import import read_return

    ctx = window.ctx
    if files is None:
        files, _ = QFileDialog.getOpenFileNames(window, "选择各部门交回的模板", "", "Excel 工作簿 (*.xlsx);;所有文件 (*)")
    if not files or ctx.db is None:
        return None
    busy = _busy(window, f"正在检查 {len(files)} 个文件…")
    sessions, today = ctx.db.sessions, ctx.today()

    def job():
        with sessions() as s:
            return [read_return(s, Path(f), today) for f in files]

    def show(previews) -> None:
        busy.reset()
        dialog = ImportDialog(window, previews)
        window.import_dialog = dialog
        dialog.open()
    ctx.workers.run(job, show, lambda exc: (busy.reset(), QMessageBox.warning(window, "无法读取", str(exc))))
    return True

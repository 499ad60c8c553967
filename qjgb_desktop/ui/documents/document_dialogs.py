"""文件 → 生成进展报告… and 生成督办通知单…: Word drafts compiled from the record, written in the background.

python-docx and the charts are imported only when one of these is used. A notice run may also number each notice,
enter it in the 发文登记 and record it as the 交办 of its department's open 督办 items, so the paperwork and the
items' life stay one record; the 发文登记 is shown from the 督办 tab (NoticeRegisterDialog).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
)

from qjgb_desktop.ui.collection.excel_dialogs import _busy
from qjgb_desktop.ui.widgets.dialog_parts import close_only, row_table, year_bar
from qjgb_desktop.ui.widgets.file_dialogs import existing_folder, save_file_name


def _failed(window, title: str, exc: BaseException) -> None:
    from qjgb_desktop.errors import explain

    message = explain(exc) or (str(exc) if isinstance(exc, ValueError) else None)
    if message is None:
        raise exc  # a bug: the crash handler keeps the traceback for support
    QMessageBox.warning(window, title, message)


def _offer_to_open(window, title: str, text: str, target: Path) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=window)
    box.setObjectName("documentDone")
    open_button = box.addButton("打开", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("关闭", QMessageBox.ButtonRole.RejectRole)
    box.finished.connect(lambda _r: box.clickedButton() is open_button
                         and QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))))
    box.open()
    return box


class ReportScopeDialog(QDialog):
    """A period's report or a year's (the year's adds the 考核 table)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        from qjgb_desktop.domain.periods import QUARTERLY, periods_in, scheme_of

        self.setObjectName("reportScopeDialog")
        self.setWindowTitle("生成进展报告")
        tree, snap = window.model.tree(), window.model.status()
        scheme = scheme_of(snap.period.code) if snap is not None else QUARTERLY
        self.by_period = QRadioButton("季度（或月度）报告", objectName="reportByPeriod")
        self.by_year = QRadioButton("年度报告（含考核）", objectName="reportByYear")
        group = QButtonGroup(self)
        group.addButton(self.by_period)
        group.addButton(self.by_year)
        self.period = QComboBox(objectName="reportPeriod")
        today = window.ctx.today()
        for p in periods_in(tree.years, scheme):
            if p.start <= today:
                self.period.addItem(p.label, p.code)
        self.period.setCurrentIndex(self.period.count() - 1)
        self.year = QComboBox(objectName="reportYear")
        for y in tree.years:
            if y <= today.year:
                self.year.addItem(f"{y}年", y)
        self.year.setCurrentIndex(self.year.count() - 1)
        self.by_period.setChecked(True)
        self.by_period.toggled.connect(self._enable)
        form = QFormLayout()
        form.addRow(self.by_period, self.period)
        form.addRow(self.by_year, self.year)
        note = QLabel("报告只汇总程序中的记录：各部门报送的进展、状态、指标、督办事项；生成后是可编辑的 Word 初稿。")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("生成…")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self._enable()

    def _enable(self) -> None:
        self.period.setEnabled(self.by_period.isChecked())
        self.year.setEnabled(self.by_year.isChecked())

    def scope(self) -> dict:
        return {"period": self.period.currentData()} if self.by_period.isChecked() else {"year": self.year.currentData()}


def generate_report(window, scope: dict | None = None, out: str | None = None) -> None:
    ctx = window.ctx
    if ctx.db is None or window.model.tree() is None:
        return
    if scope is None:
        dialog = ReportScopeDialog(window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        scope = dialog.scope()
    label = scope.get("period") or f"{scope.get('year')}年度"
    if out is None:
        out = save_file_name(window, "word-report", "保存进展报告", f"强基固本推进情况报告-{label}.docx",
                             "Word 文档 (*.docx)")
    if not out:
        return
    path = Path(out if out.lower().endswith(".docx") else out + ".docx")
    busy = _busy(window, "正在生成进展报告（含图表）…")
    sessions, today = ctx.db.sessions, ctx.today()

    def job():
        from qjgb_desktop.services.documents.report import build_progress_report

        with sessions() as s:
            return build_progress_report(s, path, today=today, **scope)

    def done(summary) -> None:
        busy.reset()
        window.statusBar().showMessage(f"已生成 {path.name}", 8000)
        window.last_document = _offer_to_open(
            window, "进展报告已生成",
            f"{summary.title}\n\n已保存到：{path}\n引用 {summary.reports} 份部门报告，{summary.silent} 项措施本期无部门报送，"
            f"指标 {summary.indicators} 项，图表 {summary.pictures} 幅，督办事项 {summary.supervision} 项。", path)
    ctx.workers.run(job, done, lambda exc: (busy.reset(), _failed(window, "未生成报告", exc)))


class NoticeDialog(QDialog):
    """Which department (or every lead department with something to chase), and whether to record the 交办."""

    def __init__(self, window) -> None:
        super().__init__(window)
        from qjgb_desktop.services.progress.status_core import follow_ups

        self.setObjectName("noticeDialog")
        self.setWindowTitle("生成督办通知单")
        snap = window.model.status()
        groups = follow_ups(snap) if snap is not None else {}
        self.department = QComboBox(objectName="noticeDepartment")
        self.department.addItem(f"全部（{len(groups)} 个牵头部门，每个部门一份）", None)
        for name, items in groups.items():
            self.department.addItem(f"{name}（{len(items)} 项）", name)
        self.register = QCheckBox("编上文号并登记发文和交办：尚未交办的督办事项附上通知单（没有事项的目标先立项）",
                                  objectName="noticeRegister")
        self.register.setChecked(True)
        form = QFormLayout()
        form.addRow("部门", self.department)
        form.addRow(self.register)
        note = QLabel("通知单列出该部门牵头的滞后、逾期、未填报年度目标，最近一次报送和反馈期限。")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("选择文件夹并生成…")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(groups))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if not groups:
            layout.addWidget(QLabel("目前没有需要督办的年度目标。"))
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)


def generate_notices(window, department: str | None = None, folder: str | None = None,
                     register: bool | None = None) -> None:
    ctx = window.ctx
    if ctx.db is None or window.model.tree() is None:
        return
    if register is None:
        dialog = NoticeDialog(window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        department, register = dialog.department.currentData(), dialog.register.isChecked()
    if folder is None:
        folder = existing_folder(window, "word-notices", "督办通知单保存到哪个文件夹")
    if not folder:
        return
    out_dir = Path(folder)
    busy = _busy(window, "正在生成督办通知单…")
    sessions, today, user = ctx.db.sessions, ctx.today(), ctx.user

    def job():
        from qjgb_desktop.services.documents.notice import issue_notices, write_notices

        if register:  # numbered, written and entered in the 发文登记 with the 交办, in one transaction
            with sessions.begin(purpose="登记督办通知单") as s:
                issued = issue_notices(s, out_dir, actor=user, department=department, today=today)
            return issued.files, issued.recorded, issued.numbers
        with sessions() as s:
            return write_notices(s, out_dir, department=department, today=today), [], {}

    def done(result) -> None:
        busy.reset()
        files, recorded, numbers = result
        if numbers:
            ctx.data_changed.emit()
        if not files:
            QMessageBox.information(window, "督办通知单", "所选部门目前没有需要督办的年度目标，未生成通知单。")
            return
        extra = (f"\n已登记发文 {len(numbers)} 份（{'、'.join(numbers.values())}），交办 {len(recorded)} 项督办事项。"
                 if numbers else "\n这些是文号空白的草稿（未登记发文）。")
        window.statusBar().showMessage(f"已生成 {len(files)} 份督办通知单", 8000)
        window.last_document = _offer_to_open(
            window, "督办通知单已生成",
            f"已生成 {len(files)} 份督办通知单，保存在：{out_dir}{extra}\n" + "\n".join(f.name for f in files[:12])
            + ("\n…" if len(files) > 12 else ""), out_dir)
    ctx.workers.run(job, done, lambda exc: (busy.reset(), _failed(window, "未生成通知单", exc)))


class NoticeRegisterDialog(QDialog):
    """发文登记: the registered 督办通知单, in number order, a year's or all."""

    HEADERS = ("文号", "发文日期", "主送部门", "交办事项", "通知单文件", "登记人")

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("noticeRegisterDialog")
        self.setWindowTitle("发文登记 · 督办通知单")
        self.year = QComboBox(objectName="noticeRegisterYear")
        self.summary = QLabel(objectName="noticeRegisterSummary")
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(self.HEADERS)
        self.table = row_table(self.model, "noticeRegister")
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        note = QLabel("生成督办通知单时勾选“编上文号并登记发文和交办”，通知单即按年度顺序编号并记入这里；"
                      "文号不重复、不回收。")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(year_bar(self.year, self.summary))
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(close_only(self))
        self.resize(820, 420)
        self._fill_years()
        self.year.currentIndexChanged.connect(lambda _i: self.reload())
        self.reload()

    def _fill_years(self) -> None:
        from qjgb_desktop.services.supervision.items import list_notices

        with self.ctx.db.sessions() as s:
            years = sorted({n.year for n in list_notices(s)}, reverse=True)
        self.year.addItem("全部年度", None)
        for y in years:
            self.year.addItem(f"{y}年", y)
        self.year.setCurrentIndex(1 if years else 0)  # the latest year first

    def reload(self) -> None:
        from qjgb_desktop.services.supervision.items import list_notices

        with self.ctx.db.sessions() as s:
            notices = list_notices(s, self.year.currentData())
        self.model.removeRows(0, self.model.rowCount())
        for n in notices:
            cells = [QStandardItem(text) for text in (
                n.number, n.issued_on.isoformat(), n.department, f"{n.items} 项", n.file_name, n.actor)]
            cells[4].setToolTip(f"{n.file_name}\nSHA-256：{n.sha256}")
            cells[3].setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.model.appendRow(cells)
        self.summary.setText(f"共 {len(notices)} 份" if notices else "尚无登记的通知单")


def show_notice_register(parent, ctx) -> NoticeRegisterDialog | None:
    if ctx.db is None:
        return None
    dialog = NoticeRegisterDialog(ctx, parent)
    dialog.open()
    return dialog

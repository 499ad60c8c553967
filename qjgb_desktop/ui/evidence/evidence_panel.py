"""佐证材料 tab of the detail area: list with thumbnails; add by dialog or drag and drop (many files at once,
copied in the background with a progress dialog and Cancel); open, show in folder, save a copy, remove with a
reason, export an inspection pack (迎检材料).

Opening hands the system a copy, never the stored file; only types that are safe to open (services.evidence.
open_policy) are opened; anything else (a program, a script, a shortcut …) gets a warning and can only be shown
in its folder, as a copy whose name ends in an inert suffix, so not even a double-click there runs it."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop.errors import UserError
from qjgb_desktop.qtmodels.evidence import COL_NOTE, COL_TARGET, THUMB, EvidenceTableModel, load_thumbnail
from qjgb_desktop.qtmodels.rows import refill_keeping_place, selected_record
from qjgb_desktop.services.plan.query import MeasureNode, TargetNode
from qjgb_desktop.store.blobs import BlobStore
from qjgb_desktop.ui.widgets.dialog_parts import row_table
from qjgb_desktop.ui.widgets.file_dialogs import open_file_names, save_file_name


def local_files(mime) -> list[Path]:
    """The local files in a drag (URLs that are not local files are ignored)."""
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class _Progress(QObject):
    """Created in the UI thread; the worker emits, Qt queues the call to the dialog."""

    moved = Signal(int, int, str)


class EvidencePanel(QWidget):
    count_changed = Signal(int)

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._node = None
        self._target = None
        self._open_copies = Path(tempfile.mkdtemp(prefix="qjgb-open-"))
        self.model = EvidenceTableModel(self)
        self.table = row_table(self.model, "evidenceTable", single=False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 6)
        self.table.setIconSize(THUMB)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((190, 90, 64, 120, 58, 124)):
            header.resizeSection(col, width)
        self.table.setWordWrap(False)
        header.setSectionResizeMode(COL_NOTE, QHeaderView.ResizeMode.Stretch)
        self.table.setAcceptDrops(True)
        self.table.viewport().setAcceptDrops(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.table.viewport().installEventFilter(self)
        self.hint = QLabel("把文件拖到这里或左侧的年度目标上即可添加，可一次添加多个。", objectName="evidenceHint")
        self.hint.setStyleSheet("color:#666;")

        self.add_button = QPushButton("添加文件…", objectName="addEvidence")
        self.open_button = QPushButton("打开", objectName="openEvidence")
        self.folder_button = QPushButton("在文件夹中显示", objectName="showEvidence")
        self.save_button = QPushButton("另存为…", objectName="saveEvidence")
        self.remove_button = QPushButton("移除…", objectName="removeEvidence")
        self.export_button = QPushButton("导出迎检材料…", objectName="exportEvidence")
        row = QHBoxLayout()
        for b in (self.add_button, self.open_button, self.folder_button, self.save_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table)
        layout.addWidget(self.hint)

        self.add_button.clicked.connect(self.choose_files)
        self.open_button.clicked.connect(lambda: self._with_selected(self.open_item))
        self.folder_button.clicked.connect(lambda: self._with_selected(self.show_in_folder))
        self.save_button.clicked.connect(lambda: self._with_selected(self.save_copy))
        self.remove_button.clicked.connect(lambda: self._with_selected(self.remove_item))
        self.export_button.clicked.connect(self.export_pack)
        self.table.doubleClicked.connect(lambda _i: self._with_selected(self.open_item))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.set_node(None, [])

    # -- what is shown ---------------------------------------------------------------------------------
    def target(self) -> TargetNode | None:
        """Where new files go: the selected target, or the selected measure's target of the year shown."""
        return self._target

    def set_node(self, node, items: list, target: TargetNode | None = None) -> None:
        if node != getattr(self, "_node", None):
            self.table.clearSelection()  # another target or measure: start at its first file
        self._node = node
        self._target = target
        # the same node refreshed (after a change here or elsewhere): the same file stays selected
        refill_keeping_place(self.table, self.model, items, lambda e: e.id)
        self.table.setColumnHidden(COL_TARGET, isinstance(node, TargetNode))  # one target: the column says nothing
        self.add_button.setEnabled(self.target() is not None)
        self.export_button.setEnabled(isinstance(node, (MeasureNode, TargetNode)))
        self._update_buttons()
        self.count_changed.emit(len(items))
        self._load_thumbnails()

    def selected(self):
        return selected_record(self.table)

    def _with_selected(self, action) -> None:
        item = self.selected()
        if item is not None:
            action(item)

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        for b in (self.open_button, self.folder_button, self.save_button, self.remove_button):
            b.setEnabled(has)

    def _load_thumbnails(self) -> None:
        wanted = self.model.wanted_thumbnails()
        if not wanted:
            return  # (and the window's first paint stays free of SQLAlchemy)
        from qjgb_desktop.services.evidence.records import blob_store

        store = blob_store()  # files here, or chunks on the server (small images only: THUMB_MAX_BYTES)
        for sha, _size in wanted:
            def job(s=sha):
                if isinstance(store, BlobStore):
                    return load_thumbnail(str(store.path_for(s)))
                with store.open(s) as fh:
                    return load_thumbnail(fh.read())
            self.ctx.workers.run(job, lambda image, s=sha: self.model.set_thumbnail(s, image))

    # -- adding ----------------------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:
        from PySide6.QtCore import QEvent

        if obj is self.table.viewport() and event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if local_files(event.mimeData()) and self.target() is not None:
                event.acceptProposedAction()
                return True
        if obj is self.table.viewport() and event.type() == QEvent.Type.Drop:
            files = local_files(event.mimeData())
            if files and self.target() is not None:
                event.acceptProposedAction()
                self.attach_files(files, self.target())
                return True
        return super().eventFilter(obj, event)

    def choose_files(self) -> None:
        target = self.target()
        if target is None:
            return
        names = open_file_names(self, "evidence-add", f"添加佐证材料 · 措施{target.measure.no}·{target.year}年")
        if names:
            self.attach_files([Path(n) for n in names], target)

    def attach_files(self, files: list[Path], target: TargetNode, note: str | None = None,
                     report_id: int | None = None) -> None:
        """Copy the files in the background with a progress dialog; all or nothing."""
        from qjgb_desktop.services.evidence import records as ev

        if self.ctx.db is None:
            return
        if note is None:
            where = f"措施{target.measure.no}·{target.year}年" + (f" 报告#{report_id}" if report_id else "")
            note, ok = QInputDialog.getText(self, "添加佐证材料", f"{len(files)} 个文件 → {where}\n说明（可不填）：")
            if not ok:
                return
        cancel = threading.Event()
        dialog = QProgressDialog(f"正在添加 {len(files)} 个文件…", "取消", 0, 1000, self)
        dialog.setObjectName("evidenceProgress")
        dialog.setWindowTitle("添加佐证材料")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.canceled.connect(cancel.set)
        progress = _Progress(dialog)
        progress.moved.connect(lambda done, total, name: (
            dialog.setValue(int(1000 * done / max(total, 1))), dialog.setLabelText(f"正在复制：{name}")))
        sessions, user = self.ctx.db.sessions, self.ctx.user

        def job():
            with sessions.begin() as s:
                return ev.attach(s, target.id, files, user, note=note, report_id=report_id,
                                 progress=lambda d, t, n: progress.moved.emit(d, t, n), cancelled=cancel.is_set)

        def done(views) -> None:
            dialog.reset()
            self.ctx.data_changed.emit()
            self.window().statusBar().showMessage(f"已添加 {len(views)} 个佐证文件", 6000)

        def failed(exc) -> None:
            dialog.reset()
            if isinstance(exc, ev.Cancelled):
                self.window().statusBar().showMessage("已取消，未添加任何文件", 6000)
            else:
                QMessageBox.warning(self, "未添加", str(exc))
        self.ctx.workers.run(job, done, failed)

    # -- using -----------------------------------------------------------------------------------------
    def _copy_out(self, item) -> tuple[Path, str]:
        """(copy, open policy): a copy in a private temporary folder (the stored file keeps its hash), under the
        original name when that is safe to open, else with an inert suffix."""
        from qjgb_desktop.services.evidence.opening import viewer_copy

        return viewer_copy(item.sha256, item.original_name, self._open_copies / str(item.id))

    def discard_open_copies(self) -> None:
        """The temporary copies opened for viewing (a viewer still holding one just keeps it)."""
        shutil.rmtree(self._open_copies, ignore_errors=True)

    def open_item(self, item) -> None:
        from qjgb_desktop.services.evidence.opening import OPEN

        try:
            copy, policy = self._copy_out(item)
        except OSError as exc:
            QMessageBox.warning(self, "无法打开", f"“{item.original_name}”无法打开：{exc}\n可运行 qjgb verify 检查存储文件。")
            return
        if policy == OPEN:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(copy)))
        elif self.confirm_show_only(item):
            self.show_in_folder(item)

    def confirm_show_only(self, item) -> bool:
        """The warning for a file that is not opened directly; True when the user wants it shown in its folder."""
        from qjgb_desktop.services.evidence.opening import BLOCKED_SUFFIX, file_extension

        ext = file_extension(item.original_name)
        kind = f"“.{ext}”类型的文件" if ext else "没有扩展名的文件"
        box = QMessageBox(QMessageBox.Icon.Warning, "不直接打开此文件",
                          f"“{item.original_name}”是{kind}，可能是程序、脚本或快捷方式，"
                          "直接打开可能会运行其中的程序。为安全起见，本程序只直接打开文档、图片和音视频。", parent=self)
        box.setObjectName("unsafeEvidenceWarning")
        box.setInformativeText(f"可以在文件夹中查看它的副本（名称后加了“{BLOCKED_SUFFIX}”，双击也不会运行）。"
                               "确需使用原文件时，请用“另存为…”保存，经杀毒软件检查后再打开。")
        show = box.addButton("在文件夹中显示", QMessageBox.ButtonRole.AcceptRole)
        show.setObjectName("showInFolderButton")
        cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        return box.clickedButton() is show

    def show_in_folder(self, item) -> None:
        try:
            copy, _policy = self._copy_out(item)
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(copy.parent)))
        except OSError as exc:
            QMessageBox.warning(self, "无法显示", str(exc))

    def save_copy(self, item) -> Path | None:
        from qjgb_desktop.store.files import write_atomically

        name = save_file_name(self, "evidence-copy", "另存佐证材料", item.original_name)
        if not name:
            return None
        try:
            from qjgb_desktop.services.evidence.opening import save_content

            write_atomically(Path(name), lambda p: save_content(item.sha256, p))
        except OSError as exc:
            QMessageBox.warning(self, "未保存", f"无法保存到“{name}”：{exc.strerror or exc}")
            return None
        return Path(name)

    def remove_item(self, item) -> bool:
        from qjgb_desktop.services.evidence import records as ev

        reason, ok = QInputDialog.getText(self, "移除佐证材料", f"移除“{item.original_name}”。\n"
                                          "记录会保留在留痕中，文件在管理员清理前仍保存。\n移除原因：")
        if not ok:
            return False
        try:
            self.ctx.write(lambda s: ev.remove(s, item.id, reason, self.ctx.user))
        except (ev.EvidenceError, UserError) as exc:  # UserError: refused for the logged-in account
            QMessageBox.warning(self, "未移除", str(exc))
            return False
        return True

    def export_pack(self) -> None:
        """Inspection pack of the selected measure, its action, or one of its departments."""
        from qjgb_desktop.services.evidence import pack as ev_pack

        node = self._node
        measure = node.measure if isinstance(node, TargetNode) else node
        if not isinstance(measure, MeasureNode) or self.ctx.db is None:
            return
        scopes = [f"措施{measure.no}：{measure.title}", f"任务（{measure.action.numeral}）{measure.action.title}"] + \
            [f"部门：{d}" for d in measure.departments]
        choice, ok = QInputDialog.getItem(self, "导出迎检材料", "导出范围：", scopes, 0, False)
        if not ok:
            return
        out = save_file_name(self, "evidence-pack", "导出到（.zip 文件）", f"迎检材料-{choice.split('：')[0]}.zip",
                             "ZIP 压缩包 (*.zip)")
        if not out:
            return
        index = scopes.index(choice)
        kwargs = {"measure_no": measure.no} if index == 0 else {"action_no": measure.action.no} if index == 1 \
            else {"department": measure.departments[index - 2]}
        path = Path(out if out.lower().endswith(".zip") else out + ".zip")
        sessions = self.ctx.db.sessions

        def job():
            with sessions() as s:
                return ev_pack.export_pack(s, path, **kwargs)
        self.ctx.workers.run(job, lambda n: self.window().statusBar().showMessage(f"已导出 {n} 个文件到 {path}", 8000),
                             lambda exc: QMessageBox.warning(self, "未导出", str(exc)))

"""The main window's menu bar (文件, 填报, 视图, 帮助) and the small actions that live only there."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMessageBox

from qjgb_desktop import __version__


class Menus:
    """Mixed into MainWindow."""

    # -- menus -----------------------------------------------------------------------------------
    def _action(self, menu, label: str, slot, shortcut=None) -> QAction:
        action = QAction(label, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        self._action(file_menu, "导出 Excel…", lambda: self._excel("export_excel"), QKeySequence("Ctrl+E"))
        self._action(file_menu, "下发填报模板…", lambda: self._excel("ask_and_send_templates"))
        self._action(file_menu, "导入交回的模板…", lambda: self._excel("import_returns"))
        file_menu.addSeparator()
        self._action(file_menu, "生成进展报告（Word）…", lambda: self._document("generate_report"))
        self._action(file_menu, "生成督办通知单（Word）…", lambda: self._document("generate_notices"))
        file_menu.addSeparator()
        self._action(file_menu, "打开数据文件夹", self._open_data_dir)
        self.switch_account_action = self._action(file_menu, "切换账户…", self.switch_account)
        self._action(file_menu, "修改我的密码…", self.change_own_password)
        self._action(file_menu, "账户管理…", self.manage_accounts)
        file_menu.addSeparator()
        self._action(file_menu, "退出(&X)", self.close, QKeySequence.StandardKey.Quit)

        report_menu = self.menuBar().addMenu("填报(&R)")
        self.new_report_action = self._action(report_menu, "填报进展…", self.new_report, QKeySequence("Ctrl+N"))
        self._action(report_menu, "录入指标实际值…", self.enter_indicator_value, QKeySequence("Ctrl+I"))
        report_menu.addSeparator()
        self._action(report_menu, "关闭填报周期…", self.close_period)
        self._action(report_menu, "重新开放填报周期…（管理员）", self.reopen_period)
        self._action(report_menu, "清理已移除的佐证文件…（管理员）", self.purge_evidence)
        report_menu.addSeparator()
        self._action(report_menu, "用户与预警设置…", self.edit_settings)

        view_menu = self.menuBar().addMenu("视图(&V)")
        self._action(view_menu, "搜索", lambda: (self.filter_bar.keyword.setFocus(), self.filter_bar.keyword.selectAll()),
                     QKeySequence.StandardKey.Find)
        self._action(view_menu, "全部展开", self.tree_view.expandAll)
        self._action(view_menu, "全部折叠", self.tree_view.collapseAll)
        self._action(view_menu, "清除筛选", self.filter_bar.reset)

        help_menu = self.menuBar().addMenu("帮助(&H)")
        self._action(help_menu, "预警规则", self._explain_lights)
        self._action(help_menu, "关于", self._about)

    def _excel(self, name: str):
        """Excel actions live in ui/collection/excel_dialogs (openpyxl is imported only when one is used)."""
        from qjgb_desktop.ui.collection import excel_dialogs

        if self.ctx.db is None:
            self.statusBar().showMessage("数据库正在打开，请稍候再试", 5000)
            return None
        return getattr(excel_dialogs, name)(self)

    def _document(self, name: str):
        """Word documents live in ui/documents/document_dialogs (python-docx is imported only when one is made)."""
        from qjgb_desktop.ui.documents import document_dialogs

        if self.ctx.db is None:
            self.statusBar().showMessage("数据库正在打开，请稍候再试", 5000)
            return None
        return getattr(document_dialogs, name)(self)

    def _open_data_dir(self) -> None:
        if self._data_dir:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._data_dir)))

    def _explain_lights(self) -> None:
        snap = self.model.status()
        t = snap.thresholds if snap else None
        margins = f"{t.green_margin:g} / {t.yellow_margin:g}" if t else "10 / 25"
        QMessageBox.information(self, "预警规则", (
            "应完成进度 = 当年已过去的天数占全年的比例。\n"
            f"正常（绿●）：完成度不低于应完成进度减 {margins.split(' / ')[0]} 个百分点；\n"
            f"关注（黄▲）：低于上述但不低于应完成进度减 {margins.split(' / ')[1]} 个百分点，或报告为“暂缓”；\n"
            "滞后（红✕）：更低，或报告为“滞后”；\n"
            "逾期（深红‼）：年度已过仍未完成；\n"
            "未填报（灰？）：当前填报周期没有报告；未开始（○）：年度尚未开始；已完成（蓝✓）。\n"
            "措施、任务、部门的汇总取其年度目标完成度的平均值（未填报按 0 计），再按同样规则判断。"))

    def _about(self) -> None:
        QMessageBox.about(self, "关于", f"<b>强基固本三年行动计划 · 进展管理</b> {__version__}<br>"
                          f"离线运行，数据保存在：<br>{self._data_dir or ''}")

"""The main window's 填报 actions: the report form (new, correct), indicator values, delete, history, closing and
reopening periods, purging evidence, the settings and the account dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QMessageBox

from qjgb_desktop.errors import UserError
from qjgb_desktop.services.plan.query import MeasureNode, TargetNode


class EntryActions:
    """Mixed into MainWindow: acts on the selected target through the window's context (self.ctx)."""

    def _target_for_entry(self, node=None) -> TargetNode | None:
        node = node if node is not None else self.current_node()
        if isinstance(node, TargetNode):
            return node
        if isinstance(node, MeasureNode):
            year = self.model.focus_year()
            return next((t for t in node.targets if t.year == year), node.targets[0] if node.targets else None)
        return None

    def _report_form(self, target: TargetNode, base=None):
        from qjgb_desktop.domain.periods import periods_in
        from qjgb_desktop.services.progress import reports as svc
        from qjgb_desktop.services.settings.record import load_settings
        from qjgb_desktop.ui.progress.report_form import ReportForm

        with self.ctx.db.sessions() as s:
            d = svc.form_defaults(s, target.id, self.ctx.today(), self.ctx.user)
            scheme = load_settings(s).scheme
        form = None
        if base is not None:
            def submit(report, _values):  # form.base: after a conflict, the version the user chose to build on
                return self.ctx.write(lambda s: svc.correct_report(s, form.base.id, report, self.ctx.user,
                                                                   self.ctx.today()))
            period, day, department, reporter = base.period, base.report_date, base.department, base.reporter
            status, percent = base.status, base.percent
        else:
            def submit(report, values):
                return self.ctx.write(lambda s: svc.add_report(s, target.id, report, self.ctx.user, self.ctx.today(),
                                                               indicator_values=values))
            period, day, department, reporter = d.period, d.report_date, d.department, d.reporter
            status, percent = d.status, d.percent
            mine = [x for x in (self.ctx.account.departments if self.ctx.account else ()) if x in d.departments]
            if mine and department not in mine:
                department = mine[0]  # a 部门填报员 reports in their own department's name
        periods = [p.code for p in periods_in(self.model.tree().years, scheme) if p.year >= target.year]
        form = ReportForm(target, period=period, periods=periods, report_date=day, department=department,
                          departments=d.departments, reporter=reporter, status=status, percent=percent,
                          submit=submit, base=base, parent=self)
        return form

    def new_report(self):
        """Open the report form for the selected target (for a measure: its target of the year shown)."""
        target = self._target_for_entry()
        if target is None:
            self.statusBar().showMessage("请先在左侧选择一项措施或年度目标", 5000)
            return None
        if self.ctx.db is None:
            self.statusBar().showMessage("数据库正在打开，请稍候再试", 5000)
            return None
        form = self._report_form(target)
        form.open()
        return form

    def correct_report(self, report):
        target = self._find_target(report.target_id)
        if target is None or self.ctx.db is None:
            return None
        form = self._report_form(target, base=report)
        form.open()
        return form

    def enter_indicator_value(self):
        """The selected measure's (or target's) indicator values, entered on their own."""
        from qjgb_desktop.services.progress import reports as svc
        from qjgb_desktop.ui.progress.indicator_dialog import IndicatorValueDialog

        node = self.current_node()
        measure = node.measure if isinstance(node, TargetNode) else node
        if not isinstance(measure, MeasureNode) or not measure.indicators or self.ctx.db is None:
            self.statusBar().showMessage("请先选择一项有量化指标的措施或年度目标", 5000)
            return None

        def submit(indicator_id, value, as_of, note):
            return self.ctx.write(lambda s: svc.set_indicator_value(s, indicator_id, value, as_of, self.ctx.user,
                                                                    self.ctx.today(), note=note))
        dialog = IndicatorValueDialog(measure, self.ctx.today(), submit, self)
        dialog.open()
        return dialog

    def delete_report(self, report) -> bool:
        from qjgb_desktop.services.progress import reports as svc

        reason, ok = QInputDialog.getText(
            self, "删除报告", f"删除报告 #{report.id}（措施{report.measure_no}·{report.year}年 {report.period}）。\n"
            "报告不会真正消失，会连同删除原因保留在修订历史中。\n删除原因：")
        if not ok:
            return False
        try:
            self.ctx.write(lambda s: svc.delete_report(s, report.id, reason, self.ctx.user))
        except (svc.ProgressError, UserError) as exc:  # UserError: access.AccessDenied with accounts
            QMessageBox.warning(self, "无法删除", str(exc))
            return False
        return True

    def show_history(self, report):
        from qjgb_desktop.services.progress.reports import report_history
        from qjgb_desktop.ui.progress.reports_panel import HistoryDialog

        with self.ctx.db.sessions() as s:
            revisions = report_history(s, report.series_id)
        dialog = HistoryDialog(revisions, self)
        dialog.open()
        return dialog

    def _find_target(self, target_id: int) -> TargetNode | None:
        tree = self.model.tree()
        return next((t for m in tree.measures() for t in m.targets if t.id == target_id), None) if tree else None

    # -- periods and settings --------------------------------------------------------------------
    def close_period(self) -> None:
        from qjgb_desktop.services.progress import reports as svc

        snap = self.model.status()
        current = snap.period.code if snap else ""
        code, ok = QInputDialog.getText(self, "关闭填报周期",
                                        "关闭后，该周期的报告将被锁定，不能再新增、修订或删除。\n周期（如 2025Q3）：",
                                        text=current)
        if not ok:
            return
        try:
            self.ctx.write(lambda s: svc.close_period(s, code, self.ctx.user))
        except (svc.ProgressError, UserError) as exc:  # UserError: access.AccessDenied with accounts
            QMessageBox.warning(self, "无法关闭", str(exc))
            return
        self.statusBar().showMessage(f"已关闭填报周期 {code.upper()}", 8000)

    def reopen_period(self) -> None:
        from qjgb_desktop.services.progress import reports as svc

        with self.ctx.db.sessions() as s:
            closed = sorted(svc.closed_periods(s))
        if not closed:
            QMessageBox.information(self, "重新开放填报周期", "目前没有已关闭的周期。")
            return
        code, ok = QInputDialog.getItem(self, "重新开放填报周期", "选择周期（仅管理员）：", closed, len(closed) - 1, False)
        if not ok:
            return
        reason, ok = QInputDialog.getText(self, "重新开放填报周期", f"重新开放 {code} 的原因（将记入留痕）：")
        if not ok:
            return
        try:
            self.ctx.write(lambda s: svc.reopen_period(s, code, reason, self.ctx.user))
        except (svc.ProgressError, UserError) as exc:  # UserError: access.AccessDenied with accounts
            QMessageBox.warning(self, "无法重新开放", str(exc))
            return
        self.statusBar().showMessage(f"已重新开放填报周期 {code}", 8000)

    def purge_evidence(self) -> None:
        from qjgb_desktop.services.evidence import records as ev

        answer = QMessageBox.question(self, "清理佐证文件", "将永久删除所有已移除、且不再被任何佐证材料使用的存储文件。\n"
                                      "记录和留痕保留。此操作仅限管理员，且不能撤销。继续吗？")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            gone = self.ctx.write(lambda s: ev.purge(s, self.ctx.user))
        except (ev.EvidenceError, UserError) as exc:
            QMessageBox.warning(self, "未清理", str(exc))
            return
        self.statusBar().showMessage(f"已删除 {len(gone)} 个不再使用的存储文件", 8000)

    def edit_settings(self):
        from qjgb_desktop.ui.settings.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.ctx, self)
        dialog.accepted.connect(self._update_context_label)
        dialog.open()
        return dialog

    # -- accounts (ui/accounts/accounts_dialog) ------------------------------------------------------------
    def switch_account(self):
        from qjgb_desktop.ui.accounts import accounts_dialog

        return accounts_dialog.switch_account(self)

    def manage_accounts(self):
        from qjgb_desktop.ui.accounts import accounts_dialog

        return accounts_dialog.manage_accounts(self)

    def change_own_password(self):
        from qjgb_desktop.ui.accounts import accounts_dialog

        return accounts_dialog.change_own_password(self)

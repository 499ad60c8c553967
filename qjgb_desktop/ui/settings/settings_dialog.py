"""用户与预警设置: who is working at this PC, the light thresholds, the reporting period scheme, administrators;
the reporting calendar (days to report after a period, periods due otherwise, days to answer a 督办 notice) and the
考核 weights; and the first-start question of who works here (UserDialog)."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from qjgb_desktop.domain.periods import SCHEMES
from qjgb_desktop.errors import UserError
from qjgb_desktop.ui.widgets.dialog_parts import (
    BoundedDoubleSpinBox,
    GuardedDialog,
    NumberField,
    error_banner,
    save_cancel,
)


def _margin_box(value: float, name: str) -> BoundedDoubleSpinBox:
    box = BoundedDoubleSpinBox(objectName=name)
    box.setRange(0, 100)
    box.setDecimals(0)
    box.setSuffix(" 个百分点")
    box.setValue(value)
    return box


def _count_box(value: float, low: int, high: int, suffix: str, name: str) -> BoundedDoubleSpinBox:
    box = BoundedDoubleSpinBox(objectName=name)
    box.setRange(low, high)
    box.setDecimals(0)
    box.setSuffix(suffix)
    box.setValue(value)
    return box


def _department_box(ctx) -> QComboBox:
    """The plan's departments to pick from; editable, for an office the plan does not name."""
    box = QComboBox(objectName="userDepartment")
    box.setEditable(True)
    box.addItem("")
    if ctx.db is not None:
        from qjgb_desktop.services.plan.query import plan_tree

        with ctx.db.sessions() as s:
            box.addItems(plan_tree(s).departments)
    box.setCurrentText(ctx.department)
    box.lineEdit().setPlaceholderText("如：区教委人事科")
    return box


def _name_field(text: str) -> QLineEdit:
    edit = QLineEdit(text, objectName="userName")
    edit.setPlaceholderText("您的姓名，如：张敏")
    edit.setMaxLength(50)
    return edit


class UserDialog(GuardedDialog):
    """Who works at this PC: asked at the first start (when neither ui.ini nor QJGB_USER names anyone), changed
    in 设置. Every report, upload and audit entry made from this PC names this person."""

    def __init__(self, ctx, parent=None, first_start: bool = False) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("userDialog")
        self.setWindowTitle("欢迎使用 · 请填写您的姓名" if first_start else "当前用户")
        intro = QLabel("本程序会记录每一次填报、修改和上传佐证材料由谁完成（留痕）。\n"
                       "请填写您的姓名和所在部门；以后可在“设置 → 用户与预警设置”中修改。")
        intro.setWordWrap(True)
        self.user = _name_field(ctx.user if ctx.user_known else "")
        self.department = _department_box(ctx)
        self.errors = error_banner("userErrors")
        form = QFormLayout()
        form.addRow("姓名", self.user)
        form.addRow("所在部门", self.department)
        buttons = save_cancel(self, "确定")
        if first_start:
            buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("以后再说")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.errors)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(460, 200)
        self.user.setFocus()
        self.remember_state()

    def form_state(self) -> object:
        return self.user.text(), self.department.currentText()

    def accept(self) -> None:
        if not self.user.text().strip():
            self.errors.setText("请填写您的姓名：它会记入每一条记录和留痕")
            self.errors.show()
            return
        self.ctx.set_user(self.user.text(), self.department.currentText())
        super().accept()


class SettingsDialog(GuardedDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        from qjgb_desktop.services.settings.record import load_settings

        self.ctx = ctx
        self.setWindowTitle("用户与预警设置")
        with ctx.db.sessions() as s:
            current = load_settings(s)
        self.user = _name_field(ctx.user)
        self.department = _department_box(ctx)
        if ctx.accounts_on:  # the logged-in account works here; another one logs in with 文件 → 切换账户…
            self.user.setReadOnly(True)
            self.user.setToolTip("已启用账户登录：当前用户即登录的账户，可用“文件 → 切换账户…”更换")
            self.department.setEnabled(False)
        self.green = _margin_box(current.thresholds.green_margin, "greenMargin")
        self.yellow = _margin_box(current.thresholds.yellow_margin, "yellowMargin")
        self.scheme = QComboBox(objectName="scheme")
        for key, label in SCHEMES.items():
            self.scheme.addItem(label, key)
        self.scheme.setCurrentIndex(self.scheme.findData(current.scheme))
        self.max_mb = BoundedDoubleSpinBox(objectName="maxEvidenceMb")
        self.max_mb.setRange(1, 100_000)
        self.max_mb.setDecimals(0)
        self.max_mb.setSuffix(" MB")
        self.max_mb.setValue(current.max_evidence_mb)
        self.new_admin = QLineEdit(objectName="newAdmin")
        self.new_admin.setPlaceholderText("姓名（第一位管理员可由任何人指定，之后须由管理员添加）")
        self.errors = error_banner("settingsErrors")
        self.due_days = _count_box(current.due_days, 0, 90, " 天", "dueDays")
        self.feedback_days = _count_box(current.feedback_days, 1, 60, " 天", "feedbackDays")
        self.overrides = QLineEdit("，".join(f"{k}={v}" for k, v in current.due_overrides.items()),
                                   objectName="dueOverrides")
        self.notice_prefix = QLineEdit(current.notice_prefix, objectName="noticePrefix")
        self.notice_prefix.setMaxLength(20)
        self.notice_prefix.setPlaceholderText("如：延教督（文号为 延教督〔2026〕1号）")
        self.overrides.setPlaceholderText("如 2026Q4=2027-01-15，多个用逗号分开；不填则都按天数计算")
        duty = current.cooperating_duty
        self.cooperating_duty = QLineEdit({"none": "无", "all": "全部"}.get(duty, "") if isinstance(duty, str)
                                          else "、".join(map(str, duty)), objectName="cooperatingDuty")
        self.cooperating_duty.setPlaceholderText("无（仅牵头部门报送）；全部；或措施序号如 3、7")
        self.cooperating_duty.setToolTip("按规则，年度目标的状态由牵头部门的报告决定；配合部门是否也须每期自行报送进展"
                                         "（计入填报日历和按时报送率）")
        from qjgb_desktop.services.supervision.assessment import LABELS

        self.weights = {key: _count_box(current.weights[key], 0, 100, "", f"weight_{key}") for key in LABELS}
        self.numbers = [NumberField(self.green, "正常阈值"), NumberField(self.yellow, "关注阈值"),
                        NumberField(self.max_mb, "单个佐证文件上限"), NumberField(self.due_days, "报送期限"),
                        NumberField(self.feedback_days, "督办反馈期限"),
                        *[NumberField(box, f"{LABELS[k]}权重") for k, box in self.weights.items()]]

        form = QFormLayout()
        form.addRow("当前用户（记入留痕）", self.user)
        form.addRow("所在部门", self.department)
        form.addRow("正常：低于应完成进度不超过", self.numbers[0])
        form.addRow("关注：低于应完成进度不超过", self.numbers[1])
        form.addRow("填报周期", self.scheme)
        form.addRow("单个佐证文件上限", self.numbers[2])
        form.addRow("管理员", QLabel("、".join(current.admins) or "尚未指定"))
        form.addRow("添加管理员", self.new_admin)
        calendar = QFormLayout()
        calendar.addRow("报送截止：周期结束后", self.numbers[3])
        calendar.addRow("个别周期另定截止日期", self.overrides)
        calendar.addRow("配合部门也须报送的措施", self.cooperating_duty)
        calendar.addRow("督办通知要求反馈：", self.numbers[4])
        calendar.addRow("督办通知单文号代字", self.notice_prefix)
        note = QLabel("考核得分 = Σ（各项得分 × 权重）÷ Σ权重；权重为 0 的项目不计。")
        note.setWordWrap(True)
        calendar.addRow(note)
        for number, key in zip(self.numbers[5:], self.weights):
            calendar.addRow(f"考核权重：{LABELS[key]}", number)
        self.pages = QTabWidget(objectName="settingsPages")
        for layout_, title in ((form, "用户与预警"), (calendar, "报送与考核")):
            page = QWidget()
            page.setLayout(layout_)
            self.pages.addTab(page, title)
        buttons = save_cancel(self, "保存")
        layout = QVBoxLayout(self)
        layout.addWidget(self.errors)
        layout.addWidget(self.pages)
        layout.addWidget(buttons)
        self.remember_state()

    def form_state(self) -> object:
        return (self.user.text(), self.department.currentText(), self.green.value(), self.yellow.value(),
                self.scheme.currentData(), self.max_mb.value(), self.new_admin.text(), self.due_days.value(),
                self.feedback_days.value(), self.overrides.text(), self.notice_prefix.text(),
                self.cooperating_duty.text(), *[b.value() for b in self.weights.values()])

    def _overrides(self) -> dict[str, date | None]:
        """The 另定 field as {period: date}; periods removed from it go back to the rule (None)."""
        import re

        from qjgb_desktop.services.settings.record import SettingError

        out: dict[str, date | None] = {}
        for part in filter(None, (p.strip() for p in re.split(r"[,，;；\s]+", self.overrides.text()))):
            code, sep, day = part.partition("=")
            try:
                out[code.strip().upper()] = date.fromisoformat(day.strip())
            except ValueError:
                raise SettingError(f"另定截止日期“{part}”应形如 2026Q4=2027-01-15") from None
        return out

    def accept(self) -> None:
        from qjgb_desktop.services.settings.record import (
            SettingError,
            add_admin,
            set_max_evidence_mb,
            set_scheme,
            set_thresholds,
        )

        refused = [p for p in (n.problem() for n in self.numbers) if p]
        if refused or not self.user.text().strip():
            self.errors.setText("\n".join(refused) or "请填写当前用户的姓名")
            self.errors.show()
            return
        self.ctx.set_user(self.user.text(), self.department.currentText())
        actor = self.ctx.user

        from qjgb_desktop.services.settings import record as svc

        def save(session) -> None:
            set_thresholds(session, self.green.value(), self.yellow.value(), actor)
            set_scheme(session, self.scheme.currentData(), actor)
            set_max_evidence_mb(session, self.max_mb.value(), actor)
            svc.set_due_days(session, self.due_days.value(), actor)
            svc.set_feedback_days(session, self.feedback_days.value(), actor)
            svc.set_notice_prefix(session, self.notice_prefix.text(), actor)
            svc.set_cooperating_duty(session, self.cooperating_duty.text(), actor)
            wanted = self._overrides()
            for code in set(svc.load_settings(session).due_overrides) - set(wanted):
                svc.set_due_override(session, code, None, actor)
            for code, day in wanted.items():
                svc.set_due_override(session, code, day, actor)
            svc.set_weights(session, {k: b.value() for k, b in self.weights.items()}, actor)
            if self.new_admin.text().strip():
                add_admin(session, self.new_admin.text(), actor)
        try:
            self.ctx.write(save)
        except (SettingError, UserError) as exc:  # UserError: refused for the logged-in account (access.py)
            self.errors.setText(f"未保存：{exc}")
            self.errors.show()
            return
        super().accept()

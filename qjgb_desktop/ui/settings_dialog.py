"""用户与预警设置: who is working at this PC, the light thresholds, the reporting period scheme, administrators."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from ..domain.periods import SCHEMES
from .dialog_parts import error_banner, save_cancel


def _margin_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0, 100)
    box.setDecimals(0)
    box.setSuffix(" 个百分点")
    box.setValue(value)
    return box


class SettingsDialog(QDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        from ..services.settings import load_settings

        self.ctx = ctx
        self.setWindowTitle("用户与预警设置")
        with ctx.db.sessions() as s:
            current = load_settings(s)
        self.user = QLineEdit(ctx.user, objectName="userName")
        self.green = _margin_box(current.thresholds.green_margin)
        self.green.setObjectName("greenMargin")
        self.yellow = _margin_box(current.thresholds.yellow_margin)
        self.yellow.setObjectName("yellowMargin")
        self.scheme = QComboBox(objectName="scheme")
        for key, label in SCHEMES.items():
            self.scheme.addItem(label, key)
        self.scheme.setCurrentIndex(self.scheme.findData(current.scheme))
        self.max_mb = QDoubleSpinBox(objectName="maxEvidenceMb")
        self.max_mb.setRange(1, 100_000)
        self.max_mb.setDecimals(0)
        self.max_mb.setSuffix(" MB")
        self.max_mb.setValue(current.max_evidence_mb)
        self.new_admin = QLineEdit(objectName="newAdmin")
        self.new_admin.setPlaceholderText("姓名（第一位管理员可由任何人指定，之后须由管理员添加）")
        self.errors = error_banner("settingsErrors")

        form = QFormLayout()
        form.addRow("当前用户（记入留痕）", self.user)
        form.addRow("正常：低于应完成进度不超过", self.green)
        form.addRow("关注：低于应完成进度不超过", self.yellow)
        form.addRow("填报周期", self.scheme)
        form.addRow("单个佐证文件上限", self.max_mb)
        form.addRow("管理员", QLabel("、".join(current.admins) or "尚未指定"))
        form.addRow("添加管理员", self.new_admin)
        buttons = save_cancel(self, "保存")
        layout = QVBoxLayout(self)
        layout.addWidget(self.errors)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def accept(self) -> None:
        from ..services.settings import SettingError, add_admin, set_max_evidence_mb, set_scheme, set_thresholds

        if not self.user.text().strip():
            self.errors.setText("请填写当前用户的姓名")
            self.errors.show()
            return
        self.ctx.set_user(self.user.text())
        actor = self.ctx.user

        def save(session) -> None:
            set_thresholds(session, self.green.value(), self.yellow.value(), actor)
            set_scheme(session, self.scheme.currentData(), actor)
            set_max_evidence_mb(session, self.max_mb.value(), actor)
            if self.new_admin.text().strip():
                add_admin(session, self.new_admin.text(), actor)
        try:
            self.ctx.write(save)
        except SettingError as exc:
            self.errors.setText(f"未保存：{exc}")
            self.errors.show()
            return
        super().accept()

"""When someone else corrected or deleted a report while this user was correcting it: both versions side by side,
and the user chooses. Nothing is overwritten without this choice."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

FIELDS = (("period", "填报周期"), ("report_date", "填报日期"), ("department", "填报部门"), ("reporter", "填报人"),
          ("status", "状态"), ("percent", "完成度"), ("done", "工作进展"), ("problems", "存在问题"),
          ("next_steps", "下步计划"))
MINE, THEIRS, BACK = "mine", "theirs", "back"


def _text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class ConflictDialog(QDialog):
    """`choice` after it closes: MINE (save mine as a revision of their version), THEIRS (drop mine), BACK."""

    def __init__(self, conflict, mine, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictDialog")
        self.setWindowTitle("报告已被他人修改")
        self.choice = BACK
        current = conflict.current
        when = f"{current.deleted_at or current.created_at:%Y-%m-%d %H:%M}"
        who = current.deleted_by if current.deleted else current.created_by
        intro = QLabel(f"你在修订这份报告时，{who} 于 {when} "
                       + ("删除了它（原因：" + current.delete_reason + "）。" if current.deleted else
                          f"保存了新的版本（第 {current.revision} 版）。")
                       + "你的修改尚未保存，对方的修改也没有被覆盖。请比较后选择。")
        intro.setWordWrap(True)
        self.table = QTableWidget(len(FIELDS), 3, objectName="conflictTable")
        self.table.setHorizontalHeaderLabels(["你打开时的版本", f"{who} 的版本" + ("（已删除）" if current.deleted else ""),
                                              "你的修改"])
        self.table.setVerticalHeaderLabels([label for _, label in FIELDS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for row, (key, _) in enumerate(FIELDS):
            values = [_text(getattr(conflict.opened, key)), _text(getattr(current, key)), _text(getattr(mine, key))]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value + ("%" if key == "percent" and value else ""))
                item.setToolTip(value)
                if col and values[col] != values[0]:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        self.mine = QPushButton("以我的修改为准（在对方版本上再修订）" if not current.deleted else "", objectName="keepMine")
        self.mine.setVisible(not current.deleted)
        self.theirs = QPushButton("保留对方的版本（放弃我的修改）", objectName="keepTheirs")
        self.back = QPushButton("返回修改", objectName="backToForm")
        self.back.setDefault(True)
        for button, choice in ((self.mine, MINE), (self.theirs, THEIRS), (self.back, BACK)):
            button.clicked.connect(lambda _c=False, c=choice: self._choose(c))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.mine, self.theirs, self.back):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(820, 480)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()

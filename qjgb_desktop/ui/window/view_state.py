"""The view as each user left it: filters, selection, expanded branches and tabs, kept per user in ui.ini (several
clerks may share a PC), saved when the window closes and put back when it opens."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QTimer

from qjgb_desktop.qtmodels.plan_filter import ROLE_ANY
from qjgb_desktop.qtmodels.plan_tree import NodeRole
from qjgb_desktop.ui.widgets.lazy_tab import LazyTab


def _group(window) -> str:
    # Several clerks may share a PC (and its ui.ini): each finds the plan as they left it.
    name = "".join(ch if ch.isalnum() else "_" for ch in window.ctx.user) or "_"
    return f"view/{name}"


def save(window) -> None:
    """Remember the window's filters, selection, expanded branches and tabs for its user (in ui.ini)."""
    if window.model.tree() is None:
        return
    bar = window.filter_bar
    node = window.current_node()
    expanded = []

    def walk(parent: QModelIndex) -> None:
        for row in range(window.proxy.rowCount(parent)):
            index = window.proxy.index(row, 0, parent)
            if window.tree_view.isExpanded(index):
                expanded.append(str(window.model.key_of(index.data(NodeRole))))
                walk(index)
    walk(QModelIndex())
    s = window._settings
    s.beginGroup(_group(window))
    s.setValue("department", bar.department.currentData() or "")
    s.setValue("role", bar.role.currentData())
    s.setValue("year", bar.year.currentData() or 0)
    s.setValue("keyword", bar.keyword.text())
    s.setValue("selection", window.model.key_of(node) if node is not None else 0)
    s.setValue("expanded", ",".join(expanded))
    s.setValue("tab", window.tabs.currentIndex())
    s.setValue("bottomTab", window.bottom_tabs.currentIndex())
    s.endGroup()


def restore(window) -> None:
    """Put back what save() remembered for the window's user, and say so when filters come back."""
    s = window._settings
    s.beginGroup(_group(window))
    saved = {key: s.value(key) for key in s.childKeys()}
    s.endGroup()
    if not saved or window.model.tree() is None:
        return

    def number(key: str) -> int:
        try:
            return int(saved.get(key) or 0)
        except (TypeError, ValueError):
            return 0
    bar = window.filter_bar
    bar.select_department(str(saved.get("department") or "") or None, str(saved.get("role") or ROLE_ANY))
    bar.select_year(number("year") or None)
    bar.keyword.setText(str(saved.get("keyword") or ""))
    if "expanded" in saved:
        keys = [int(k) for k in str(saved.get("expanded") or "").split(",") if k.strip().isdigit()]
        window.tree_view.collapseAll()
        for key in keys:
            index = window.proxy.mapFromSource(window.model.index_of_key(key))
            if index.isValid():
                window.tree_view.expand(index)
    selection = window.proxy.mapFromSource(window.model.index_of_key(number("selection")))
    if selection.isValid():
        window.tree_view.setCurrentIndex(selection)
        window.tree_view.scrollTo(selection)
    window.bottom_tabs.setCurrentIndex(number("bottomTab"))
    tab = number("tab")
    if 0 < tab < window.tabs.count():
        if isinstance(window.tabs.widget(tab), LazyTab):  # charts: after the first paint, not before it
            QTimer.singleShot(0, window.tabs, lambda: window.tabs.setCurrentIndex(tab))
        else:
            window.tabs.setCurrentIndex(tab)
    if window.proxy.is_filtering():
        window.statusBar().showMessage(f"已恢复上次的筛选：{filter_text(window)}。“清除筛选”可显示全部。", 15000)


def filter_text(window) -> str:
    """The active filters in words, e.g. 部门 区教委（仅牵头） · 2026年 · 关键词“冰雪”."""
    bar = window.filter_bar
    parts = []
    if bar.department.currentData():
        role = bar.role.currentData()
        parts.append(f"部门 {bar.department.currentData()}"
                     + ("" if role == ROLE_ANY else f"（{bar.role.currentText()}）"))
    if bar.year.currentData():
        parts.append(f"{bar.year.currentData()}年")
    if bar.keyword.text().strip():
        parts.append(f"关键词“{bar.keyword.text().strip()}”")
    return " · ".join(parts)

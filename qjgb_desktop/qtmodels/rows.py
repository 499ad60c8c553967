"""A read-only table over a list of plain records (reports, evidence): one row per record."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

RecordRole = Qt.ItemDataRole.UserRole + 1  # the record of the row itself


class RecordTableModel(QAbstractTableModel):
    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list = []

    def set_records(self, records: list) -> None:
        self.beginResetModel()  # another selection's list: a reset is the honest signal here
        self._rows = list(records)
        self.endResetModel()

    def records(self) -> list:
        return list(self._rows)

    def record(self, row: int):
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        if role == RecordRole:
            return record
        return self.record_data(record, index.column(), role)

    def record_data(self, record, column: int, role: int):
        raise NotImplementedError


def selected_record(view):
    """The record of the row selected in a view over a RecordTableModel, or None."""
    rows = view.selectionModel().selectedRows()
    return rows[0].data(RecordRole) if rows else None


def refill_keeping_place(view, model: RecordTableModel, records: list, key) -> None:
    """Give the view's model new records, keeping the selected record (found again by key(record)) and the scroll
    position: a refresh after someone else's change must not move the clerk's place. Without a previous selection
    the first row is selected."""
    before = selected_record(view)
    wanted = key(before) if before is not None else None
    bar = view.verticalScrollBar()
    scroll = bar.value()
    model.set_records(records)
    row = next((i for i, r in enumerate(records) if wanted is not None and key(r) == wanted), None)
    if row is not None:
        view.selectRow(row)
        bar.setValue(scroll)
    elif records:
        view.selectRow(0)


@contextmanager
def filter_change(proxy, rows_only: bool = False):
    """Change a filter proxy's criteria inside this block. Qt 6.10's beginFilterChange/endFilterChange where they
    exist; on older Qt (6.9 is the last PySide6 built for glibc 2.28, for 统信UOS 20 / 银河麒麟 V10) the rows are
    filtered again afterwards with invalidateRowsFilter."""
    if hasattr(proxy, "endFilterChange"):
        proxy.beginFilterChange()
        yield
        if rows_only:
            from PySide6.QtCore import QSortFilterProxyModel

            proxy.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            proxy.endFilterChange()
    else:
        yield
        proxy.invalidateRowsFilter()

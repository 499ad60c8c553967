"""Evidence of a target or measure as a table, with thumbnails for images loaded off the UI thread."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageReader, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from qjgb_desktop.qtmodels.rows import RecordRole, RecordTableModel

COL_NAME, COL_TARGET, COL_SIZE, COL_NOTE, COL_BY, COL_AT = range(6)
COLUMNS = ("文件", "所属", "大小", "说明", "上传人", "上传时间")
EvidenceRole = RecordRole
THUMB = QSize(48, 48)
THUMB_MAX_BYTES = 40 * 2**20  # larger images get the generic icon rather than a long decode


def human_size(n: int) -> str:
    for unit in ("字节", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "字节" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def load_thumbnail(source: str | bytes) -> QImage:
    """Decode a small version of an image, from a file path or (server mode) its bytes (safe in a worker thread:
    QImage, not QPixmap)."""
    if isinstance(source, bytes):
        buffer = QBuffer()
        buffer.setData(QByteArray(source))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer)
    else:
        reader = QImageReader(source)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()


class EvidenceTableModel(RecordTableModel):
    """Rows are services.evidence.EvidenceView."""

    COLUMNS = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._thumbs: dict[str, QPixmap] = {}

    def set_items(self, items: list) -> None:
        self.set_records(items)

    def items(self) -> list:
        return self.records()

    def item(self, row: int):
        return self.record(row)

    def wanted_thumbnails(self) -> list[tuple[str, int]]:
        """(sha256, size) of images that have no thumbnail yet."""
        return [(e.sha256, e.size) for e in self._rows if e.is_image and e.sha256 not in self._thumbs
                and e.size <= THUMB_MAX_BYTES]

    def set_thumbnail(self, sha256: str, image: QImage) -> None:
        if image.isNull():
            return
        self._thumbs[sha256] = QPixmap.fromImage(image)
        for row, e in enumerate(self._rows):
            if e.sha256 == sha256:
                index = self.index(row, COL_NAME)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def record_data(self, e, col: int, role: int):
        if role == Qt.ItemDataRole.DisplayRole:
            return (e.original_name, f"措施{e.measure_no}·{e.year}年" + (f" · 报告#{e.report_id}" if e.report_id else ""),
                    human_size(e.size), e.description, e.created_by, f"{e.created_at:%Y-%m-%d %H:%M}")[col]
        if role == Qt.ItemDataRole.DecorationRole and col == COL_NAME:
            if e.sha256 in self._thumbs:
                return self._thumbs[e.sha256]
            style = QApplication.style()
            kind = QStyle.StandardPixmap.SP_FileIcon
            return style.standardIcon(kind)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{e.original_name}\nSHA-256：{e.sha256}\n{human_size(e.size)} · {e.mime}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

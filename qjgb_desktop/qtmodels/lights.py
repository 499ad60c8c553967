"""How a state looks: colour plus a shape, so lights read without colour (colour-blind users, grey print)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from ..domain.status import (
    COMPLETED,
    NOT_REPORTED,
    NOT_STARTED,
    OVERDUE,
    RED,
    STATE_COLORS as COLORS,
    YELLOW,
)


@cache
def state_icon(state: str, size: int = 14) -> QIcon:
    pix = QPixmap(size * 2, size * 2)  # drawn at 2x for high-DPI screens
    pix.setDevicePixelRatio(2)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QColor(COLORS.get(state, "#999999"))
    p.setPen(QPen(color.darker(140), 1))
    p.setBrush(QBrush(color))
    r = QRectF(1.5, 1.5, size - 3, size - 3)
    if state == YELLOW:
        p.drawPolygon(QPolygonF([QPointF(size / 2, 1.5), QPointF(size - 1.5, size - 2), QPointF(1.5, size - 2)]))
    elif state in (RED, OVERDUE):
        p.drawRect(r)
        p.setPen(QPen(QColor("white"), 1.6))
        p.drawLine(QPointF(4, 4), QPointF(size - 4, size - 4))
        p.drawLine(QPointF(size - 4, 4), QPointF(4, size - 4))
    elif state == COMPLETED:
        p.drawEllipse(r)
        path = QPainterPath(QPointF(3.5, size / 2))
        path.lineTo(size / 2 - 1, size - 4)
        path.lineTo(size - 3.5, 4)
        p.setPen(QPen(QColor("white"), 1.8))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
    elif state == NOT_STARTED:
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(r)
    elif state == NOT_REPORTED:
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(color, 1.6, Qt.PenStyle.DotLine))
        p.drawEllipse(r)
    else:
        p.drawEllipse(r)
    p.end()
    return QIcon(pix)

"""How a state looks: colour plus a shape, so lights read without colour (colour-blind users, grey print).

Each state has its own shape (README, 红黄绿灯): 已完成 ✓ on a filled circle, 正常 ● a filled circle, 关注 ▲,
滞后 ✕ on a square, 逾期 ‼ on an octagon, 未填报 a dotted ring, 未开始 ○ an open ring."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from qjgb_desktop.domain.status import COMPLETED, NOT_REPORTED, NOT_STARTED, OVERDUE, RED, YELLOW
from qjgb_desktop.domain.status import STATE_COLORS as COLORS


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
    elif state == RED:  # ✕ on a square
        p.drawRect(r)
        p.setPen(QPen(QColor("white"), 1.6))
        p.drawLine(QPointF(4, 4), QPointF(size - 4, size - 4))
        p.drawLine(QPointF(size - 4, 4), QPointF(4, size - 4))
    elif state == OVERDUE:  # ‼ on an octagon (a stop sign): not the square ✕ of 滞后, also in grey print
        c, k = size / 2, (size - 3) / 2
        e = k * 0.414  # half an edge of the regular octagon
        p.drawPolygon(QPolygonF([QPointF(c + x, c + y) for x, y in (
            (-e, -k), (e, -k), (k, -e), (k, e), (e, k), (-e, k), (-k, e), (-k, -e))]))
        p.setPen(QPen(QColor("white"), 1.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        for x in (c - 2, c + 2):
            p.drawLine(QPointF(x, 4), QPointF(x, size - 6.2))
            p.drawPoint(QPointF(x, size - 4))
    elif state == COMPLETED:
        p.drawEllipse(r)
        path = QPainterPath(QPointF(3.5, size / 2))
        path.lineTo(size / 2 - 1, size - 4)
        path.lineTo(size - 3.5, 4)
        # A bold tick: in grey print the full circle of 正常 and this one differ by the tick alone.
        p.setPen(QPen(QColor("white"), 2.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
    elif state == NOT_STARTED:
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(r)
    elif state == NOT_REPORTED:  # ? in a dotted ring
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(color, 1.6, Qt.PenStyle.DotLine))
        p.drawEllipse(r)
        font = QFont()
        font.setPixelSize(round(size * 0.7))
        font.setBold(True)
        p.setFont(font)
        p.setPen(QPen(color.darker(130)))
        p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, "?")
    else:
        p.drawEllipse(r)
    p.end()
    return QIcon(pix)

"""Render resources/icons/qjgb.svg to the PNG sizes and the Windows .ico the program and installers use.

    .venv/bin/python tools/make_icons.py

Run after editing the SVG and commit the outputs: builds use the committed files and need no SVG renderer.
Qt's SVG renderer (PySide6, installed with the program) draws; Pillow (installed with matplotlib) writes
the .ico with every size inside.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(svg: Path, size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"not a valid SVG: {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"could not write {out}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (QImage/QPainter need it)
    svg = ICONS / "qjgb.svg"
    pngs = []
    for size in SIZES:
        out = ICONS / f"qjgb-{size}.png"
        render(svg, size, out)
        pngs.append(out)
        print(out.relative_to(ICONS.parent.parent))
    # each size drawn by the renderer at that size (sharper than Pillow scaling the largest one down)
    images = [Image.open(p).convert("RGBA") for p in pngs]
    ico = ICONS / "qjgb.ico"
    images[-1].save(ico, format="ICO", sizes=[(s, s) for s in SIZES], append_images=images[:-1])
    print(ico.relative_to(ICONS.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())

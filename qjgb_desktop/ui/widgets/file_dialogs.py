"""File dialogs that open where the user was last time for the same purpose (evidence, Excel exports, returned
templates …), else in Documents, never in the program's folder. The folder is remembered per purpose in the
window's ui.ini (QSettings key dialogs/<purpose>) once the user has picked something there.

The calls go through QFileDialog's static functions, so the platform's own dialog is used and tests can patch
them as before.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget


def _settings(parent: QWidget | None, settings: QSettings | None) -> QSettings:
    if settings is not None:
        return settings
    widget = parent
    while widget is not None:  # the window's context holds its settings (ui.ini)
        ctx = getattr(widget, "ctx", None)
        if getattr(ctx, "settings", None) is not None:
            return ctx.settings
        widget = widget.parentWidget()
    from qjgb_desktop import paths

    return QSettings(str(paths.data_dir() / "ui.ini"), QSettings.Format.IniFormat)


def documents_folder() -> Path:
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if docs and Path(docs).is_dir():
        return Path(docs)
    return Path.home()


def start_folder(purpose: str, parent: QWidget | None = None, settings: QSettings | None = None) -> Path:
    """Where a dialog for this purpose opens: the last folder used for it if it still exists, else Documents."""
    last = _settings(parent, settings).value(f"dialogs/{purpose}")
    if last and Path(str(last)).is_dir():
        return Path(str(last))
    return documents_folder()


def remember_folder(purpose: str, folder: str | Path, parent: QWidget | None = None,
                    settings: QSettings | None = None) -> None:
    _settings(parent, settings).setValue(f"dialogs/{purpose}", str(Path(folder)))


def save_file_name(parent: QWidget | None, purpose: str, caption: str, file_name: str = "", filters: str = "",
                   settings: QSettings | None = None) -> str:
    """QFileDialog.getSaveFileName starting at <last folder>/<file_name>; "" when cancelled."""
    start = start_folder(purpose, parent, settings) / Path(file_name).name if file_name else \
        start_folder(purpose, parent, settings)
    name, _ = QFileDialog.getSaveFileName(parent, caption, str(start), filters)
    if name:
        remember_folder(purpose, Path(name).parent, parent, settings)
    return name


def open_file_names(parent: QWidget | None, purpose: str, caption: str, filters: str = "",
                    settings: QSettings | None = None) -> list[str]:
    """QFileDialog.getOpenFileNames starting in the last folder; [] when cancelled."""
    names, _ = QFileDialog.getOpenFileNames(parent, caption, str(start_folder(purpose, parent, settings)), filters)
    if names:
        remember_folder(purpose, Path(names[0]).parent, parent, settings)
    return list(names)


def existing_folder(parent: QWidget | None, purpose: str, caption: str, settings: QSettings | None = None) -> str:
    """QFileDialog.getExistingDirectory starting in the last folder chosen; "" when cancelled."""
    folder = QFileDialog.getExistingDirectory(parent, caption, str(start_folder(purpose, parent, settings)))
    if folder:
        remember_folder(purpose, folder, parent, settings)
    return folder

"""Every file written for the user goes through `write_atomically`: the content goes to a temporary file in the
same folder, is flushed to disk, and only then takes the final name. A failure (disk full, a kill, a bug) leaves
the old file as it was, or no file, never a half-written one.

Also the names such files get: `safe_file_name` makes one plain file name on Windows, macOS and Linux."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows; NTFS journals the rename
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_FORBIDDEN = re.compile(r'[\x00-\x1f<>:"/\\|?*]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_file_name(name: str, fallback: str = "文件") -> str:
    """A name that is one plain file name on Windows, macOS and Linux (for copies and inspection packs)."""
    base = name.replace("\\", "/").split("/")[-1]
    base = _FORBIDDEN.sub("_", base).strip(" .")
    if not base or base in (".", ".."):
        base = fallback
    stem, dot, ext = base.rpartition(".")
    if (stem if dot else base).upper() in _RESERVED:
        base = "_" + base
    if len(base.encode("utf-8")) > 200:
        ext = ("." + ext) if dot and len(ext) <= 10 else ""
        keep = base[: -len(ext)] if ext else base
        while len((keep + ext).encode("utf-8")) > 200:
            keep = keep[:-1]
        base = keep + ext
    return base


PART_PREFIX = ".qjgb-part-"


def _default_mode() -> int:
    """What a file created the ordinary way would get (mkstemp makes 0600)."""
    if os.name == "nt":
        return 0o666
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _default_mode()


def write_atomically(out: Path, write: Callable[[Path], object]):
    """Call write(temporary path), then move the result to `out`. Returns what write returned."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=PART_PREFIX, suffix=out.suffix, dir=out.parent)
    os.close(fd)
    partial = Path(name)
    try:
        result = write(partial)
        with open(partial, "rb+") as fh:
            os.fsync(fh.fileno())
        if os.name != "nt":
            os.chmod(partial, FILE_MODE)
        os.replace(partial, out)
        _fsync_dir(out.parent)
        return result
    finally:
        partial.unlink(missing_ok=True)


def save_workbook(wb, out: Path) -> Path:
    """openpyxl's Workbook.save through a temporary file."""
    write_atomically(out, wb.save)
    return Path(out)

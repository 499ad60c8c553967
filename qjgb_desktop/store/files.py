"""Every file written for the user goes through `write_atomically`: the content goes to a temporary file in the
same folder, is flushed to disk, and only then takes the final name. A failure (disk full, a kill, a bug) leaves
the old file as it was, or no file, never a half-written one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from qjgb_desktop.store.blobs import _fsync_dir

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

"""Opening a stored evidence file with the system's program, or saving a copy of it: which types are opened at
once, which only shown in their folder after a warning, and the private copy the viewer gets.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from qjgb_desktop.domain.validation import clean_text
from qjgb_desktop.services.evidence.records import blob_store
from qjgb_desktop.store.blobs import BlobStore
from qjgb_desktop.store.files import safe_file_name
from qjgb_desktop.store.server_blobs import DatabaseBlobStore

# Opened directly (double-click, 打开): the types evidence really comes in whose system viewers do not run code
# from the file: PDF and OFD (the national e-document format), pictures, audio/video, plain text, and office
# documents without macros. Legacy .doc/.xls/.ppt and WPS's .wps/.et/.dps can hold macros, but Office and WPS
# keep those behind their own prompt, and the copy is marked as downloaded (Protected View) on Windows.
# Everything else, by default, is only shown in its folder after a warning: programs and scripts (.exe .bat .cmd
# .com .scr .pif .msi .lnk .url .js .jse .vbs .wsf .ps1 .hta .jar .reg .cpl …), macro formats (.docm .xlsm
# .pptm .xlsb .dotm …), web pages and SVG (scripts in a browser), archives (a program one click inside),
# RTF (embedded objects) and CSV (formulas run by Excel).
SAFE_TO_OPEN = frozenset({
    "pdf", "ofd",
    "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "heic",
    "mp4", "mov", "mp3", "m4a", "wav",
    "txt",
    "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps", "odt", "ods", "odp",
})


# A file that says "program" in its first bytes is not opened whatever its name: Windows PE, ELF, Mach-O,
# Windows shortcut.
_PROGRAM_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe",
                  b"L\x00\x00\x00\x01\x14\x02\x00")


BLOCKED_SUFFIX = ".已阻止"


OPEN, SHOW_ONLY = "open", "show_only"


def _copy_name(name: str) -> str:
    return safe_file_name(clean_text(name, multiline=False).strip())


def file_extension(name: str) -> str:
    """The extension the system would go by, lower case, of the name a copy gets ("" for none)."""
    stem, dot, ext = _copy_name(name).rpartition(".")
    return ext.lower() if dot and stem else ""


def open_policy(name: str, head: bytes = b"") -> str:
    """"open" when the system may open a file of this name (and these first bytes) directly; "show_only" when
    it must only be shown in its folder, after a warning, because opening might run it."""
    if file_extension(name) in SAFE_TO_OPEN and not bytes(head).startswith(_PROGRAM_MAGIC):
        return OPEN
    return SHOW_ONLY


def viewer_copy_name(name: str, head: bytes = b"") -> str:
    """The name of the copy handed to the system: the original name when it is safe to open, else the original
    name plus an inert suffix (no program is registered for it, so even a double-click in the folder runs
    nothing)."""
    copy = _copy_name(name)
    return copy if open_policy(name, head) == OPEN else copy + BLOCKED_SUFFIX


def viewer_copy(sha256: str, original_name: str, folder: Path, store: BlobStore | None = None
                ) -> tuple[Path, str]:
    """A copy of a stored file in `folder` for the system to open or show; returns (copy, open_policy).
    The stored file keeps its hash name; the copy is written under a temporary name and renamed, so a failed copy
    is never mistaken for a finished one, and is marked as downloaded from the Internet on Windows (Office then
    opens it in Protected View, with macros off)."""
    store = store or blob_store()
    with store.open(sha256) as fh:
        head = fh.read(16)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / viewer_copy_name(original_name, head)
    if not target.is_file():
        partial = folder / f".part-{sha256[:16]}"
        try:
            save_content(sha256, partial, store)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        _mark_downloaded(target)
    return target, open_policy(original_name, head)


def save_content(sha256: str, out: Path, store: BlobStore | DatabaseBlobStore | None = None) -> None:
    """Write a stored content to the file `out` (replaced), streamed: from the file store or the server alike."""
    with (store or blob_store()).open(sha256) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def _mark_downloaded(path: Path) -> None:
    if os.name != "nt":
        return
    try:  # NTFS alternate data stream; a FAT or network drive without streams just has no mark
        with open(f"{path}:Zone.Identifier", "w", encoding="ascii") as fh:
            fh.write("[ZoneTransfer]\r\nZoneId=3\r\n")
    except OSError:
        pass

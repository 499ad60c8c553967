"""Content-addressed file store for evidence (佐证材料): <root>/ab/abcdef…(64 hex), one file per content.

A file is copied to a temporary name inside the store while it is hashed, flushed to disk (fsync), then renamed
into place, so a crash or a failed copy never leaves a half file under a real name. Stored names come from the
hash alone, never from the user's file name, so no name can reach outside the store.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

CHUNK = 4 * 1024 * 1024
TEMP_PREFIX = ".incoming-"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class BlobError(OSError):
    pass


class Cancelled(Exception):
    """The user cancelled a long copy; nothing was kept."""


def evidence_store() -> "BlobStore":
    """The store of the current data folder (<data>/evidence)."""
    from ..paths import data_dir

    return BlobStore(data_dir() / "evidence")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not _HEX64.match(sha256 or ""):
            raise BlobError(f"不是有效的 SHA-256：{sha256!r}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, source: Path, on_bytes: Callable[[int], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> tuple[str, int, bool]:
        """Copy `source` in; returns (sha256, size, newly_stored). The source is only read."""
        self.root.mkdir(parents=True, exist_ok=True)
        temp = self.root / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(source, "rb") as src, open(temp, "xb") as dst:
                while True:
                    chunk = src.read(CHUNK)
                    if not chunk:
                        break
                    if cancelled is not None and cancelled():
                        raise Cancelled()
                    digest.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                dst.flush()
                os.fsync(dst.fileno())
            sha = digest.hexdigest()
            final = self.path_for(sha)
            if final.is_file():
                temp.unlink()
                return sha, size, False
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final)
            _fsync_dir(final.parent)
            return sha, size, True
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def remove(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        if path.is_file():
            path.unlink()
            return True
        return False

    def hash_of(self, sha256: str) -> str:
        digest = hashlib.sha256()
        with open(self.path_for(sha256), "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def stored(self) -> Iterator[str]:
        """Every content hash present in the store."""
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:
                for f in sorted(sub.iterdir()):
                    if _HEX64.match(f.name) and f.name.startswith(sub.name):
                        yield f.name

    def leftovers(self) -> list[Path]:
        """Temporary files of copies that never finished (a crash); safe to delete."""
        return sorted(self.root.glob(f"{TEMP_PREFIX}*")) if self.root.is_dir() else []


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

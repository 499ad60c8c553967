"""Content-addressed file store for evidence (佐证材料): <root>/ab/abcdef…(64 hex), one file per content.

A file is copied to a temporary name inside the store while it is hashed, flushed to disk (fsync), then renamed
into place, so a crash or a failed copy never leaves a half file under a real name. Stored names come from the
hash alone, never from the user's file name, so no name can reach outside the store.

A copy that is killed leaves its temporary file (<store>/.incoming-<32 hex>) behind. Those are swept
automatically (clean_leftovers: at the first write of every store object, and clean_evidence_leftovers at program
start), and the sweep can never take a file that is still being written, by any process:
- only names of exactly that pattern, directly in the store folder, regular files (no links), are considered;
- only when untouched for LEFTOVER_AGE_S (10 minutes): a running copy rewrites its file every chunk (4 MB);
- on POSIX the writer holds an exclusive flock on its temporary file from creation until it closes it, just
  before the rename (that instant is covered by the age rule), and the sweep deletes only while holding that lock
  itself (taken without waiting; a held lock means "in use": skip); on Windows a file open in another process
  cannot be deleted at all (Python opens without FILE_SHARE_DELETE), so the delete fails and the file is skipped.
The write lock of the data folder is not used for this: it sits beside the database, which may be elsewhere (or a
server), and full backups copy blobs without it. Even if all of the above were defeated (a writer stalled for
10 minutes on a file system without locks), the writer's own rename would fail and its attach would fail cleanly
with nothing recorded: a stored name only ever appears by renaming a complete, hashed file.

In server mode the contents live in the database instead (server_blobs.DatabaseBlobStore, same interface;
services/evidence/records.blob_store picks the store of the current database). Contents are read through `open()`
(a stream) in both.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from qjgb_desktop.store.files import _fsync_dir

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


CHUNK = 4 * 1024 * 1024


TEMP_PREFIX = ".incoming-"


LEFTOVER_AGE_S = 10 * 60


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


_TEMP_NAME = re.compile(r"^\.incoming-[0-9a-f]{32}$")


log = logging.getLogger(__name__)


class BlobError(OSError):
    pass


class Cancelled(Exception):
    """The user cancelled a long copy; nothing was kept."""


def evidence_store() -> "BlobStore":
    """The store of the current data folder (<data>/evidence)."""
    from qjgb_desktop.paths import data_dir

    return BlobStore(data_dir() / "evidence")


def _hold(fd: int) -> bool:
    """Take an exclusive lock on an open file without waiting: True when taken (or not lockable at all here)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without flock: the age rule alone decides
        return True
    return True


class _Store:
    """What both stores (files here, chunks on a server) share: a file is put in as its stream."""

    def put(self, source: Path, on_bytes: Callable[[int], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> tuple[str, int, bool]:
        """Copy `source` in; returns (sha256, size, newly_stored). The source is only read."""
        with open(source, "rb") as src:
            return self.put_stream(src, on_bytes, cancelled)


class BlobStore(_Store):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._swept = False

    def path_for(self, sha256: str) -> Path:
        if not _HEX64.match(sha256 or ""):
            raise BlobError(f"不是有效的 SHA-256：{sha256!r}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_stream(self, src: BinaryIO, on_bytes: Callable[[int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> tuple[str, int, bool]:
        """Copy what an open binary stream gives in (another store's content, a backup's file), like `put`."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._swept:
            self.clean_leftovers()
        temp = self.root / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(temp, "xb") as dst:
                _hold(dst.fileno())  # released by the close: tells a sweep in another process "in use"
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
                temp.unlink(missing_ok=True)
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

    def open(self, sha256: str) -> BinaryIO:
        """The stored content for reading (a file object; raises OSError when it is not there)."""
        return open(self.path_for(sha256), "rb")

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
        """Temporary files present now: of copies that never finished (a kill), or of one running right now."""
        try:
            with os.scandir(self.root) as entries:
                return sorted(Path(e.path) for e in entries
                              if _TEMP_NAME.match(e.name) and e.is_file(follow_symlinks=False))
        except OSError:
            return []

    def clean_leftovers(self, min_age_s: float = LEFTOVER_AGE_S) -> tuple[int, int]:
        """Delete the temporary files of interrupted copies; returns (files, bytes) deleted. Never one that is
        being written (see the module's notes); those stay for the next sweep. Never raises for a file."""
        self._swept = True
        count = size = 0
        for path in self.leftovers():
            try:
                st = path.lstat()
                if time.time() - st.st_mtime < min_age_s:
                    continue
                if fcntl is None:
                    path.unlink()  # refused by Windows while a writer has it open
                else:
                    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
                    try:
                        now = os.fstat(fd)
                        if not _hold(fd) or now.st_ino != st.st_ino or time.time() - now.st_mtime < min_age_s:
                            continue
                        path.unlink()
                    finally:
                        os.close(fd)
            except OSError:
                continue
            count += 1
            size += st.st_size
        if count:
            log.info("removed %d leftover temporary evidence file(s), %d bytes, in %s", count, size, self.root)
        return count, size


def clean_evidence_leftovers(data_dir: Path) -> tuple[int, int]:
    """Program start: sweep <data_dir>/evidence of interrupted copies; returns (files, bytes) deleted.
    Cheap (one listing of the store folder) and safe next to a running writer; never raises."""
    try:
        return BlobStore(Path(data_dir) / "evidence").clean_leftovers()
    except OSError:
        return 0, 0

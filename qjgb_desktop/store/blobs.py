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

In server mode the contents live in the database instead (DatabaseBlobStore, same interface; services/evidence/records.
blob_store picks the store of the current database). Contents are read through `open()` (a stream) in both.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

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


# -- server mode: contents in the database ---------------------------------------------------------------

DB_CHUNK = 1 << 20  # the most bytes one blob_chunk row holds
_UPLOAD_LOCK_SPACE = 0x716A6762  # first key of the two-key advisory locks an upload holds ("qjgb"); the write
# lock of store/engine.py uses the one-key form, a separate lock space


def _upload_lock_key(upload_id: str) -> int:
    return int(upload_id[:8], 16) - 2**31  # a signed int4; two uploads sharing one only make a sweep skip both


class DatabaseBlobStore(_Store):
    """Server mode: evidence contents in the database, content-addressed, in pieces of at most DB_CHUNK bytes, so
    one pg_dump (or `qjgb backup --full`) holds everything. Same interface as BlobStore; contents are read with
    `open()` (a stream), never by path. Needs PostgreSQL (advisory locks, ON CONFLICT).

    An upload writes its pieces as blob_chunk rows under a fresh upload_id, each piece committed on the store's
    own connection (never inside the caller's transaction, which may hold the server's write lock, and never one
    huge transaction), then makes the content exist with ONE insert of its stored_blob row, which only succeeds
    when every piece is there (ON CONFLICT DO NOTHING: if the content was there already, the new pieces are
    dropped). So a stored_blob
    always has all its pieces, and an interrupted upload (killed, disconnected) leaves only pieces without a
    stored_blob: `clean_leftovers` removes those older than LEFTOVER_AGE_S. While an upload runs its connection
    holds an advisory lock on its upload_id and the sweep deletes only pieces whose lock it can take itself, so
    even a stalled upload older than the age limit is never swept; a killed client's lock goes with its
    connection.

    With `connection`, reads go through that connection (a backup's snapshot transaction sees exactly the contents
    of its snapshot); writes always use connections of their own."""

    def __init__(self, engine, connection=None) -> None:
        self.engine = engine
        self._connection = connection
        self._swept = False

    # -- reading ------------------------------------------------------------------------------------------
    def _reader(self):
        from contextlib import nullcontext

        return nullcontext(self._connection) if self._connection is not None else self.engine.connect()

    def _row(self, conn, sha256: str):
        from sqlalchemy import text

        if not _HEX64.match(sha256 or ""):
            raise BlobError(f"不是有效的 SHA-256：{sha256!r}")
        return conn.execute(text("SELECT upload_id, size FROM stored_blob WHERE sha256 = :sha"),
                            {"sha": sha256}).first()

    def has(self, sha256: str) -> bool:
        with self._reader() as conn:
            return self._row(conn, sha256) is not None

    def size_of(self, sha256: str) -> int:
        with self._reader() as conn:
            row = self._row(conn, sha256)
        if row is None:
            raise BlobError(f"服务器上没有该佐证文件的内容（{sha256[:12]}…）")
        return int(row.size)

    def open(self, sha256: str) -> BinaryIO:
        """The content as a binary stream, read piece by piece (never whole into memory)."""
        conn = self._connection if self._connection is not None else self.engine.connect()
        try:
            row = self._row(conn, sha256)
            if row is None:
                raise BlobError(f"服务器上没有该佐证文件的内容（{sha256[:12]}…）")
            return io.BufferedReader(_ChunkReader(conn, row.upload_id, int(row.size), sha256,
                                                  owns=self._connection is None), DB_CHUNK)
        except BaseException:
            if self._connection is None:
                conn.close()
            raise

    def hash_of(self, sha256: str) -> str:
        """The SHA-256 of what the pieces hold now (a missing or cut piece gives a different hash)."""
        digest = hashlib.sha256()
        try:
            with self.open(sha256) as fh:
                for chunk in iter(lambda: fh.read(DB_CHUNK), b""):
                    digest.update(chunk)
        except BlobError:
            return ""
        return digest.hexdigest()

    def stored(self) -> Iterator[str]:
        from sqlalchemy import text

        with self._reader() as conn:
            hashes = list(conn.scalars(text("SELECT sha256 FROM stored_blob ORDER BY sha256")))
        yield from hashes

    # -- writing ------------------------------------------------------------------------------------------
    def put_stream(self, src: BinaryIO, on_bytes: Callable[[int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> tuple[str, int, bool]:
        from sqlalchemy import bindparam, text
        from sqlalchemy.types import LargeBinary

        if not self._swept:
            self.clean_leftovers()
        upload = uuid.uuid4().hex
        key = {"space": _UPLOAD_LOCK_SPACE, "key": _upload_lock_key(upload)}
        add = text("INSERT INTO blob_chunk (upload_id, n, data, created_at) VALUES (:u, :n, :data, LOCALTIMESTAMP)"
                   ).bindparams(bindparam("data", type_=LargeBinary))
        digest = hashlib.sha256()
        size = n = 0
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:space, :key)"), key)
            conn.commit()
            try:
                piece_size = min(CHUNK, DB_CHUNK)
                while True:
                    piece = src.read(piece_size)
                    if not piece:
                        break
                    if cancelled is not None and cancelled():
                        raise Cancelled()
                    digest.update(piece)
                    conn.execute(add, {"u": upload, "n": n, "data": piece})
                    conn.commit()
                    n += 1
                    size += len(piece)
                    if on_bytes is not None:
                        on_bytes(len(piece))
                sha = digest.hexdigest()
                # The content exists from this one statement on, and only with every piece in.
                made = conn.execute(text(
                    "INSERT INTO stored_blob (sha256, upload_id, size, stored_at) "
                    "SELECT CAST(:sha AS VARCHAR), CAST(:u AS VARCHAR), CAST(:size AS BIGINT), LOCALTIMESTAMP "
                    "WHERE (SELECT count(*) FROM blob_chunk WHERE upload_id = CAST(:u AS VARCHAR)) = :n "
                    "ON CONFLICT (sha256) DO NOTHING RETURNING sha256"),
                    {"sha": sha, "u": upload, "size": size, "n": n}).first()
                if made is None:
                    if self._row(conn, sha) is None:
                        raise BlobError("上传的内容不完整（部分数据块丢失），未保存")
                    conn.execute(text("DELETE FROM blob_chunk WHERE upload_id = :u"), {"u": upload})
                conn.commit()
                return sha, size, made is not None
            except BaseException:
                _drop_upload(conn, upload)
                raise
            finally:
                _unlock(conn, key)

    def remove(self, sha256: str) -> bool:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            row = conn.execute(text("DELETE FROM stored_blob WHERE sha256 = :sha RETURNING upload_id"),
                               {"sha": sha256}).first()
            if row is not None:
                conn.execute(text("DELETE FROM blob_chunk WHERE upload_id = :u"), {"u": row.upload_id})
            conn.commit()
        return row is not None

    # -- interrupted uploads ------------------------------------------------------------------------------
    def leftovers(self) -> list[str]:
        """Upload ids with pieces but no content: of uploads that never finished, or of one running now."""
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return list(conn.scalars(text(
                "SELECT DISTINCT c.upload_id FROM blob_chunk c "
                "WHERE NOT EXISTS (SELECT 1 FROM stored_blob b WHERE b.upload_id = c.upload_id) ORDER BY 1")))

    def clean_leftovers(self, min_age_s: float = LEFTOVER_AGE_S) -> tuple[int, int]:
        """Delete the pieces of interrupted uploads (none newer than `min_age_s`, none whose upload still runs);
        returns (uploads, bytes) deleted. Never raises for the database being busy: what stays goes next time."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        self._swept = True
        count = size = 0
        try:
            with self.engine.connect() as conn:
                stale = conn.execute(text(
                    "SELECT c.upload_id, sum(octet_length(c.data)) FROM blob_chunk c "
                    "WHERE NOT EXISTS (SELECT 1 FROM stored_blob b WHERE b.upload_id = c.upload_id) "
                    "GROUP BY c.upload_id "
                    "HAVING max(c.created_at) <= LOCALTIMESTAMP - make_interval(secs => :age)"),
                    {"age": float(min_age_s)}).all()
                conn.commit()
                for upload, nbytes in stale:
                    key = {"space": _UPLOAD_LOCK_SPACE, "key": _upload_lock_key(upload)}
                    with conn.begin():
                        if not conn.scalar(text("SELECT pg_try_advisory_xact_lock(:space, :key)"), key):
                            continue  # its upload is running (or one sharing its key): not a leftover
                        done = conn.execute(text(
                            "DELETE FROM blob_chunk c WHERE c.upload_id = :u "
                            "AND NOT EXISTS (SELECT 1 FROM stored_blob b WHERE b.upload_id = :u)"), {"u": upload})
                    if done.rowcount:
                        count += 1
                        size += int(nbytes or 0)
        except DBAPIError as exc:
            log.warning("sweeping interrupted evidence uploads on the server failed: %s", exc)
        if count:
            log.info("removed %d interrupted evidence upload(s), %d bytes, from the server", count, size)
        return count, size


class _ChunkReader(io.RawIOBase):
    """One stored content, one blob_chunk row at a time."""

    def __init__(self, conn, upload_id: str, size: int, sha256: str, owns: bool) -> None:
        super().__init__()
        self._conn, self._upload, self._size, self._sha, self._owns = conn, upload_id, size, sha256, owns
        self._n = 0
        self._pos = 0
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        from sqlalchemy import text

        if not self._buf:
            if self._pos >= self._size:
                return 0
            data = self._conn.scalar(text("SELECT data FROM blob_chunk WHERE upload_id = :u AND n = :n"),
                                     {"u": self._upload, "n": self._n})
            if not data:
                raise BlobError(f"服务器上该佐证文件的内容不完整（{self._sha[:12]}…，缺少第 {self._n + 1} 块）；"
                                "请运行 qjgb verify 检查")
            self._buf = memoryview(bytes(data))
            self._n += 1
        k = min(len(b), len(self._buf))
        b[:k] = self._buf[:k]
        self._buf = self._buf[k:]
        self._pos += k
        return k

    def close(self) -> None:
        if not self.closed and self._owns:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        super().close()


def _drop_upload(conn, upload: str) -> None:
    """After a failed upload: its pieces go now (best effort; the sweep takes what stays)."""
    from sqlalchemy import text

    try:
        conn.rollback()
        conn.execute(text("DELETE FROM blob_chunk WHERE upload_id = :u"), {"u": upload})
        conn.commit()
    except Exception:  # noqa: BLE001 - a dead connection: its pieces are left for the sweep
        log.warning("could not remove the pieces of an interrupted upload %s", upload, exc_info=True)


def _unlock(conn, key: dict) -> None:
    from sqlalchemy import text

    try:
        conn.rollback()
        conn.execute(text("SELECT pg_advisory_unlock(:space, :key)"), key)
        conn.commit()
    except Exception:  # noqa: BLE001 - a dead connection: the server released the lock with it
        conn.invalidate()


def clean_evidence_leftovers(data_dir: Path) -> tuple[int, int]:
    """Program start: sweep <data_dir>/evidence of interrupted copies; returns (files, bytes) deleted.
    Cheap (one listing of the store folder) and safe next to a running writer; never raises."""
    try:
        return BlobStore(Path(data_dir) / "evidence").clean_leftovers()
    except OSError:
        return 0, 0


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

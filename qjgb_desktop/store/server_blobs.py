"""Server mode: evidence contents stored in the database itself (stored_blob, blob_chunk), content-addressed, in
pieces of at most DB_CHUNK bytes, behind the same interface as the file store (blobs.BlobStore).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable, Iterator
from typing import BinaryIO

from qjgb_desktop.store import blobs
from qjgb_desktop.store.blobs import _HEX64, LEFTOVER_AGE_S, BlobError, Cancelled, _Store, log

DB_CHUNK = 1 << 20  # the most bytes one blob_chunk row holds


_UPLOAD_LOCK_SPACE = 0x716A6762  # first key of the two-key advisory locks an upload holds ("qjgb"); the write


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
                piece_size = min(blobs.CHUNK, DB_CHUNK)  # read when used: one setting for both stores
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

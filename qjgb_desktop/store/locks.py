"""The one lock every writer of a data folder takes: the window, every CLI command, import, evidence, backup
restore and schema migration. Writes are short, so writers simply queue; a restore or a migration holds it for its
whole run, so no write can slip in between its safety copy and its replacement. Readers never take it.

Qt's QLockFile does the cross-process part (and recognises a lock left by a killed process); within one process a
re-entrant lock serialises threads and lets a writer that already holds it nest (restore → open database).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

from qjgb_desktop.errors import UserError

WAIT_SECONDS = 30


class LockError(UserError):
    pass


class _Entry:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.qlock = None


_entries: dict[str, _Entry] = {}
_entries_guard = threading.Lock()


def lock_path_for(db_file: Path) -> Path:
    return Path(db_file).with_name(Path(db_file).name + ".write.lock")


def _entry(path: Path) -> _Entry:
    key = str(Path(path).resolve())
    with _entries_guard:
        entry = _entries.get(key)
        if entry is None:
            entry = _entries[key] = _Entry(Path(key))
        return entry


def _acquire(entry: _Entry, wait_s: float, purpose: str) -> None:
    from PySide6.QtCore import QLockFile

    entry.path.parent.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(entry.path))
    lock.setStaleLockTime(0)  # only a lock whose process is gone is stale
    # QLockFile.tryLock(timeout) sleeps ever longer between its tries (up to seconds); writers queued behind a
    # restore would wake long after it finished. Short regular tries instead.
    deadline = time.monotonic() + wait_s
    next_check = 0.0
    while True:
        if lock.tryLock(0):
            entry.qlock = lock
            return
        if lock.error() != QLockFile.LockError.LockFailedError or time.monotonic() >= deadline:
            break
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + 0.5
            if _holder_is_gone(lock, entry.path):
                lock.removeStaleLockFile()
                continue
        time.sleep(0.02)
    error = lock.error()
    folder = entry.path.parent
    if error == QLockFile.LockError.LockFailedError:
        raise LockError(f"数据正被另一项操作占用（如恢复备份、升级数据库或大批量导入），{purpose}未能开始。请稍后再试。")
    if error == QLockFile.LockError.PermissionError:
        raise LockError(f"数据文件夹没有写入权限或是只读的：{folder}。{purpose}未能进行；"
                        "请检查文件夹权限，或把数据文件夹放到可写的位置（--data-dir）。")
    raise LockError(f"无法在数据文件夹 {folder} 中创建锁文件（磁盘已满或磁盘故障？）。{purpose}未能进行；"
                    "请腾出磁盘空间后再试。")


def _holder_is_gone(lock, path: Path) -> bool:
    """Qt counts a lock as stale when its process is gone or its PID now belongs to another program; a PID reused
    by the same program (another qjgb or python process: PIDs wrap quickly on a busy machine) would still look
    like the holder, and every writer would wait for a process that never held the lock. The lock file is written
    when the lock is taken, so a process that started later cannot be its holder."""
    from PySide6.QtCore import QSysInfo

    info = lock.getLockInfo()
    if not isinstance(info, tuple) or len(info) < 3:
        return False
    pid, host, _app = info[:3]
    if not pid or host != QSysInfo.machineHostName():
        return False  # a lock taken on another PC (a shared folder): only Qt's own rules apply
    started = process_start_time(int(pid))
    try:
        written = path.stat().st_mtime
    except OSError:
        return False
    return started is not None and started > written + 1.0


def process_start_time(pid: int) -> float | None:
    """When a process started (seconds since the epoch), where the system says (Linux /proc); else None."""
    import os

    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        ticks = int(fields[19])  # field 22, counted after the command name
        with open("/proc/stat", "rb") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith(b"btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


@contextmanager
def write_lock(lock_file: Path | None, wait_s: float = WAIT_SECONDS, purpose: str = "保存"):
    """Hold the data folder's write lock (no-op for a database that is not a local file)."""
    if lock_file is None:
        yield
        return
    entry = _entry(lock_file)
    if not entry.thread_lock.acquire(timeout=wait_s):
        raise LockError(f"另一项保存操作仍在进行，{purpose}未能开始。请稍后再试。")
    try:
        if entry.depth == 0:
            _acquire(entry, wait_s, purpose)
        entry.depth += 1
        try:
            yield
        finally:
            entry.depth -= 1
            if entry.depth == 0 and entry.qlock is not None:
                entry.qlock.unlock()
                entry.qlock = None
    finally:
        entry.thread_lock.release()

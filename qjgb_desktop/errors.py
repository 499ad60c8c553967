"""Failures the user can fix, told in Chinese with what to do; everything else is a bug.

Every entry point (the CLI's main, the window's start-up and its actions, the screenshot command) passes an
exception through `explain`: a damaged, locked or read-only database, a full disk, a folder without write
permission, a number too large to store — each becomes one message and exit code 1, with a log entry; only what
`explain` does not recognise reaches the crash dialog or a traceback.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Callable

log = logging.getLogger("qjgb")


class UserError(Exception):
    """A failure with a message for the user (Chinese, says what to do)."""


DAMAGED_MARK = "已损坏"
DAMAGED = ("数据库文件已损坏，无法读取（{detail}）。请不要继续写入；用“qjgb restore 备份文件”从最近的备份恢复"
           "（数据文件夹的 backups 文件夹中有自动和手动备份{newest}）。")
FULL = "磁盘空间已满，本次操作没有保存任何内容。请腾出磁盘空间（或换一个有空间的位置）后再试。"
READ_ONLY = "数据文件夹或文件是只读的，或没有写入权限（{detail}）。本次操作没有保存任何内容；请检查文件夹权限，" \
            "或用 --data-dir 指定一个可写的数据文件夹。"
LOCKED = "数据库正被另一个程序或操作占用，等待后仍未释放。本次操作没有保存任何内容，请稍后再试。"
IO = "读写磁盘时出错（{detail}）。本次操作没有保存任何内容；请检查磁盘或网络共享是否正常后再试。"
TOO_LARGE = "编号或数值过大，超出了可存储的范围：{detail}"
SERVER = ("无法连接数据库服务器（{detail}）。本次操作没有保存任何内容。请检查：服务器是否开机、网络是否连通、"
          "数据库地址（config.toml 中的 database_url、环境变量 QJGB_DATABASE_URL 或 --db）、用户名和密码是否正确。")
SERVER_LOST = "与数据库服务器的连接中断（{detail}）。本次操作没有保存任何内容；请检查网络后再试。"
SERVER_SPACE = "数据库服务器的磁盘空间已满（{detail}）。本次操作没有保存任何内容；请联系服务器管理员。"
SERVER_DENIED = ("数据库服务器拒绝了此操作：当前登录的账户没有这项权限（{detail}）。本次操作没有保存任何内容；"
                 "如确需办理，请由有权限的账户操作或与管理员联系。")


def _server_error(e: BaseException) -> str | None:
    """psycopg's errors, by their SQLSTATE class where there is one."""
    module = type(e).__module__ or ""
    if not module.startswith("psycopg"):
        return None
    state = getattr(e, "sqlstate", None) or ""
    first = (str(e).strip().splitlines() or [""])[0][:300]
    if state.startswith("53"):  # insufficient resources: disk full, out of memory, too many connections
        return SERVER_SPACE.format(detail=first)
    if state.startswith("08") or state in ("57P01", "57P02", "57P03"):  # connection exception, shutdown
        return SERVER_LOST.format(detail=first)
    if state in ("28P01", "28000", "3D000") or not state and type(e).__name__ == "OperationalError":
        return SERVER.format(detail=first)  # wrong password, no such database, cannot connect at all
    if state == "55P03":
        return LOCKED
    if state == "42501":  # insufficient privilege, a row-level security policy, the audit log's guard
        return SERVER_DENIED.format(detail=first)
    return None


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
        if orig is not None and id(orig) not in seen:
            yield orig
            seen.add(id(orig))
        exc = exc.__cause__ or exc.__context__


# The newest backup that passes every restore check is found by services/safety, which this module (below every
# other) must not import: the entry point hands the finder down at start (cli/entry.main).
_backup_hint: Callable[[], str] | None = None


def set_backup_hint(finder: Callable[[], str] | None) -> None:
    """`finder()` returns the text naming the newest good backup (or ""); used in the damaged-database message."""
    global _backup_hint
    _backup_hint = finder


def newest_backup_hint() -> str:
    """Names the newest backup that passes every restore check (a damaged one is passed over), when an entry point
    has said how to find it."""
    if _backup_hint is None:
        return ""
    try:
        return _backup_hint()
    except Exception:  # noqa: BLE001 - a hint must never turn into a second failure
        return ""


def explain(exc: BaseException) -> str | None:
    """The message for a failure the user can fix, or None for a bug."""
    from qjgb_desktop.paths import ConfigError

    for e in _chain(exc):
        if isinstance(e, (UserError, ConfigError)):
            return str(e)
        server = _server_error(e)
        if server is not None:
            return server
        text = str(e).lower()
        if isinstance(e, sqlite3.DatabaseError) or type(e).__name__ in ("DatabaseError", "OperationalError"):
            if "database or disk is full" in text or "disk is full" in text:
                return FULL
            if "readonly" in text or "read-only" in text or "unable to open database" in text:
                return READ_ONLY.format(detail=str(e))
            if "locked" in text or "busy" in text:
                return LOCKED
            if "malformed" in text or "not a database" in text or "file is encrypted" in text or \
                    "database corrupt" in text:
                return DAMAGED.format(detail=str(e), newest=newest_backup_hint())
            if "disk i/o error" in text:
                return IO.format(detail=str(e))
        if isinstance(e, OSError):
            if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
                return FULL
            if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                return READ_ONLY.format(detail=f"{e.filename or ''} {e.strerror or ''}".strip())
            if e.errno == errno.EIO:
                return IO.format(detail=e.strerror or str(e))
        if isinstance(e, OverflowError):
            return TOO_LARGE.format(detail=str(e))
    return None


def _ensure_log_file() -> None:
    """Commands log into <data>/logs/qjgb.log too, when the folder can be written (the window sets this up at
    start); a read-only or full disk must not turn the explanation itself into a crash."""
    root = logging.getLogger()
    if any(getattr(h, "qjgb", False) for h in root.handlers):
        return
    try:
        from logging.handlers import RotatingFileHandler

        from qjgb_desktop import paths

        logs = paths.data_dir() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(logs / "qjgb.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        return
    handler.qjgb = True
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def report(exc: BaseException) -> str | None:
    """explain() and log it; None for a bug (the caller lets it reach the crash handler)."""
    message = explain(exc)
    if message is not None:
        _ensure_log_file()
        try:
            log.warning("已向用户说明的错误：%s", message, exc_info=(type(exc), exc, exc.__traceback__))
        except Exception:  # noqa: BLE001 - a log on a full disk is not worth a second failure
            pass
    return message

"""What a backup must pass before anything is restored from it: a regular file (no link, device or pipe anywhere in a
backup folder), a SQLite database that passes `PRAGMA integrity_check`, of a revision this program knows (an older
one is upgraded on the verified private copy; a newer one is refused), with every table and column of the program,
and for a full backup every evidence file its database lists, present with the right SHA-256. Also the newest
backup that passes them all, offered when the live database is found damaged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import tempfile
from pathlib import Path

from qjgb_desktop.services.safety.folders import (
    MANIFEST_NAME,
    SQLITE_MAGIC,
    STAGING_PREFIX,
    BackupError,
    _fail,
    backups_dir,
)
from qjgb_desktop.store.revision import HEAD, REVISIONS


def _listed_evidence(db: Path) -> list[str]:
    """The evidence contents a database needs (recorded and not purged)."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT sha256 FROM evidence_file WHERE purged_at IS NULL ORDER BY sha256")]
    finally:
        conn.close()


def check_backup_file(path: Path) -> str:
    """The schema revision of a backup file, or BackupError saying why it cannot be restored (nothing is changed,
    nothing is kept)."""
    path = Path(path)
    _check_source(path, folder=False)
    with tempfile.TemporaryDirectory(prefix="qjgb-check-") as tmp:
        return _stage(path, Path(tmp), migrate=False)[1]


def _check_source(path: Path, folder: bool) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise BackupError(f"找不到备份{'文件夹' if folder else '文件'}：{path}") from None
    except OSError as exc:
        raise _fail(f"无法读取备份 {path}", exc) from exc
    if stat.S_ISLNK(st.st_mode):
        raise BackupError(f"备份 {path} 是一个符号链接（快捷方式），为安全起见不予恢复，当前数据未作任何改动。"
                          "请直接指定备份文件或文件夹本身。")
    if folder and not stat.S_ISDIR(st.st_mode):
        raise BackupError(f"{path} 不是文件夹")
    if not folder and not stat.S_ISREG(st.st_mode):
        raise BackupError(f"{path} 不是普通文件（而是设备、管道等特殊文件），不予恢复，当前数据未作任何改动。")


def _check_tree(folder: Path) -> None:
    """Refuse a backup folder with a link, device, pipe or socket anywhere in it."""
    def fail(exc: OSError) -> None:
        raise _fail(f"无法读取备份文件夹 {folder}", exc)

    for top, dirs, files in os.walk(folder, onerror=fail, followlinks=False):
        for name in dirs + files:
            path = Path(top) / name
            try:
                mode = os.lstat(path).st_mode
            except OSError as exc:
                raise _fail(f"无法读取备份中的 {path}", exc) from exc
            if stat.S_ISLNK(mode):
                raise BackupError(f"备份文件夹中有符号链接：{path.relative_to(folder)}。完整备份中只应有普通文件，"
                                  "该备份可能被改动过，为安全起见不予恢复，当前数据未作任何改动。")
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise BackupError(f"备份文件夹中有特殊文件（设备、管道或套接字）：{path.relative_to(folder)}。"
                                  "该备份可能被改动过，为安全起见不予恢复，当前数据未作任何改动。")


def _open_regular(path: Path):
    """Open a file for reading only if it is a regular file (never following a link, never blocking on a pipe)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise BackupError(f"备份中的 {path} 是符号链接，不予恢复，当前数据未作任何改动。") from exc
        raise _fail(f"无法读取备份 {path}", exc) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BackupError(f"备份中的 {path} 不是普通文件，不予恢复，当前数据未作任何改动。")
    return os.fdopen(fd, "rb")


def _remove_staged(staged: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            Path(str(staged) + suffix).unlink(missing_ok=True)
        except OSError:
            pass


def _page_size(db_file: Path) -> int | None:
    """The page size in a SQLite file's header, or None for a file that is not one."""
    try:
        with open(db_file, "rb") as fh:
            head = fh.read(18)
    except OSError:
        return None
    if len(head) < 18 or head[:16] != SQLITE_MAGIC:
        return None
    size = int.from_bytes(head[16:18], "big")
    return 65536 if size == 1 else size


def _stage(source: Path, folder: Path, live: Path | None = None, label: str | None = None,
           migrate: bool = True) -> tuple[Path, str]:
    """A verified private copy of the backup database in `folder`: copied byte for byte (so what is checked is what
    is restored), integrity-checked, of a known revision, upgraded to this program's, with every table and column,
    and with the live database's page size. Returns (copy, the backup's own revision)."""
    label = label or str(source)
    fd, name = tempfile.mkstemp(prefix=STAGING_PREFIX, suffix=".sqlite3", dir=folder)
    staged = Path(name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, _open_regular(source) as src:
                shutil.copyfileobj(src, out, 1 << 20)
        except OSError as exc:
            raise _fail(f"无法读取备份 {label}", exc) from exc
        rev = _verify_database(staged, label)
        if rev != HEAD and migrate:
            _upgrade(staged, rev, label)
            _verify_database(staged, label)
        page = _page_size(live) if live is not None else None
        if page:
            conn = sqlite3.connect(staged, isolation_level=None)
            try:
                if conn.execute("PRAGMA page_size").fetchone()[0] != page:
                    conn.execute(f"PRAGMA page_size={int(page)}")
                    conn.execute("VACUUM")  # SQLite can copy into a WAL database of the same page size only
            finally:
                conn.close()
    except BaseException:
        _remove_staged(staged)
        raise
    return staged, rev


def _verify_database(staged: Path, label: str) -> str:
    from qjgb_desktop.store.models import Base

    unchanged = "不予恢复，当前数据未作任何改动；请换一个备份"
    with open(staged, "rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{label} 不是本程序的备份文件（不是 SQLite 数据库文件），{unchanged}。")
    conn = sqlite3.connect(staged, isolation_level=None)
    try:
        try:
            conn.execute("PRAGMA journal_mode=DELETE")
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check(10)")]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"备份文件已损坏，无法读取（{exc}）：{label}，{unchanged}。") from exc
        if problems != ["ok"]:
            raise BackupError(f"备份文件已损坏（完整性检查未通过：{problems[0]}）：{label}，{unchanged}。")
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if not row:
            raise BackupError(f"{label} 不是本程序的备份文件（没有数据库版本信息），{unchanged}。")
        rev = row[0]
        if rev not in REVISIONS:
            raise BackupError(f"备份 {label} 来自更新版本的程序（数据库版本 {rev}），本程序不能恢复它，当前数据未作任何"
                              "改动。请先安装最新版本的程序再恢复。")
        if rev == HEAD:
            present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = [t for t in Base.metadata.tables if t not in present]
            if missing:
                raise BackupError(f"备份 {label} 缺少数据表：{'、'.join(missing)}。备份不完整或被改动过，{unchanged}。")
            for name, table in Base.metadata.tables.items():
                columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')}
                lacking = [c.name for c in table.columns if c.name not in columns]
                if lacking:
                    raise BackupError(f"备份 {label} 的数据表 {name} 缺少列：{'、'.join(lacking)}。"
                                      f"备份不完整或被改动过，{unchanged}。")
        return rev
    finally:
        conn.close()


def _upgrade(staged: Path, rev: str, label: str) -> None:
    """Bring the verified copy of an older backup to this program's revision, so the live database is never
    anything but current (the window and other processes may have it open)."""
    from alembic import command

    from qjgb_desktop.store.engine import make_engine
    from qjgb_desktop.store.schema import alembic_config

    engine = make_engine(f"sqlite:///{staged.as_posix()}")
    try:
        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except Exception as exc:
        raise BackupError(f"备份 {label}（数据库版本 {rev}）无法升级到本程序的版本（{exc}），不予恢复，"
                          "当前数据未作任何改动。") from exc
    finally:
        engine.dispose()
    conn = sqlite3.connect(staged, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with _open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(4 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(folder: Path) -> set[str]:
    """Evidence the full backup says was already missing when it was made (allowed absent)."""
    path = folder / MANIFEST_NAME
    if not os.path.lexists(path):
        return set()
    try:
        with _open_regular(path) as fh:
            data = json.loads(fh.read().decode("utf-8"))
        return {str(s) for s in data.get("evidence_missing", [])}
    except (ValueError, AttributeError, OSError):
        raise BackupError(f"备份文件夹中的 {MANIFEST_NAME} 已损坏，该备份可能被改动过，不予恢复，"
                          "当前数据未作任何改动。") from None


def _verify_evidence(staged: Path, folder: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """Every evidence file the backup's database lists: present in the folder, a regular file, with its SHA-256.
    Returns the files to bring in and those the backup says were already missing when it was made."""
    from qjgb_desktop.store.blobs import BlobError, BlobStore

    store = BlobStore(folder / "evidence")
    allowed = _read_manifest(folder)
    conn = sqlite3.connect(f"{staged.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = dict(conn.execute(
            "SELECT f.sha256, min(e.original_name) FROM evidence_file f LEFT JOIN evidence e ON e.file_id = f.id "
            "WHERE f.purged_at IS NULL GROUP BY f.id"))
    finally:
        conn.close()
    wanted, absent, problems = [], [], []
    for sha in sorted(names):
        label = f"{names[sha] or '?'}（{str(sha)[:12]}…）"
        try:
            path = store.path_for(sha)
        except BlobError:
            problems.append(f"{label}：记录无效")
            continue
        if not os.path.lexists(path):
            if sha in allowed:
                absent.append(sha)
            else:
                problems.append(f"{label}：缺失")
            continue
        if _hash_file(path) != sha:
            problems.append(f"{label}：内容与记录不符（被改动、损坏或调换）")
            continue
        wanted.append((sha, path))
    if problems:
        shown = "；".join(problems[:5]) + (f" 等 {len(problems)} 个" if len(problems) > 5 else "")
        raise BackupError(f"完整备份 {folder} 中的佐证文件有问题：{shown}。该备份不完整或被改动过，不予恢复，"
                          "当前数据未作任何改动；请换一个备份。")
    return wanted, absent


def _bring_evidence(wanted: list[tuple[str, Path]], store, new_blobs: list[str]) -> int:
    copied = 0
    for sha, path in wanted:
        if store.has(sha):
            continue
        got, _size, new = store.put(path)  # hashed again on the way in
        if got != sha:
            if new:
                store.remove(got)
            raise BackupError(f"佐证文件 {path} 在校验后被改动，恢复已停止，当前数据未作改动。")
        if new:
            new_blobs.append(sha)
            copied += 1
    return copied


def newest_good_backup(limit: int = 10) -> Path | None:
    """The newest backup in <data>/backups that passes every restore check (a damaged one is passed over), or None.
    Offered when the live database is found damaged."""
    try:
        candidates = sorted((p for p in backups_dir().glob("*.sqlite3") if p.is_file()),
                            key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None
    for path in candidates[:limit]:
        if _restorable(path):
            return path
    return None


def newest_backup_hint() -> str:
    """"，最近一份检查完好的是 …" for the damaged-database message, or "" (never raises)."""
    try:
        good = newest_good_backup()
    except Exception:  # noqa: BLE001 - a hint must never turn into a second failure
        return ""
    return f"，最近一份检查完好的是 {good}" if good else ""


_checked: dict[tuple[str, int, int], bool] = {}


def _restorable(path: Path) -> bool:
    """check_backup_file, remembered for an unchanged file: the damaged-database message and the window's offer
    both ask, and each check copies and verifies the whole backup."""
    try:
        st = path.stat()
    except OSError:
        return False
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _checked:
        try:
            check_backup_file(path)
            _checked[key] = True
        except Exception:  # noqa: BLE001 - not restorable: the caller tries the next older one
            _checked[key] = False
    return _checked[key]

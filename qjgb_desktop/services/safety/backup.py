"""Back up and restore: the database file alone (SQLite's online backup), or a full backup folder with the
database and the evidence files. Evidence is content-addressed, so a full backup into the same folder again
copies only the files that are new since the last one.

What a restore promises:
- It holds the data folder's write lock (store/locks.py) for its whole run, so every write of the window, the CLI
  or an import waits for it; readers go on.
- It verifies the backup completely before it changes anything: a regular file (no link, device or pipe anywhere
  in a backup folder), a SQLite database that passes `PRAGMA integrity_check`, of a revision this program knows (an
  older one is upgraded on the verified copy; a newer one is refused), with every table and column of the program,
  and for a full backup every evidence file its database lists, present with the right SHA-256. Any failure: a
  message saying what is wrong, and nothing changed.
- Then it makes a safety copy of the live database (consistent, SQLite's backup API) and copies the verified
  backup INTO the live database through the same API, never deleting or renaming the live file or its -wal/-shm:
  other connections stay valid and simply see the restored content. Every write acknowledged before the restore
  took the lock is in the safety copy; every write after it is on top of the restored database.
- Evidence of a full restore comes in through the content store (hashed again on the way in), before the database,
  so the restored database never lists a file that is not there.
- Success is reported only when all of it is done and on disk.

On a database server (server mode) the same functions write and read the same formats through
services/safety/server_backup.py: a backup is a SQLite file (and evidence/ files) copied from one snapshot of the server,
a restore replaces the server's rows in one transaction after the same checks of the backup.

Temporary files (`.qjgb-part-…`, and `.incoming-…` in a full backup's evidence) of a failed or killed backup are
removed at the next backup or restore of that folder, and by `clean_leftovers` at start-up; a folder's guard
(store/backup.folder_guard) is held while its temporary files are written, so a running copy is never removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from qjgb_desktop import paths
from qjgb_desktop.errors import UserError, explain
from qjgb_desktop.store.backup import backup_sqlite, copy_database, folder_guard
from qjgb_desktop.store.locks import LockError, lock_path_for, write_lock
from qjgb_desktop.store.revision import HEAD, REVISIONS
from qjgb_desktop.store.files import write_atomically

FULL_DB_NAME = "qjgb.sqlite3"
MANIFEST_NAME = "qjgb-backup.json"
SQLITE_MAGIC = b"SQLite format 3\x00"
STAGING_PREFIX = ".qjgb-part-restore-"

_SQLITE_TEMP = re.compile(r"^\.qjgb-part-.+\.(sqlite3|json)(-journal|-wal|-shm)?$")
_OLD_PART = re.compile(r"^.+\.sqlite3\.part(-journal)?$")  # earlier versions' backup temporaries


class BackupError(UserError):
    """Something the user must fix; the message says what."""


def _fail(what: str, exc: BaseException) -> BackupError:
    return BackupError(f"{what}：{explain(exc) or exc}")


def _server_url() -> str | None:
    """The current database's URL when it is a server (server mode): backed up and restored through
    services/safety/server_backup.py, in the same formats."""
    url = paths.database_url()
    return None if url.startswith("sqlite") else url


def _database_file() -> Path:
    db_file = paths.sqlite_path(paths.database_url())
    if db_file is None:
        raise BackupError("当前数据库不是本地 SQLite 文件，请使用数据库服务器自身的备份工具。")
    return db_file


def backups_dir() -> Path:
    return paths.data_dir() / "backups"


def default_backup_path(label: str = "") -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return backups_dir() / f"qjgb-{label + '-' if label else ''}{stamp}.sqlite3"


def _unique_backup_path(folder: Path, label: str = "", suffix: str = ".sqlite3") -> Path:
    """A new name in `folder` (called with the folder's guard held, so no other backup takes it meanwhile)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"qjgb-{label + '-' if label else ''}{stamp}"
    candidate = folder / f"{base}{suffix}"
    n = 2
    while os.path.lexists(candidate):
        candidate = folder / f"{base}-{n}{suffix}"
        n += 1
    return candidate


# -- folder guards and leftovers -----------------------------------------------------------------------------

def _enter_guard(stack: ExitStack, folder: Path, purpose: str, wait_s: float | None = None) -> None:
    """Take the guard of a folder we write temporary files into, or say why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"无法创建文件夹 {folder}", exc) from exc
    if not os.access(folder, os.W_OK):
        raise BackupError(f"文件夹 {folder} 是只读的或没有写入权限，{purpose}未能进行。请换一个可写的位置。")
    try:
        stack.enter_context(folder_guard(folder, purpose=purpose, **({"wait_s": wait_s} if wait_s is not None
                                                                     else {})))
    except LockError as exc:
        raise BackupError(f"另一项备份或恢复正在使用文件夹 {folder}，{purpose}未能开始。请等它完成后再试。") from exc


def _is_leftover(name: str, kind: str) -> bool:
    if _SQLITE_TEMP.match(name) or _OLD_PART.match(name):
        return True
    if kind == "backups":  # our own folder: any temporary of ours
        return name.startswith(".qjgb-part-") or bool(re.match(r"^.+\.part(-journal)?$", name))
    if kind == "full":
        return name in (f"{FULL_DB_NAME}.new", f"{FULL_DB_NAME}.new-journal")
    if kind == "db":
        return name in (f"{FULL_DB_NAME}.restore", f"{FULL_DB_NAME}.restore-journal")
    return False


def _clean_folder(folder: Path, kind: str, wait_s: float | None = None) -> list[Path]:
    """Remove the leftovers of `kind` ("backups", "full", "db", "other") in `folder` under its guard; a folder
    whose guard is held elsewhere (a copy running now) is left alone. Never raises."""
    from qjgb_desktop.store.blobs import BlobStore

    try:
        if not folder.is_dir():
            return []
        with os.scandir(folder) as entries:
            found = [Path(e.path) for e in entries
                     if _is_leftover(e.name, kind) and not e.is_dir(follow_symlinks=False)]
        evidence = BlobStore(folder / "evidence") if kind == "full" else None
        if not found and not (evidence is not None and evidence.leftovers()):
            return []
        removed = []
        with folder_guard(folder, wait_s=0 if wait_s is None else wait_s, purpose="清理临时文件"):
            for path in found:
                try:
                    path.unlink()
                    removed.append(path)
                except FileNotFoundError:
                    pass
            if evidence is not None:
                before = evidence.leftovers()
                evidence.clean_leftovers(min_age_s=0)  # the guard excludes our writers; flock the rest
                removed += [p for p in before if not p.exists()]
        return removed
    except (OSError, UserError):
        return []


def clean_leftovers(data_dir: Path | None = None) -> list[Path]:
    """Start-up: remove temporary files of failed or killed backups and restores of this data folder (its backups
    folder, and the folder of the database). Cheap (a listing of two folders), never removes anything else or a
    file still being written, never raises. Returns what was removed."""
    data_dir = Path(data_dir) if data_dir is not None else paths.data_dir()
    removed = _clean_folder(data_dir / "backups", "backups")
    folders = [data_dir]
    try:
        if Path(data_dir).resolve() == paths.data_dir().resolve():
            db_file = paths.sqlite_path(paths.database_url())
            if db_file is not None and db_file.parent.resolve() != Path(data_dir).resolve():
                folders.append(db_file.parent)
    except Exception:  # a broken config.toml is reported where the database is opened
        pass
    for folder in folders:
        removed += _clean_folder(folder, "db")
    return removed


# -- backups ------------------------------------------------------------------------------------------------

def create_backup(target: Path | None = None) -> Path:
    server = _server_url()
    if server is None:
        db_file = _database_file()
        if not db_file.is_file():
            raise BackupError(f"数据库文件不存在：{db_file}（请先运行 qjgb init）")
    explicit = target is not None
    target = Path(target) if explicit else None
    if explicit and os.path.lexists(target):
        raise BackupError(f"目标文件已存在，不会覆盖：{target}")
    folder = target.parent if explicit else backups_dir()
    with ExitStack() as stack:
        _enter_guard(stack, folder, "备份")
        _clean_folder(folder, "other" if explicit and folder != backups_dir() else "backups")
        if explicit and os.path.lexists(target):
            raise BackupError(f"目标文件已存在，不会覆盖：{target}")
        target = target if explicit else _unique_backup_path(folder)
        if server is not None:
            from qjgb_desktop.services.safety.server_backup import backup_server

            return backup_server(server, target)
        try:
            return backup_sqlite(db_file, target)
        except (OSError, sqlite3.Error) as exc:
            raise _fail(f"备份失败（{target}）", exc) from exc


@dataclass
class FullBackupResult:
    database: Path
    copied: int  # evidence files copied this time
    missing: list[str] = field(default_factory=list)  # listed in the database, missing or damaged here


def create_full_backup(folder: Path) -> FullBackupResult:
    """<folder>/qjgb.sqlite3 (replaced by a fresh copy), <folder>/evidence (new files added) and
    <folder>/qjgb-backup.json (what it holds, and evidence that was already missing or damaged here)."""
    from qjgb_desktop.store.blobs import BlobStore, evidence_store

    folder = Path(folder)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise BackupError(f"“{folder}”不是文件夹")
    if (server := _server_url()) is not None:
        from qjgb_desktop.services.safety.server_backup import full_backup_server

        return full_backup_server(server, folder)
    db_file = _database_file()
    if not db_file.is_file():
        raise BackupError(f"数据库文件不存在：{db_file}（请先运行 qjgb init）")
    live, target = evidence_store(), BlobStore(folder / "evidence")
    try:
        with ExitStack() as stack:
            _enter_guard(stack, folder, "完整备份")
            _clean_folder(folder, "full")
            copied = _copy_blobs(live, target, list(live.stored()), set())  # the long part, without the lock
            missing: set[str] = set()
            counts = {}

            def snapshot(partial: Path) -> None:
                nonlocal copied
                src = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)
                try:
                    copy_database(src, partial)
                finally:
                    src.close()
                listed = _listed_evidence(partial)
                counts["evidence"] = len(listed)
                for sha in listed:  # a copy damaged on the backup medium (cut short) is replaced
                    if target.has(sha) and live.has(sha) and \
                            target.path_for(sha).stat().st_size != live.path_for(sha).stat().st_size:
                        target.remove(sha)
                copied += _copy_blobs(live, target, [s for s in listed if not target.has(s)], missing)

            # Under the write lock: no purge can delete a file between the snapshot and the copy of what it lists.
            with write_lock(lock_path_for(db_file), purpose="完整备份"):
                write_atomically(folder / FULL_DB_NAME, snapshot)
            manifest = {"program": "qjgb-desktop", "revision": HEAD, "created": datetime.now().isoformat(),
                        "evidence": counts.get("evidence", 0), "evidence_missing": sorted(missing)}
            write_atomically(folder / MANIFEST_NAME, lambda p: p.write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"))
    except (OSError, sqlite3.Error) as exc:
        raise _fail(f"完整备份失败（{folder}）", exc) from exc
    return FullBackupResult(folder / FULL_DB_NAME, copied, sorted(missing))


def _copy_blobs(source, target, hashes, missing: set[str]) -> int:
    """Copy these contents from `source` to `target` (BlobStores), each hashed on the way in; a content absent
    or damaged in `source` goes to `missing`. Returns how many were copied."""
    copied = 0
    for sha in hashes:
        if target.has(sha):
            continue
        if not source.has(sha):
            missing.add(sha)
            continue
        with source.open(sha) as src:
            got, _size, new = target.put_stream(src)
        if got != sha:  # the file here no longer has its content: never store it under its name
            if new:
                target.remove(got)
            missing.add(sha)
            continue
        copied += 1
    return copied


def _listed_evidence(db: Path) -> list[str]:
    """The evidence contents a database needs (recorded and not purged)."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT sha256 FROM evidence_file WHERE purged_at IS NULL ORDER BY sha256")]
    finally:
        conn.close()


# -- restore ------------------------------------------------------------------------------------------------

@dataclass
class RestoreResult:
    source: Path
    safety: Path | None  # the live database as it was just before (None: there was none to keep)
    evidence_copied: int = 0
    evidence_missing_here: int = 0  # files the restored database lists that are not in this computer's store
    missing_at_backup: list[str] = field(default_factory=list)  # already missing when the full backup was made
    upgraded_from: str | None = None  # the backup's revision, when older than this program's
    window_open: bool = False


def check_backup_file(path: Path) -> str:
    """The schema revision of a backup file, or BackupError saying why it cannot be restored (nothing is changed,
    nothing is kept)."""
    path = Path(path)
    _check_source(path, folder=False)
    with tempfile.TemporaryDirectory(prefix="qjgb-check-") as tmp:
        return _stage(path, Path(tmp), migrate=False)[1]


def restore_backup(path: Path) -> RestoreResult:
    """Restore the database from a single-file backup (see the module's notes for what is promised)."""
    path = Path(path)
    _check_source(path, folder=False)
    return _restore(path, None)


def restore_full_backup(folder: Path) -> RestoreResult:
    """Restore the database and evidence of a full backup folder."""
    folder = Path(folder)
    _check_source(folder, folder=True)
    if not os.path.lexists(folder / FULL_DB_NAME):
        raise BackupError(f"文件夹 {folder} 中没有 {FULL_DB_NAME}，不是本程序的完整备份文件夹。")
    return _restore(folder / FULL_DB_NAME, folder)


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


def _window_open() -> bool:
    try:
        from PySide6.QtCore import QLockFile

        lock = QLockFile(str(paths.data_dir() / "qjgb.lock"))
        lock.setStaleLockTime(0)
        if lock.tryLock(0):
            lock.unlock()
            return False
        return lock.error() == QLockFile.LockError.LockFailedError
    except Exception:
        return False


def _restore(source_db: Path, full_folder: Path | None) -> RestoreResult:
    from qjgb_desktop.store.blobs import evidence_store
    from qjgb_desktop.store.models import Base  # noqa: F401  imported before the lock is taken: writers wait less

    if (server := _server_url()) is not None:
        from qjgb_desktop.services.safety.server_backup import restore_server

        return restore_server(server, source_db, full_folder)
    db_file = _database_file()
    backups = backups_dir()
    label = str(full_folder or source_db)
    with write_lock(lock_path_for(db_file), purpose="恢复备份"), ExitStack() as stack:
        _enter_guard(stack, backups, "恢复备份")
        _clean_folder(backups, "backups")
        if full_folder is not None and os.access(full_folder, os.W_OK):
            # nobody may add to the backup while it is read (a read-only medium needs no guard)
            _enter_guard(stack, full_folder, "恢复备份")
            _clean_folder(full_folder, "full")
        if full_folder is not None:
            _check_tree(full_folder)
        staged, rev = _stage(source_db, backups, live=db_file, label=label)
        try:
            wanted, missing_at_backup = (_verify_evidence(staged, full_folder) if full_folder is not None
                                         else ([], []))
            # -- verified: from here on the live data is touched --
            try:
                safety, usable = _safety_copy(db_file, backups)
            except (OSError, sqlite3.Error) as exc:
                raise _fail("无法保存恢复前的数据，恢复没有进行，当前数据未作改动", exc) from exc
            live_store = evidence_store()
            new_blobs: list[str] = []
            try:
                copied = _bring_evidence(wanted, live_store, new_blobs)
                _restore_into(staged, db_file, usable)
            except BaseException as exc:
                for sha in new_blobs:  # the live database never listed them: leave the store as it was
                    try:
                        live_store.remove(sha)
                    except OSError:
                        pass
                if isinstance(exc, (OSError, sqlite3.Error)):
                    raise _fail("恢复失败，当前数据未作改动", exc) from exc
                raise
            _check_live(db_file, safety)
            here = sum(1 for sha in _listed_evidence(staged) if not live_store.has(sha))
        finally:
            _remove_staged(staged)
    return RestoreResult(source=Path(label), safety=safety, evidence_copied=copied, evidence_missing_here=here,
                         missing_at_backup=missing_at_backup, upgraded_from=rev if rev != HEAD else None,
                         window_open=_window_open())


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


def _safety_copy(db_file: Path, backups: Path) -> tuple[Path | None, bool]:
    """Keep the live database as it is now, in backups/. Returns (the copy, whether the live file is a database
    SQLite can read and write into); a file SQLite cannot read is kept byte for byte, with its -wal."""
    wal = Path(str(db_file) + "-wal")
    if _page_size(db_file) is not None:
        target = _unique_backup_path(backups, "before-restore")
        try:
            return backup_sqlite(db_file, target), True
        except sqlite3.DatabaseError:
            pass  # damaged: kept as it is, below
    has_main = db_file.is_file() and db_file.stat().st_size > 0
    has_wal = wal.is_file() and wal.stat().st_size > 0
    if not has_main and not has_wal:
        return None, False  # nothing there (or an empty file): nothing to keep
    target = _unique_backup_path(backups, "before-restore", suffix=".damaged")
    for src, dst in ((db_file, target), (wal, Path(str(target) + "-wal"))):
        if src.is_file():
            write_atomically(dst, lambda p, src=src: shutil.copyfile(src, p))
    return target, False


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


def _restore_into(staged: Path, db_file: Path, usable: bool) -> None:
    src = sqlite3.connect(f"{staged.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if usable:
            # Into the live database, in one transaction: other connections stay valid and see the new content.
            dst = sqlite3.connect(db_file, timeout=60, isolation_level=None)
            try:
                dst.execute("PRAGMA busy_timeout=60000")
                dst.execute("PRAGMA synchronous=FULL")
                src.backup(dst)
                dst.execute("PRAGMA wal_checkpoint(PASSIVE)")  # into the main file too, where no reader is behind
            finally:
                dst.close()
            return
        # No database SQLite can read (missing, empty, overwritten): nobody can be using it, and its bytes are in
        # the safety copy. A stale -wal must go first, or SQLite would replay it onto the restored file.
        with folder_guard(db_file.parent, purpose="恢复备份"):
            for suffix in ("-wal", "-shm"):
                Path(str(db_file) + suffix).unlink(missing_ok=True)
            write_atomically(db_file, lambda p: copy_database(src, p))
    finally:
        src.close()


def _check_live(db_file: Path, safety: Path | None) -> None:
    try:
        conn = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            ok = [r[0] for r in conn.execute("PRAGMA quick_check")] == ["ok"]
            rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        ok, rev, detail = False, None, str(exc)
    else:
        detail = "完整性检查未通过" if not ok else f"数据库版本为 {rev[0] if rev else '无'}"
    if not ok or not rev or rev[0] != HEAD:
        kept = f"恢复前的数据在 {safety}" if safety else "恢复前没有可保留的数据"
        raise BackupError(f"恢复后的检查未通过（{detail}），请再恢复一次或换一个备份；{kept}。")


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

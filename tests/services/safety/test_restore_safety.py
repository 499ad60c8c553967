"""Restore and backups under attack: a damaged or tampered backup is refused before anything is touched, a restore
racing with writers loses no acknowledged write, an empty database is never silently replaced, and leftovers of
failed backups are cleaned up (and only they)."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

ADD = ["progress", "add", "--measure", "13", "--year", "2025", "--status", "正常推进", "--percent", "60",
       "--date", "2025-06-30"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.is_dir() else {}


def done_texts(db_file: Path) -> list[str]:
    conn = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT done FROM progress_report ORDER BY id")]
    finally:
        conn.close()


def integrity(db_file: Path) -> str:
    conn = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def live_state(data_dir: Path) -> tuple:
    """Everything a refused restore must leave as it was."""
    db = data_dir / "qjgb.sqlite3"
    return sha(db), done_texts(db), tree_hashes(data_dir / "evidence")


def edit(db_file: Path, *sql: str) -> None:
    conn = sqlite3.connect(db_file)
    try:
        for statement in sql:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def backup_copy(cli, tmp_path, name):
    out = tmp_path / name
    assert cli("backup", "--out", out)[0] == 0
    return out


# -- a damaged or foreign single-file backup ----------------------------------------------------------------

def damage_pages(path: Path) -> None:
    pages = path.stat().st_size // 4096
    with open(path, "r+b") as fh:
        fh.seek(pages // 2 * 4096)
        fh.write(bytes(range(256)) * 16)


@pytest.mark.parametrize("tamper,words", [
    (damage_pages, "备份文件已损坏"),
    (lambda p: edit(p, "PRAGMA foreign_keys=OFF", "DROP TABLE progress_report"), "缺少数据表：progress_report"),
    (lambda p: edit(p, "ALTER TABLE evidence_file DROP COLUMN purged_at"), "evidence_file 缺少列：purged_at"),
    (lambda p: edit(p, "UPDATE alembic_version SET version_num = '9999_future'"), "来自更新版本的程序"),
    (lambda p: edit(p, "DROP TABLE alembic_version"), "没有数据库版本信息"),
    (lambda p: p.write_bytes(b"\xff\xd8\xff not a database" * 100), "不是本程序的备份文件"),
])
def test_a_damaged_or_foreign_backup_is_refused_and_nothing_changes(cli, data_dir, tmp_path, tamper, words):
    backup = backup_copy(cli, tmp_path, "b.sqlite3")
    cli(*ADD, "--done", "写在备份之后")
    tamper(backup)
    before = live_state(data_dir)
    code, out, err = cli("restore", backup)
    assert code == 1 and words in err and "当前数据未作任何改动" in err, err
    assert "已从" not in out
    assert live_state(data_dir) == before
    assert not list((data_dir / "backups").glob("*before-restore*"))  # refused before the safety copy
    assert not [p for p in (data_dir / "backups").iterdir() if p.name.startswith(".qjgb-part-")]


def test_links_and_special_files_are_refused(cli, data_dir, tmp_path):
    backup = backup_copy(cli, tmp_path, "b.sqlite3")
    link = tmp_path / "link.sqlite3"
    link.symlink_to(backup)
    fifo = tmp_path / "fifo.sqlite3"
    os.mkfifo(fifo)
    before = live_state(data_dir)
    code, _, err = cli("restore", link)
    assert code == 1 and "符号链接" in err
    code, _, err = cli("restore", fifo)  # must not hang waiting for a writer
    assert code == 1 and "不是普通文件" in err
    assert live_state(data_dir) == before


def test_an_older_backup_is_upgraded_on_the_verified_copy(cli, data_dir, tmp_path):
    from alembic import command
    from schema_helpers import seed_plan

    from qjgb_desktop.store.engine import make_engine
    from qjgb_desktop.store.schema import HEAD, REVISIONS, alembic_config

    old = tmp_path / "old.sqlite3"
    engine = make_engine(f"sqlite:///{old}")
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, REVISIONS[-2])
    seed_plan(engine, tmp_path)
    engine.dispose()
    edit(old, "PRAGMA journal_mode=DELETE")
    code, out, err = cli("restore", old)
    assert code == 0, err
    assert f"备份的数据库版本为 {REVISIONS[-2]}，已升级" in out
    live = data_dir / "qjgb.sqlite3"
    conn = sqlite3.connect(live)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    conn.close()
    assert cli(*ADD, "--done", "升级后")[0] == 0


def test_open_connections_stay_valid_and_see_the_restored_content(cli, data_dir, tmp_path):
    from sqlalchemy import select

    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.store.models import ProgressReport

    backup = backup_copy(cli, tmp_path, "b.sqlite3")
    db = open_database()  # a window, say, with its connection open across the restore
    try:
        with db.sessions() as s:
            s.scalar(select(ProgressReport.id).limit(1))
        assert cli(*ADD, "--done", "恢复前写入")[0] == 0
        code, out, _ = cli("restore", backup)
        assert code == 0
        safety = Path(out.split("已另存为：")[1].strip())
        assert done_texts(safety) == ["恢复前写入"]
        with db.sessions() as s:
            assert s.scalars(select(ProgressReport.done)).all() == []
        assert cli(*ADD, "--done", "恢复后写入")[0] == 0
        with db.sessions() as s:
            assert s.scalars(select(ProgressReport.done)).all() == ["恢复后写入"]
    finally:
        db.close()
    assert not (data_dir / "qjgb.sqlite3.restore").exists()
    assert integrity(data_dir / "qjgb.sqlite3") == "ok"


# -- a tampered full backup ---------------------------------------------------------------------------------

@pytest.fixture
def full(cli, data_dir, tmp_path):
    """A full backup with three evidence files; afterwards the live store lost them and got a new one."""
    for i, name in enumerate(("纪要.pdf", "照片.jpg", "名单.xlsx")):
        f = tmp_path / name
        f.write_bytes(f"{name} 内容 {i}".encode() * 500)
        assert cli("evidence", "add", "--measure", "3", "--year", "2025", f)[0] == 0
    folder = tmp_path / "U盘" / "完整备份"
    assert cli("backup", "--full", "--out", folder)[0] == 0
    shutil.rmtree(data_dir / "evidence")
    later = tmp_path / "后来.docx"
    later.write_bytes(b"later" * 100)
    assert cli("evidence", "add", "--measure", "4", "--year", "2025", later)[0] == 0
    cli(*ADD, "--done", "完整备份之后")
    return folder


def blobs(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "evidence").rglob("*") if p.is_file() and len(p.name) == 64)


def change(folder, tmp_path):
    with open(blobs(folder)[0], "ab") as fh:
        fh.write(b"!")


def remove(folder, tmp_path):
    blobs(folder)[1].unlink()


def swap(folder, tmp_path):
    a, b = blobs(folder)[:2]
    data_a = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(data_a)


def symlink(folder, tmp_path):
    secret = tmp_path / "别处的文件.txt"
    secret.write_bytes(b"not evidence at all")
    target = blobs(folder)[2]
    target.unlink()
    target.symlink_to(secret)


def fifo(folder, tmp_path):
    os.mkfifo(folder / "evidence" / "pipe")


def linked_database(folder, tmp_path):
    db = folder / "qjgb.sqlite3"
    shutil.move(db, tmp_path / "elsewhere.sqlite3")
    db.symlink_to(tmp_path / "elsewhere.sqlite3")


@pytest.mark.parametrize("tamper,words", [
    (change, "内容与记录不符"),
    (remove, "缺失"),
    (swap, "内容与记录不符"),
    (symlink, "符号链接"),
    (fifo, "特殊文件"),
    (linked_database, "符号链接"),
])
def test_a_tampered_full_backup_is_refused_and_nothing_changes(cli, data_dir, tmp_path, full, tamper, words):
    tampered = tmp_path / "tampered"
    shutil.copytree(full, tampered, symlinks=True)
    tamper(tampered, tmp_path)
    before = live_state(data_dir)
    code, out, err = cli("restore", tampered)
    assert code == 1 and words in err, err
    assert "已恢复" not in out
    assert live_state(data_dir) == before
    assert cli("evidence", "list", "--json")[0] == 0

    # The untouched backup restores everything, and the store then holds exactly the right contents.
    code, out, err = cli("restore", full)
    assert code == 0, err
    assert "已恢复佐证文件 3 个" in out
    assert {p.name for p in blobs(data_dir)} >= {p.name for p in blobs(full)}
    assert all(sha(p) == p.name for p in blobs(data_dir))


def test_a_full_backup_records_evidence_already_missing_and_restore_says_so(cli, data_dir, tmp_path):
    f = tmp_path / "a.pdf"
    f.write_bytes(b"a" * 1000)
    cli("evidence", "add", "--measure", "3", "--year", "2025", f)
    shutil.rmtree(data_dir / "evidence")  # lost before the backup was made
    folder = tmp_path / "full"
    code, _, err = cli("backup", "--full", "--out", folder)
    assert code == 0 and "1 个佐证文件在本机已缺失" in err
    assert len(json.loads((folder / "qjgb-backup.json").read_text(encoding="utf-8"))["evidence_missing"]) == 1
    code, out, _ = cli("restore", folder)
    assert code == 0 and "做这份备份时就已缺失" in out


# -- restore racing with writers ----------------------------------------------------------------------------

def test_no_acknowledged_write_is_lost_while_restores_run(cli, data_dir, tmp_path):
    backup = backup_copy(cli, tmp_path, "base.sqlite3")
    env = {**os.environ, "QJGB_DATA_DIR": str(data_dir)}

    def start(*args):
        return subprocess.Popen([sys.executable, "-m", "qjgb_desktop", "--user", "并发", *map(str, args)], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    adds, restores = {}, []
    for i in range(30):
        adds[f"并发写入-{i:02d}"] = start(*ADD, "--done", f"并发写入-{i:02d}")
        if i % 6 == 3:
            restores.append(start("restore", backup))
        time.sleep(0.2)
    acknowledged = []
    for text, proc in adds.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 1), err
        if proc.returncode == 0:
            assert "已保存报告" in out
            acknowledged.append(text)
        else:  # refused with a message (waited too long for the lock), never a traceback
            assert "错误：" in err and "Traceback" not in err
    safeties = []
    for proc in restores:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        safeties.append(Path(out.split("已另存为：")[1].strip()))

    live = data_dir / "qjgb.sqlite3"
    assert integrity(live) == "ok"
    final = set(done_texts(live))
    saved = set()
    for copy in safeties:
        assert integrity(copy) == "ok"
        saved |= set(done_texts(copy))
    lost = [t for t in acknowledged if t not in final and t not in saved]
    assert not lost, f"acknowledged but lost: {lost}"
    assert len(acknowledged) >= 25  # writers waited for the restores instead of failing
    assert set(acknowledged) - final, "no restore came after any write: the race was not exercised"
    assert not [p for p in (data_dir / "backups").iterdir() if p.name.startswith(".qjgb-part-")]


# -- an empty database ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("content,words", [(b"", "是空文件（0 字节）"), (b"garbage" * 99, "不是 SQLite 数据库文件")])
def test_an_empty_or_overwritten_database_is_refused_not_replaced(cli, data_dir, tmp_path, content, words):
    cli(*ADD, "--done", "备份里的")
    assert cli("backup")[0] == 0
    newest = max((data_dir / "backups").glob("*.sqlite3"), key=lambda p: p.stat().st_mtime)
    live = data_dir / "qjgb.sqlite3"
    live.write_bytes(content)
    code, _, err = cli("progress", "list")
    assert code == 1 and words in err and str(live) in err and newest.name in err and "qjgb restore" in err
    assert live.read_bytes() == content

    from qjgb_desktop.services.safety.database import UnusableDatabase, open_database
    with pytest.raises(UnusableDatabase):
        open_database()
    assert live.read_bytes() == content

    code, out, err = cli("restore", newest)  # the remedy the message names works
    assert code == 0, err
    assert done_texts(live) == ["备份里的"]
    if content:
        kept = Path(out.split("已另存为：")[1].strip())
        assert kept.read_bytes() == content and kept.suffix == ".damaged"
    else:
        assert "恢复前没有可保留的数据库" in out


# -- leftovers ------------------------------------------------------------------------------------------------

def test_leftovers_of_failed_backups_are_removed_and_nothing_else(cli, data_dir, tmp_path):
    from qjgb_desktop.services.safety.folders import clean_leftovers

    backups = data_dir / "backups"
    full = tmp_path / "full"
    assert cli("backup")[0] == 0
    assert cli("backup", "--full", "--out", full)[0] == 0
    junk = [backups / ".qjgb-part-k1lled.sqlite3", backups / ".qjgb-part-k1lled.sqlite3-journal",
            backups / "qjgb-20250101-000000.sqlite3.part", data_dir / ".qjgb-part-restore-x.sqlite3",
            data_dir / "qjgb.before-0005-x.sqlite3.part"]
    full_junk = [full / ".qjgb-part-zz.sqlite3", full / "qjgb.sqlite3.new", full / ".qjgb-part-m.json",
                 full / "evidence" / (".incoming-" + "0" * 32)]
    keep = [backups / "说明.txt", data_dir / ".qjgb-part-export.xlsx", full / "budget.part1.rar",
            full / "evidence" / ".incoming-not-ours"]
    for p in junk + full_junk + keep:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    real = sorted(backups.glob("qjgb-*.sqlite3"))

    # A folder whose guard is held by another process (a backup writing right now) is left alone.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from qjgb_desktop.store.backup import folder_guard\n"
         f"with folder_guard({str(backups)!r}):\n print('held', flush=True); sys.stdin.read()"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        clean_leftovers(data_dir)
        assert all(p.exists() for p in junk[:3])
        assert not any(p.exists() for p in junk[3:])
    finally:
        holder.communicate("", timeout=30)

    removed = clean_leftovers(data_dir)
    assert set(junk[:3]) <= set(removed)
    assert not any(p.exists() for p in junk)
    assert all(p.exists() for p in full_junk)  # a full-backup folder: at its next backup or restore
    assert cli("backup", "--full", "--out", full)[0] == 0
    assert not any(p.exists() for p in full_junk)
    assert all(p.exists() for p in keep) and sorted(backups.glob("qjgb-*.sqlite3")) == real
    assert cli("restore", full)[0] == 0
    assert cli("verify")[0] == 0

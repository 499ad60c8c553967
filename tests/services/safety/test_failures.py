"""Failures the user can fix are told in Chinese with what to do, exit 1, and nothing is acknowledged that was not
committed: a full disk (simulated at the commit, and real on a small tmpfs when running as root), a read-only data
folder, a damaged database, an id too large to store."""

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine.default import DefaultDialect

from qjgb_desktop.cli.entry import main

ROOT = Path(__file__).resolve().parents[3]
SUCCESS_WORDS = ("已保存", "已修订", "已删除", "已录入", "已关闭", "已重新开放", "已添加", "已导入", "已移除", "已导出",
                 "已生成", "已备份", "已恢复")


def audit_count(data_dir):
    conn = sqlite3.connect(data_dir / "qjgb.sqlite3")
    try:
        return conn.execute("SELECT count(*) FROM audit_event").fetchone()[0], \
            conn.execute("SELECT count(*) FROM progress_report").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def seeded(data_dir, tmp_path):
    assert main(["init"]) == 0
    assert main(["progress", "add", "--measure", "3", "--year", "2026", "--status", "正常推进", "--percent", "40",
                 "--date", "2026-03-01", "--reporter", "甲"]) == 0
    evidence = tmp_path / "纪要.txt"
    evidence.write_text("会议纪要", encoding="utf-8")
    assert main(["evidence", "add", "--measure", "3", "--year", "2026", str(evidence)]) == 0
    return data_dir


WRITES = [
    ["progress", "add", "--measure", "4", "--year", "2026", "--status", "正常推进", "--percent", "30",
     "--date", "2026-03-02", "--reporter", "乙"],
    ["progress", "correct", "1", "--percent", "45"],
    ["progress", "delete", "1", "--reason", "重复"],
    ["indicator", "set", "--measure", "13", "--name", "专任教师本科及以上学历占比", "--value", "96.8",
     "--date", "2026-03-01"],
    ["period", "close", "2026Q1"],
    ["admin", "add", "张主任"],
    ["settings", "--green-margin", "12"],
    ["evidence", "remove", "1", "--reason", "传错了"],
]


@pytest.mark.parametrize("argv", WRITES, ids=lambda a: " ".join(a[:2]))
def test_a_failed_commit_is_never_acknowledged(seeded, monkeypatch, capsys, argv):
    """The disk fills at the very commit: no success line, a Chinese message, exit 1, nothing changed."""
    before = audit_count(seeded)
    capsys.readouterr()

    def full(self, dbapi_connection):
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(DefaultDialect, "do_commit", full)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert not any(word in out for word in SUCCESS_WORDS), out
    assert "磁盘空间已满" in err and "Traceback" not in err
    monkeypatch.undo()
    assert audit_count(seeded) == before


def test_file_writers_leave_the_old_file_or_nothing_on_a_full_disk(seeded, tmp_path, monkeypatch, capsys):
    import openpyxl

    out = tmp_path / "导出.xlsx"
    out.write_bytes(b"the previous export")

    def full(self, filename):
        Path(filename).write_bytes(b"PK half")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(openpyxl.Workbook, "save", full)
    capsys.readouterr()
    assert main(["export", "--out", str(out)]) == 1
    assert main(["template", "--department", "区教委", "--period", "2026Q1", "--out", str(tmp_path / "t.xlsx")]) == 1
    _, err = capsys.readouterr()
    assert err.count("磁盘空间已满") == 2
    assert out.read_bytes() == b"the previous export"  # the old file, never a broken one
    assert not (tmp_path / "t.xlsx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["导出.xlsx", "纪要.txt", "data"])  # no leftovers


def test_an_id_too_large_is_refused_by_the_argument_check(seeded, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["progress", "delete", "1" + "0" * 40, "--reason", "x"])
    assert stop.value.code == 2
    assert "不超过 15 位的正整数" in capsys.readouterr().err


def damage_database(data_dir):
    db = data_dir / "qjgb.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    data[:100] = os.urandom(100)  # the header: SQLite no longer recognises the file
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("argv", [["progress", "list"], ["status"], ["export", "--out", "x.xlsx"],
                                  ["template", "--all", "--period", "2026Q1", "--out", "t"],
                                  ["import", "x.xlsx"], ["evidence", "list"], ["verify"], ["plan"], ["init"],
                                  ["screenshot", "--out", "s.png"]], ids=lambda a: a[0])
def test_a_damaged_database_is_explained_by_every_command(seeded, tmp_path, monkeypatch, capsys, argv):
    (seeded / "backups").mkdir(exist_ok=True)
    assert main(["backup", "--out", str(seeded / "backups" / "qjgb-good.sqlite3")]) == 0
    damage_database(seeded)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == 1, err
    assert "已损坏" in err and "qjgb-good.sqlite3" in err and "Traceback" not in err


def run_cli(data_dir, *argv, timeout=60):
    env = dict(os.environ, QJGB_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "qjgb_desktop", *argv], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def _mount(*args) -> bool:
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A real 12 MB file system (tmpfs) when running as root; else None (the simulated tests above cover it)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mnt)):
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill_disk(folder: Path) -> Path:
    filler = folder / "filler"
    # unbuffered: a buffered file would try to write its unwritten rest again when closed, and fail there
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:  # a raw write fills what is left, then the next one fails
                fh.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


def test_a_really_full_disk(small_disk, tmp_path):
    if small_disk is None:  # CI runs as root; elsewhere the simulated disk-full tests above stand for this one
        pytest.skip("mounting a tmpfs needs root")
    data = small_disk / "data"
    assert run_cli(data, "init").returncode == 0
    assert run_cli(data, "progress", "add", "--measure", "3", "--year", "2026", "--status", "正常推进",
                   "--percent", "40", "--date", "2026-03-01", "--reporter", "甲").returncode == 0
    filler = fill_disk(small_disk)
    results = [run_cli(data, "progress", "add", "--measure", "4", "--year", "2026", "--status", "正常推进",
                       "--percent", "30", "--date", "2026-03-02", "--reporter", "乙", "--done", "字" * 4000)
               for _ in range(3)]
    results.append(run_cli(data, "export", "--out", str(small_disk / "导出.xlsx")))
    results.append(run_cli(data, "template", "--all", "--period", "2026Q1", "--out", str(small_disk / "模板")))
    for r in results:
        assert "Traceback" not in r.stderr, r.stderr
        if r.returncode != 0:
            assert r.returncode == 1 and ("磁盘空间已满" in r.stderr or "磁盘" in r.stderr), r.stderr
            assert not any(word in r.stdout for word in SUCCESS_WORDS), r.stdout
    assert any(r.returncode == 1 for r in results)
    stored_adds = sum(r.returncode == 0 for r in results[:3])
    filler.unlink()
    listing = run_cli(data, "progress", "list", "--json")
    assert listing.returncode == 0
    conn = sqlite3.connect(data / "qjgb.sqlite3")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM progress_report").fetchone()[0] == 1 + stored_adds
    finally:
        conn.close()
    assert not (small_disk / "导出.xlsx").exists() or results[3].returncode == 0


def test_a_read_only_data_folder(seeded, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    if not _mount("--bind", str(seeded), str(ro)):  # CI runs as root
        pytest.skip("a read-only bind mount needs root")
    try:
        assert _mount("-o", "remount,ro,bind", str(ro))
        add = run_cli(ro, "progress", "add", "--measure", "4", "--year", "2026", "--status", "正常推进",
                      "--percent", "30", "--date", "2026-03-02", "--reporter", "乙")
        assert add.returncode == 1 and "只读" in add.stderr and "Traceback" not in add.stderr, add.stderr
        listing = run_cli(ro, "status")
        assert "Traceback" not in listing.stderr, listing.stderr
    finally:
        subprocess.run(["umount", "-l", str(ro)], capture_output=True)


def test_control_characters_stored_before_cleaning_do_not_break_export_or_templates(seeded, tmp_path, capsys):
    conn = sqlite3.connect(seeded / "qjgb.sqlite3")
    conn.execute("UPDATE progress_report SET done = ?, problems = ?", ("a\x01b\x0bc", "\x1f问题"))
    conn.commit()
    conn.close()
    assert main(["export", "--out", str(tmp_path / "x.xlsx")]) == 0
    assert main(["template", "--all", "--period", "2026Q1", "--out", str(tmp_path / "t")]) == 0
    assert len(list((tmp_path / "t").glob("*.xlsx"))) >= 40

"""The window's start on a PC whose data folder cannot be used: a Chinese message that says what is wrong and what
to do, never a traceback before any dialog, and never the false "程序已在运行"."""

import os
import subprocess

import pytest
from PySide6.QtWidgets import QMessageBox

from qjgb_desktop import app, paths
from qjgb_desktop.cli.entry import main

pytestmark = pytest.mark.gui


@pytest.fixture
def told(monkeypatch, qapp):
    said = []
    for kind in ("critical", "warning"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(lambda parent, title, text, *a, **k: said.append(
            (title, text)) or QMessageBox.StandardButton.Ok))
    # an offer to restore is declined unless a test says otherwise (a modal question would wait forever)
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    monkeypatch.setattr(app, "install_excepthook", lambda: None)  # keep pytest's own hook
    return said


def test_a_read_only_data_folder_is_told(tmp_path, told):
    folder = tmp_path / "data"
    folder.mkdir()
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "--bind", str(folder), str(ro)]).returncode != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], check=True)
        paths.set_data_dir(ro / "nested")  # the folder itself cannot even be created
        assert app.run_gui() == 1
        paths.set_data_dir(ro)  # exists, but the lock file cannot be written
        assert app.run_gui() == 1
    finally:
        paths.set_data_dir(None)
        subprocess.run(["umount", "-l", str(ro)])
    assert len(told) == 2
    assert "只读" in told[0][1] and "程序已在运行" not in told[0][0]
    assert "程序已在运行" not in told[1][0] and "只读" in told[1][1]


def test_the_lock_failures_are_told_apart(tmp_path):
    from PySide6.QtCore import QLockFile

    titles = {e: app.lock_problem(e, tmp_path)[0] for e in (QLockFile.LockError.LockFailedError,
                                                             QLockFile.LockError.PermissionError,
                                                             QLockFile.LockError.UnknownError)}
    assert titles[QLockFile.LockError.LockFailedError] == "程序已在运行"
    assert titles[QLockFile.LockError.PermissionError] == "数据文件夹不可写"
    assert "磁盘已满" in app.lock_problem(QLockFile.LockError.UnknownError, tmp_path)[1]


def test_a_damaged_database_is_told_with_the_newest_backup(data_dir, told):
    assert main(["init"]) == 0
    assert main(["backup"]) == 0
    db = data_dir / "qjgb.sqlite3"
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    db.write_bytes(os.urandom(4096))
    assert app.run_gui() == 1
    [(title, text)] = told
    assert title == "无法打开数据库" and "已损坏" in text and "backups" in text and "qjgb-" in text


@pytest.mark.parametrize("damage", ["garbage", "empty"])
def test_a_damaged_database_offers_the_newest_good_backup(data_dir, told, monkeypatch, damage):
    import time

    assert main(["init"]) == 0
    assert main(["progress", "add", "--measure", "3", "--year", "2026", "--status", "正常推进", "--percent", "40",
                 "--date", "2026-03-01", "--reporter", "甲", "--done", "备份里有"]) == 0
    assert main(["backup"]) == 0
    time.sleep(0.05)
    broken = data_dir / "backups" / "qjgb-newer-but-broken.sqlite3"
    broken.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))  # newer, but not restorable: passed over
    db = data_dir / "qjgb.sqlite3"
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    db.write_bytes(os.urandom(4096) if damage == "garbage" else b"")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: asked.append(text) or QMessageBox.StandardButton.Yes))
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Ok))
    opened = app._open_database_or_explain()
    assert opened is not None
    try:
        from qjgb_desktop.services.progress import reports as svc

        with opened.sessions() as s:
            assert [r.done for r in svc.list_reports(s)] == ["备份里有"]
    finally:
        opened.close()
    [question] = asked
    assert "qjgb-newer-but-broken" not in question and "backups" in question
    assert told == []  # no error left to tell

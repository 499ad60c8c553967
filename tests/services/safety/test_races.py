"""Conflicting writes from separate processes at the same moment: exactly one wins, the other gets a clear message
(never a traceback), and the record says what the winner did: a deletion is never silently undone, a closed
period gets no report after its closing, an import never duplicates a report someone added meanwhile."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qjgb_desktop.cli.entry import main

ROOT = Path(__file__).resolve().parents[3]
ROUNDS = 4


def start(data_dir, *argv):
    env = dict(os.environ, QJGB_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), QJGB_USER="并发")
    return subprocess.Popen([sys.executable, "-m", "qjgb_desktop", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def together(data_dir, *commands):
    procs = [start(data_dir, *argv) for argv in commands]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert "Traceback" not in stderr, stderr
        out.append((p.returncode, stdout, stderr))
    return out


def query(data_dir, sql, *params):
    conn = sqlite3.connect(data_dir / "qjgb.sqlite3")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def add(data_dir, measure=3, percent=40, done="基线"):
    assert main(["progress", "add", "--measure", str(measure), "--year", "2026", "--status", "正常推进",
                 "--percent", str(percent), "--date", "2026-03-01", "--reporter", "甲", "--done", done]) == 0
    return query(data_dir, "SELECT max(id) FROM progress_report")[0][0]


@pytest.fixture
def data(data_dir):
    assert main(["init"]) == 0
    return data_dir


def test_correct_against_delete(data):
    for i in range(ROUNDS):
        rid = add(data, done=f"第{i}轮")
        (c_code, _, c_err), (d_code, _, d_err) = together(
            data, ["progress", "correct", str(rid), "--percent", "50"],
            ["progress", "delete", str(rid), "--reason", "重复"])
        assert {c_code, d_code} <= {0, 2}
        series = query(data, "SELECT id, is_current, deleted FROM progress_report WHERE series_id = ?", rid)
        current = [r for r in series if r[1] and not r[2]]
        if d_code == 0 and c_code == 0:  # correct first, then the deletion of the old revision must have failed
            pytest.fail(f"both succeeded: {series}")
        if d_code == 0:
            assert current == [] and "在你打开之后已被" in c_err and "删除（原因：重复）" in c_err
        else:
            assert len(current) == 1 and "在你打开之后已被" in d_err and "修订为第 2 版" in d_err


def test_correct_against_correct(data):
    for i in range(ROUNDS):
        rid = add(data, done=f"第{i}轮")
        results = together(data, ["progress", "correct", str(rid), "--percent", "50"],
                           ["progress", "correct", str(rid), "--percent", "60"])
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 2], results
        loser = next(err for code, _, err in results if code == 2)
        assert "在你打开之后已被" in loser and "修订为第 2 版" in loser and "没有保存" in loser
        current = query(data, "SELECT revision FROM progress_report WHERE series_id = ? AND is_current = 1", rid)
        assert current == [(2,)]


def test_close_period_against_add(data):
    for i, period in enumerate(["2026Q1", "2026Q2"]):
        date = {"2026Q1": "2026-03-01", "2026Q2": "2026-06-01"}[period]
        (a_code, _, a_err), (c_code, _, c_err) = together(
            data, ["progress", "add", "--measure", "5", "--year", "2026", "--status", "正常推进", "--percent", "40",
                   "--date", date, "--reporter", "甲", "--done", f"关闭竞争{i}"],
            ["period", "close", period])
        assert c_code == 0, c_err
        closed_at = query(data, "SELECT at FROM audit_event WHERE action = 'period.close' ORDER BY id DESC")[0][0]
        rows = query(data, "SELECT created_at FROM progress_report WHERE done = ?", f"关闭竞争{i}")
        if a_code == 0:
            assert len(rows) == 1 and rows[0][0] <= closed_at  # added before the closing, never after
        else:
            assert a_code == 2 and "已关闭" in a_err and rows == []


def test_import_against_add_never_duplicates(data, tmp_path):
    from excel_helpers import fill, row_of

    tpl = tmp_path / "jw.xlsx"
    assert main(["template", "--department", "区教委", "--period", "2026Q1", "--out", str(tpl)]) == 0
    r7 = row_of(tpl, 7)
    filled = fill(tpl, tmp_path / "回.xlsx", rows={r7: ["正常推进", 45, "导入的进展", "", "", "李"]})
    results = together(data, ["import", str(filled), "--today", "2026-03-20"],
                       ["progress", "add", "--measure", "7", "--year", "2026", "--status", "正常推进",
                        "--percent", "35", "--date", "2026-03-10", "--reporter", "王", "--department", "区教委",
                        "--done", "手工录入"])
    assert [code for code, _, _ in results] == [0, 0], results
    current = query(data, "SELECT p.done FROM progress_report p JOIN department d ON d.id = p.department_id "
                          "JOIN yearly_target t ON t.id = p.yearly_target_id JOIN measure m ON m.id = t.measure_id "
                          "WHERE m.no = 7 AND t.year = 2026 AND p.period = '2026Q1' AND d.name = '区教委' "
                          "AND p.is_current = 1 AND p.deleted = 0")
    first = query(data, "SELECT done FROM progress_report WHERE done IN ('导入的进展', '手工录入') ORDER BY id")[0][0]
    if first == "手工录入":  # the manual report came first: the import corrected it instead of adding a duplicate
        assert current == [("导入的进展",)], current
    else:  # the import came first: an explicit add is a report of its own (several per period are allowed)
        assert sorted(current) == [("导入的进展",), ("手工录入",)], current


def test_many_writers_lose_nothing(data):
    """Twelve processes adding at once: every acknowledged add is stored, integrity holds."""
    procs = [start(data, "progress", "add", "--measure", str(3 + i % 5), "--year", "2026", "--status", "正常推进",
                   "--percent", "40", "--date", "2026-03-01", "--reporter", "甲", "--done", f"并发{i}")
             for i in range(12)]
    acked = []
    for i, p in enumerate(procs):
        out, err = p.communicate(timeout=120)
        assert "Traceback" not in err, err
        if p.returncode == 0 and "已保存报告" in out:
            acked.append(f"并发{i}")
    stored = {r[0] for r in query(data, "SELECT done FROM progress_report")}
    assert set(acked) <= stored and len(acked) == 12
    assert query(data, "PRAGMA integrity_check") == [("ok",)]


def test_a_dead_writers_lock_is_taken_over_even_when_its_pid_is_reused(tmp_path):
    """A writer killed while holding the lock leaves its lock file; when its PID is then reused by another python
    process (PIDs wrap quickly on a busy machine), Qt alone would take that process for the holder and every writer
    would wait 30 s and give up. The new process started after the lock was written: it is not the holder."""
    import time as _time

    from PySide6.QtCore import QSysInfo

    from qjgb_desktop.store.locks import process_start_time, write_lock

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _time.sleep(0.2)
        assert process_start_time(sleeper.pid) is not None
        lock_file = tmp_path / "qjgb.sqlite3.write.lock"
        # What a killed writer's QLockFile leaves: its PID (here: reused by the sleeper), program and host names.
        program = Path(os.readlink(f"/proc/{sleeper.pid}/exe")).name  # what Qt compares: the same program
        lock_file.write_text(f"{sleeper.pid}\n{program}\n{QSysInfo.machineHostName()}\n\n\n", encoding="utf-8")
        old = _time.time() - 120
        os.utime(lock_file, (old, old))
        started = _time.monotonic()
        with write_lock(lock_file, wait_s=5):
            pass
        assert _time.monotonic() - started < 3
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_live_writers_lock_is_respected(tmp_path):
    from qjgb_desktop.store.locks import LockError, write_lock

    lock_file = tmp_path / "qjgb.sqlite3.write.lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from qjgb_desktop.store.locks import write_lock\n"
        "from pathlib import Path\n"
        "with write_lock(Path(%r)):\n"
        "    print('HELD', flush=True); time.sleep(30)") % (str(ROOT), str(lock_file))],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "HELD"
        with pytest.raises(LockError):
            with write_lock(lock_file, wait_s=1.5):
                pass
    finally:
        holder.kill()
        holder.communicate()


def test_notices_registered_at_the_same_moment_get_numbers_of_their_own(data, tmp_path):
    import hashlib

    out = tmp_path / "通知"
    runs = together(data, *[["notice", "--all", "--out", str(out), "--today", "2026-11-20", "--register"]] * 3)
    assert all(code == 0 for code, _, _ in runs), runs
    rows = query(data, "SELECT year, seq, number, file_name, sha256 FROM notice_record ORDER BY seq")
    per_run = len(rows) // 3
    assert per_run >= 1 and len(rows) == 3 * per_run
    assert [r[1] for r in rows] == list(range(1, len(rows) + 1))  # consecutive, none twice, none lost
    for _year, _seq, number, name, digest in rows:  # each registered file is there, as registered
        assert name.endswith(f"-{number}.docx")
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest

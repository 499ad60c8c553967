"""SIGKILL at random points of adds, corrections, imports, evidence and backups (two writers at a time): every write
the program acknowledged is there afterwards, the database passes its integrity check, and the evidence store
verifies (partial copies of killed writes are leftovers, cleaned up, not damage)."""

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from qjgb_desktop.cli.entry import main

ROOT = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).resolve().parents[2] / "kill_worker.py"
ROUNDS = 26  # two workers killed per round: 52 kills


def launch(data_dir, seed, template):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-u", str(WORKER), str(data_dir), str(seed), str(template)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert p.stdout.readline().strip() == "READY", p.stderr.read()
    return p


def test_nothing_acknowledged_is_lost_through_kills(data_dir, tmp_path, capsys):
    assert main(["init"]) == 0
    template = tmp_path / "jw.xlsx"
    assert main(["template", "--department", "区教委", "--period", "2026Q1", "--out", str(template)]) == 0
    rng = random.Random(20261129)
    lines, kills = [], 0
    for i in range(ROUNDS):
        procs = [launch(data_dir, 2 * i + k, template) for k in range(2)]
        time.sleep(rng.uniform(0.05, 1.5))
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == -signal.SIGKILL, err
            assert "Traceback" not in err, err
            lines += out.splitlines()
            kills += 1
    assert kills >= 50
    text = "\n".join(lines)
    reports = {int(m) for m in re.findall(r"已保存报告 #(\d+)", text)} | \
        {int(m) for m in re.findall(r"已修订：报告 #\d+ → #(\d+)", text)}
    evidence = {int(m) for m in re.findall(r"已添加 #(\d+)：", text)}
    imported = set(re.findall(r"IMPORTED (\S+)", text))
    backups = re.findall(r"已备份到：(.+)", text)
    assert reports and evidence, text[-2000:]  # the kills did land after some acknowledged writes

    conn = sqlite3.connect(data_dir / "qjgb.sqlite3")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r[0] for r in conn.execute("SELECT id FROM progress_report")}
        assert reports <= stored, reports - stored
        stored_evidence = {r[0] for r in conn.execute("SELECT id FROM evidence")}
        assert evidence <= stored_evidence, evidence - stored_evidence
        texts = {r[0] for r in conn.execute("SELECT done FROM progress_report")}
        assert imported <= texts, imported - texts
    finally:
        conn.close()
    for path in backups:
        b = sqlite3.connect(path.strip())
        try:
            assert b.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            b.close()
    capsys.readouterr()
    assert main(["verify"]) == 0, capsys.readouterr()

"""Run by tests/services/safety/test_kill.py: write through the command line's own code in a loop until killed.

Every line the commands print goes to stdout unbuffered, so whatever a user would have seen before the kill is
what the test holds the program to: an acknowledged write must be in the database afterwards.
Usage: python -u tests/kill_worker.py DATA_DIR SEED TEMPLATE
"""

import os
import random
import sys
from pathlib import Path

data_dir, seed, template = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
os.environ["QJGB_DATA_DIR"] = str(data_dir)
os.environ["QJGB_USER"] = f"worker{seed}"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from qjgb_desktop.cli.entry import main  # noqa: E402

rng = random.Random(seed)
work = data_dir.parent / f"work{seed}"
work.mkdir(exist_ok=True)
print("READY", flush=True)
n = 0
while True:
    n += 1
    token = f"w{seed}n{n}"
    op = rng.choice(["add", "add", "correct", "import", "evidence", "backup"])
    if op == "add":
        main(["progress", "add", "--measure", str(rng.randint(1, 20)), "--year", "2026", "--status", "正常推进",
              "--percent", "40", "--date", "2026-03-01", "--reporter", "甲", "--done", token])
    elif op == "correct":
        import sqlite3

        conn = sqlite3.connect(data_dir / "qjgb.sqlite3")
        row = conn.execute("SELECT id FROM progress_report WHERE is_current = 1 AND deleted = 0 "
                           "ORDER BY random() LIMIT 1").fetchone()
        conn.close()
        if row:
            main(["progress", "correct", str(row[0]), "--done", token])
    elif op == "import":
        from excel_helpers import fill, row_of

        measure = rng.choice([3, 4, 7, 13])
        out = fill(template, work / f"{token}.xlsx",
                   rows={row_of(template, measure): ["正常推进", 40, token, "", "", "李"]})
        if main(["import", str(out), "--today", "2026-03-20"]) == 0:
            print(f"IMPORTED {token}", flush=True)
    elif op == "evidence":
        f = work / f"{token}.bin"
        f.write_bytes(os.urandom(rng.choice([10, 200_000, 3_000_000])) + token.encode())
        main(["evidence", "add", "--measure", str(rng.randint(1, 20)), "--year", "2026", str(f)])
    elif op == "backup":
        main(["backup", "--out", str(work / f"{token}.sqlite3")])

"""Start-up time: process start → main window shown with the seeded plan, and → its lights on screen, against a
bare PySide6 window.

    python benchmarks/startup.py [--runs 9] [--server]

With --server the program is also started in server mode, against a throwaway local PostgreSQL server (Debian's
postgresql; tests/pg_server.py): its window must show within 1.5 s.

Both are started the same way (a new Python process, offscreen platform) and report the wall-clock time at
which their window has been shown and the event loop has run once. The floor is measured in the same run.
Goal: the program ≤ 3× the bare window.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.resize(1280, 720); w.show()
def report():
    print(f"shown {time.time():.6f}", flush=True); app.quit()
QTimer.singleShot(0, report)
app.exec()
"""


def timed(cmd: list[str], env: dict, moment: str = "shown") -> float:
    return timed_moments(cmd, env)[moment]


def timed_moments(cmd: list[str], env: dict) -> dict[str, float]:
    """Seconds from process start to each moment the process prints ("shown", and for qjgb "lights")."""
    start = time.time()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    moments = {ln.split()[0]: float(ln.split()[1]) - start for ln in out.stdout.splitlines()
               if ln.startswith(("shown ", "lights "))}
    if "shown" not in moments:
        raise SystemExit(f"no 'shown' line from {cmd}: rc={out.returncode}\n{out.stderr}")
    return moments


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--server", action="store_true", help="also measure server mode (PostgreSQL)")
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QJGB_STARTUP_PROBE": "1"}
    env.pop("QJGB_DATA_DIR", None)
    # As installed (pip, the bundle): the program's bytecode is compiled once, not at every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "qjgb_desktop")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        app_cmd = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data)]
        first = timed(app_cmd, env)  # creates the schema through the migrations and seeds the plan
        bare, app, lit = [], [], []
        timed([sys.executable, "-c", BARE], env)  # warm the file cache for both
        timed(app_cmd, env)
        for _ in range(args.runs):
            bare.append(timed([sys.executable, "-c", BARE], env))
            moments = timed_moments(app_cmd, env)
            app.append(moments["shown"])
            lit.append(moments["lights"])
    b, a, li = statistics.median(bare), statistics.median(app), statistics.median(lit)
    print(f"runs: {args.runs} each, alternating; medians")
    print(f"bare PySide6 window (floor)        {b * 1000:7.0f} ms")
    print(f"qjgb main window, seeded plan      {a * 1000:7.0f} ms   ratio {a / b:.2f}x")
    print(f"qjgb lights on screen              {li * 1000:7.0f} ms   ratio {li / b:.2f}x  (goal <= 3x)")
    print(f"qjgb first start (create + seed)   {first * 1000:7.0f} ms   ratio {first / b:.2f}x  (once)")
    if args.server:
        sys.path.insert(0, str(ROOT / "tests"))
        from pg_server import Cluster

        cluster = Cluster.start()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                server_env = {**env, "QJGB_DATABASE_URL": cluster.fresh_database()}
                cmd = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(Path(tmp) / "data")]
                timed(cmd, server_env)
                runs = [timed_moments(cmd, server_env) for _ in range(args.runs)]
        finally:
            cluster.stop()
        shown = statistics.median(r["shown"] for r in runs)
        lit_s = statistics.median(r["lights"] for r in runs)
        print(f"server mode: main window shown     {shown * 1000:7.0f} ms   (goal <= 1500 ms)")
        print(f"server mode: lights on screen      {lit_s * 1000:7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

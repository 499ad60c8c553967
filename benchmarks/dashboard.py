"""Dashboard refresh after a progress edit, with many reports: the status, the monthly activity and every chart
drawn.

    python benchmarks/dashboard.py [--reports 100000] [--runs 7]

Floor, same run, same file: the bare aggregate queries the dashboard needs (latest report per target, targets
reported this period, reports per day) through the standard library's sqlite3. Goal: refresh < 300 ms.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate_reports import generate  # noqa: E402

TODAY = date(2027, 6, 30)
ACTIVITY_SQL = ("SELECT report_date, count(*) FROM progress_report WHERE is_current = 1 AND deleted = 0 "
                "AND report_date >= '2025-01-01' AND report_date <= ? GROUP BY report_date")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from qjgb_desktop.app import create_main_window
    from qjgb_desktop.domain.periods import period_of
    from qjgb_desktop.services.charts import data as cd
    from qjgb_desktop.services.plan.query import plan_tree
    from qjgb_desktop.services.progress.as_of import AsOf
    from qjgb_desktop.services.progress.status import LATEST_SQL, REPORTED_SQL, compute_status, sql_params
    from qjgb_desktop.services.safety.database import open_database

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        total = generate(data, args.reports, TODAY)
        db = open_database()
        conn = sqlite3.connect(data / "qjgb.sqlite3")
        params = sql_params(period_of(TODAY), AsOf(TODAY), iso=True)

        def bare():
            conn.execute(LATEST_SQL, params).fetchall()
            conn.execute(REPORTED_SQL, params).fetchall()
            conn.execute(ACTIVITY_SQL, (TODAY.isoformat(),)).fetchall()
        floors = []
        for _ in range(args.runs):
            t = time.perf_counter()
            bare()
            floors.append(time.perf_counter() - t)

        with db.sessions() as s:
            tree = plan_tree(s)
        window = create_main_window(tree, db=db, today=TODAY)
        window.resize(1366, 768)
        window.show()
        window.tabs.setCurrentIndex(window.tabs.indexOf(window.dashboard))
        app.processEvents()
        board = window.dashboard.content
        from qjgb_desktop.domain.validation import ReportInput
        from qjgb_desktop.services.progress.reports import add_report, form_defaults, target_id_for

        data_times, draw_times = [], []
        for run in range(args.runs):
            # A progress edit, as a clerk makes one: then the refresh it causes is what is timed.
            with db.sessions.begin() as s:
                tid = target_id_for(s, 1 + run % 20, 2027)
                lead = form_defaults(s, tid, TODAY).department
                add_report(s, tid, ReportInput("2027Q2", TODAY, lead, "测试", "正常推进", 40 + run * 5),
                           "benchmark", TODAY)
            t = time.perf_counter()
            with db.sessions() as s:
                snap = compute_status(s, TODAY, tree)
                months = cd.monthly_activity(s, date(2025, 1, 1), TODAY)
            t1 = time.perf_counter()
            board._snap = snap
            board._activity = months
            board.refresh()  # rebuilds the figures; each canvas renders at its next idle draw
            app.processEvents()
            app.processEvents()
            draw_times.append(time.perf_counter() - t1)
            data_times.append(t1 - t)
        window.close()
        conn.close()
        db.close()
    f, d, g = (statistics.median(x) for x in (floors, data_times, draw_times))
    print(f"database: {total} progress reports; {args.runs} runs, medians")
    print(f"bare aggregate queries (floor, sqlite3)    {f * 1000:7.1f} ms")
    print(f"dashboard data (status + monthly activity) {d * 1000:7.1f} ms   ratio {d / f:.2f}x")
    print(f"dashboard drawing (5 charts + top 10)      {g * 1000:7.1f} ms")
    print(f"dashboard refresh, total                   {(d + g) * 1000:7.1f} ms   (goal < 300 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

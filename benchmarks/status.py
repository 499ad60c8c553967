"""Status with many reports: the whole status tree, the tree view refresh and a selection change.

    python benchmarks/status.py [--reports 100000] [--runs 7]

Floor, measured in the same run on the same file: the two bare SQL statements the status needs (latest report
per target, targets reported this period), run through the standard library's sqlite3 with no Python work on
the rows. Goals: status ≤ a few times the floor; the UI thread's part of a selection change < 100 ms.
"""

from __future__ import annotations

import argparse
import itertools
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


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from qjgb_desktop.domain.periods import period_of
    from qjgb_desktop.services.plan.query import plan_tree
    from qjgb_desktop.services.progress.as_of import AsOf
    from qjgb_desktop.services.progress.reports import list_reports
    from qjgb_desktop.services.progress.status import LATEST_SQL, REPORTED_SQL, compute_status, sql_params
    from qjgb_desktop.services.safety.database import open_database

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        t = time.perf_counter()
        total = generate(data, args.reports, TODAY)
        gen = time.perf_counter() - t
        db = open_database()
        p = period_of(TODAY)

        conn = sqlite3.connect(data / "qjgb.sqlite3")
        params = sql_params(p, AsOf(TODAY), iso=True)
        floor, _ = timed(lambda: (conn.execute(LATEST_SQL, params).fetchall(),
                                  conn.execute(REPORTED_SQL, params).fetchall()), args.runs)
        conn.close()

        with db.sessions() as s:
            tree = plan_tree(s)
        with db.sessions() as s:
            status_time, snap = timed(lambda: compute_status(s, TODAY, tree), args.runs)

        from qjgb_desktop.app import create_main_window

        window = create_main_window(tree, db=db, today=TODAY)
        window.resize(1366, 768)
        window.show()
        window.start()
        window.ctx.workers.wait()
        app.processEvents()
        window.tree_view.expandAll()
        app.processEvents()
        with db.sessions() as s:
            other = compute_status(s, date(2026, 9, 30), tree)
        flip = [snap]

        def refresh():
            flip[0] = other if flip[0] is snap else snap
            window.model.set_status(flip[0], flip[0].year)  # row-level dataChanged
            app.processEvents()  # the tree repaints the changed rows
        refresh_time, _ = timed(refresh, args.runs)
        window.tree_view.collapseAll()
        busiest = max(snap.targets, key=lambda tid: snap.targets[tid].percent >= 0 and tid)
        target_ids = [t.id for m in tree.measures() for t in m.targets if t.year <= TODAY.year]

        deliveries = []
        original = window._show_selection_data

        def timed_delivery(result):
            t0 = time.perf_counter()
            original(result)
            deliveries.append(time.perf_counter() - t0)
        window._show_selection_data = timed_delivery

        picks = itertools.count()

        def select_one():
            tid = target_ids[next(picks) % len(target_ids)]
            t0 = time.perf_counter()
            window.select_target(tid)  # detail shown, reports requested from a worker
            ui = time.perf_counter() - t0
            window.ctx.workers.wait()
            app.processEvents()  # the reports arrive and are shown
            return ui, time.perf_counter() - t0
        samples = [select_one() for _ in range(max(args.runs, 10))]
        ui_select = max(s[0] for s in samples)
        full_select = statistics.median(s[1] for s in samples)
        with db.sessions() as s:
            per_target, reports = timed(lambda: list_reports(s, target_id=busiest), args.runs)
        window.close()
        db.close()

    print(f"database: {total} progress reports (generated in {gen:.1f} s), {args.runs} runs, medians")
    print(f"bare SQL aggregate (floor, sqlite3)       {floor * 1000:8.1f} ms")
    print(f"whole status tree (targets→plan, depts)   {status_time * 1000:8.1f} ms   ratio {status_time / floor:.2f}x")
    print(f"tree refresh (85 rows expanded, repaint)   {refresh_time * 1000:8.1f} ms")
    print(f"selection change, UI thread (worst)       {ui_select * 1000:8.1f} ms   (goal < 100 ms)")
    print(f"showing the loaded reports, UI thread     {max(deliveries) * 1000:8.1f} ms   (worst; goal < 100 ms)")
    print(f"selection change incl. background reports {full_select * 1000:8.1f} ms")
    print(f"one target's {len(reports)} reports loaded            {per_target * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Another process writes to the same database: the open window refreshes in place (lights, the reports of the
selected target), keeping what the clerk had selected, without a restart."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gui_helpers import select_target, settle

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[3]


def cli(data_dir, *argv):
    env = dict(os.environ, QJGB_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "qjgb_desktop", *argv], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def test_a_report_from_another_process_appears_without_restart(window, data_dir, qtbot):
    select_target(window, 3, 2026)
    cli(data_dir, "progress", "add", "--measure", "3", "--year", "2026", "--status", "正常推进", "--percent", "50",
        "--date", "2026-07-01", "--reporter", "甲", "--done", "第一份")
    qtbot.waitUntil(lambda: window.reports.model.rowCount() == 1, timeout=10_000)  # the poll, every few seconds
    settle(window)
    window.reports.table.selectRow(0)
    first = window.reports.selected_report()
    assert first.done == "第一份"

    cli(data_dir, "progress", "add", "--measure", "3", "--year", "2026", "--status", "滞后", "--percent", "10",
        "--date", "2026-07-02", "--reporter", "乙", "--done", "第二份", "--problems", "经费未到位", "--next", "协调")
    assert window.ctx.watcher.poll()  # noticed at once when asked; the timer asks every few seconds
    settle(window)
    assert window.reports.model.rowCount() == 2
    assert window.reports.selected_report().done == "第一份"  # the clerk's selection stayed where it was
    tid = window.current_node().id
    assert window.model.status().targets[tid].state == "滞后"  # the lights follow the other process's report


def test_own_writes_are_not_refreshed_twice(window, qtbot):
    from datetime import date

    from qjgb_desktop.domain.validation import ReportInput
    from qjgb_desktop.services.progress import reports as svc

    select_target(window, 4, 2026)
    target = window.current_node().id
    window.ctx.write(lambda s: svc.add_report(s, target, ReportInput(
        period="2026Q2", report_date=date(2026, 6, 1), department=window.current_node().measure.lead,
        reporter="甲", status="正常推进", percent=40, done="本窗口"), "王老师", date(2026, 7, 2)))
    settle(window)
    assert not window.ctx.watcher.poll()  # our own commit was acknowledged: no second refresh

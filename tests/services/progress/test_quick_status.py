"""The window's first lights come from the same SQL read through sqlite3: they must equal the full path's."""

import sys
from datetime import date

from qjgb_desktop import paths
from qjgb_desktop.cli.entry import main
from qjgb_desktop.services.plan.query import plan_tree_quick
from qjgb_desktop.services.progress.status import compute_status
from qjgb_desktop.services.progress.status_core import quick_status


def test_quick_status_equals_the_full_path(data_dir, tmp_path):
    assert main(["init"]) == 0
    for measure, percent, day, status in ((3, 40, "2026-03-01", "正常推进"), (4, 100, "2026-05-01", "已完成"),
                                          (5, 5, "2026-06-01", "滞后")):
        args = ["progress", "add", "--measure", str(measure), "--year", "2026", "--status", status,
                "--percent", str(percent), "--date", day, "--reporter", "甲"]
        if status == "滞后":
            args += ["--problems", "经费", "--next", "协调"]
        assert main(args) == 0
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4 x")
    assert main(["evidence", "add", "--measure", "3", "--year", "2026", str(tmp_path / "a.pdf")]) == 0
    assert main(["settings", "--green-margin", "12"]) == 0
    url = paths.database_url()
    tree = plan_tree_quick(url)
    today = date(2026, 6, 15)
    quick = quick_status(url, today, tree)
    from qjgb_desktop.services.safety.database import open_database

    db = open_database()
    try:
        with db.sessions() as s:
            full = compute_status(s, today, tree)
    finally:
        db.close()
    assert quick is not None
    assert quick.targets == full.targets and quick.measures == full.measures and quick.plan == full.plan
    assert quick.departments == full.departments and quick.evidence == full.evidence and quick.evidence
    assert quick.thresholds.green_margin == 12


def test_the_quick_path_needs_no_sqlalchemy():
    import subprocess

    code = ("import sys; from qjgb_desktop.services.progress import status_core; "
            "from qjgb_desktop.services.charts import data; "
            "print('sqlalchemy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

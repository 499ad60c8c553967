import os
import sys
from pathlib import Path

# Before anything imports Qt: without a display Qt would abort the process.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
for var in ("QJGB_DATA_DIR", "QJGB_DATABASE_URL", "QJGB_STARTUP_PROBE"):
    os.environ.pop(var, None)

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qjgb_desktop import paths  # noqa: E402

SOURCE = ROOT / "resources/plan/source/yanqing-qjgb-2025-2027-draft.txt"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh data folder per test, also for child processes."""
    folder = tmp_path / "data"
    paths.set_data_dir(folder)
    monkeypatch.setenv("QJGB_DATA_DIR", str(folder))
    yield folder
    paths.set_data_dir(None)


@pytest.fixture
def cli(data_dir, capsys):
    """The command line in this process over a fresh, initialised data folder: run(*args) → (code, out, err)."""
    from qjgb_desktop.cli import main

    def run(*args, user="王老师"):
        try:
            code = main(["--user", user, *map(str, args)])
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err
    assert run("init")[0] == 0
    return run


@pytest.fixture
def db(data_dir):
    from qjgb_desktop.services.database import open_database

    database = open_database()
    yield database
    database.close()


@pytest.fixture(scope="session")
def source_text():
    return SOURCE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def plan_record():
    from qjgb_desktop.services.plan_load import builtin_plan_record

    return builtin_plan_record()


@pytest.fixture
def tree(db):
    from qjgb_desktop.services.plan_query import plan_tree

    with db.sessions() as session:
        return plan_tree(session)


def measures(record):
    return [m for a in record["actions"] for m in a["measures"]]


GUI_TODAY = __import__("datetime").date(2026, 7, 2)


@pytest.fixture
def window(qtbot, db):
    """The main window over a fresh database, "today" fixed at 2026-07-02, the database open and lights computed."""
    from gui_helpers import settle
    from qjgb_desktop.app import create_main_window, load_tree

    win = create_main_window(load_tree(db), db=db, today=GUI_TODAY)
    win.ctx.set_user("王老师")
    qtbot.addWidget(win)
    win.show()
    win.start()
    settle(win)
    yield win
    settle(win)

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
def cli(data_dir, capsys, backend, request):
    """The command line in this process over a fresh, initialised data folder (or server database):
    run(*args) → (code, out, err)."""
    from qjgb_desktop.cli.entry import main

    if backend == "postgresql":
        request.getfixturevalue("server_url")  # QJGB_DATABASE_URL names it, for this process and its children

    def run(*args, user="王老师"):
        try:
            code = main(["--user", user, *map(str, args)])
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err
    assert run("init")[0] == 0
    return run


# The services' tests run on both databases: the single PC's SQLite file and a PostgreSQL server (server mode).
# `db` is parametrised for every test that asks for it, except window tests (pytest.mark.gui) and the modules below,
# whose subject is the SQLite file itself (its backups, locks, kills, damaged files, office round trips).
BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY_MODULES = {"test_hygiene", "test_office_interop", "test_excel_collection", "test_restore_safety",
                       "test_accounts"}  # a server's accounts: tests/services/accounts/test_server_security.py


def pytest_generate_tests(metafunc):
    if "db" not in metafunc.fixturenames and "cli" not in metafunc.fixturenames:
        return
    sqlite_only = (metafunc.definition.get_closest_marker("gui") is not None
                   or metafunc.definition.get_closest_marker("sqlite_only") is not None
                   or metafunc.module.__name__ in SQLITE_ONLY_MODULES
                   or "window" in metafunc.fixturenames)
    metafunc.parametrize("backend", ["sqlite"] if sqlite_only else list(BACKENDS), indirect=True)


@pytest.fixture
def backend(request):
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_cluster():
    from pg_server import Cluster

    cluster = Cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def server_url(request, monkeypatch):
    """A fresh server database as `qjgb init` leaves it, also for child processes (QJGB_DATABASE_URL)."""
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.fresh_database()
    monkeypatch.setenv("QJGB_DATABASE_URL", url)
    yield url
    from qjgb_desktop.services.evidence.records import close_store_for_url

    close_store_for_url(url)  # a store made by a command or a child of this test, not by a Database it closed
    cluster.drop(url)


@pytest.fixture
def db(data_dir, backend, request):
    from qjgb_desktop.services.safety.database import open_database

    url = request.getfixturevalue("server_url") if backend == "postgresql" else None
    database = open_database(url)
    yield database
    database.close()


@pytest.fixture(scope="session")
def source_text():
    return SOURCE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def plan_record():
    from qjgb_desktop.services.plan.load import builtin_plan_record

    return builtin_plan_record()


@pytest.fixture
def tree(db):
    from qjgb_desktop.services.plan.query import plan_tree

    with db.sessions() as session:
        return plan_tree(session)


@pytest.fixture
def cheap_hashes(monkeypatch):
    """Argon2 with small parameters: tests hash many passwords (the program's own are the library's defaults)."""
    from argon2 import PasswordHasher

    from qjgb_desktop.services.accounts import accounts

    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def no_dialogs_left_open():
    """After a window test: any dialog it left open is closed (without its own reject, which may ask first)."""
    yield
    from PySide6.QtWidgets import QApplication, QDialog

    for w in QApplication.topLevelWidgets():
        if isinstance(w, QDialog) and w.isVisible():
            QDialog.done(w, 0)


def measures(record):
    return [m for a in record["actions"] for m in a["measures"]]


GUI_TODAY = __import__("datetime").date(2026, 7, 2)


@pytest.fixture
def window(qtbot, db):
    """The main window over a fresh database, "today" fixed at 2026-07-02, the database open and lights computed."""
    from gui_helpers import open_window, settle

    win = open_window(qtbot, db, "王老师")
    yield win
    settle(win)

"""The database: created through the migrations, seeded once, SQLite settings, refusing what it must not open."""

import os
import subprocess
import sys
from datetime import datetime

import pytest
from conftest import ROOT
from schema_helpers import seed_plan
from sqlalchemy import create_engine, func, select, text

from qjgb_desktop.services.safety.database import open_database
from qjgb_desktop.store.engine import make_engine
from qjgb_desktop.store.models import AuditEvent, Base, Indicator, IndicatorTarget, Measure, Plan, YearlyTarget
from qjgb_desktop.store.schema import HEAD, REVISIONS, SchemaError, alembic_config, current_revision, ensure_schema


def counts(db):
    with db.sessions() as s:
        return {model.__name__: s.scalar(select(func.count()).select_from(model))
                for model in (Plan, Measure, YearlyTarget, Indicator, IndicatorTarget, AuditEvent)}


def test_first_open_creates_schema_and_seeds_the_plan(data_dir):
    db = open_database()
    try:
        assert db.schema_action == "created"
        assert db.seeded
        assert (data_dir / "qjgb.sqlite3").is_file()
        c = counts(db)
        assert c["Plan"] == 1 and c["Measure"] == 20 and c["YearlyTarget"] == 60
        assert 40 <= c["Indicator"] <= 80
        assert current_revision(db.engine) == HEAD
    finally:
        db.close()


def test_second_open_changes_nothing(data_dir):
    first = open_database()
    before = counts(first)
    with first.sessions() as s:
        loaded_at = s.scalar(select(Plan.loaded_at))
    first.close()
    second = open_database()
    try:
        assert second.schema_action == "current"
        assert not second.seeded
        assert counts(second) == before
        with second.sessions() as s:
            assert s.scalar(select(Plan.loaded_at)) == loaded_at
    finally:
        second.close()


@pytest.mark.sqlite_only  # the file's own settings / the window's sqlite3 first paint
def test_sqlite_runs_with_wal_full_sync_and_foreign_keys(db):
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db.sessions.begin() as s:
            s.add(YearlyTarget(measure_id=999999, year=2025, text="x"))


def test_known_revisions_match_the_migration_scripts():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    history = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert tuple(history) == REVISIONS
    assert script.get_current_head() == HEAD


def test_migrations_produce_exactly_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    ensure_schema(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def downgrade_and_upgrade_again(url: str) -> None:
    """Every migration's downgrade runs back to an empty schema, and the program then creates it anew."""
    from alembic import command

    engine = make_engine(url)
    ensure_schema(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert current_revision(engine) is None
    assert ensure_schema(engine) == "created"
    engine.dispose()


def test_downgrade_and_upgrade_again(tmp_path):
    downgrade_and_upgrade_again(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_a_database_from_a_newer_program_is_refused_untouched(data_dir):
    open_database().close()
    engine = create_engine(f"sqlite:///{data_dir / 'qjgb.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(SchemaError, match="比本程序新"):
        open_database()
    engine = create_engine(f"sqlite:///{data_dir / 'qjgb.sqlite3'}")
    assert current_revision(engine) == "9999_future"
    engine.dispose()


def test_a_foreign_database_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE customers (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(SchemaError, match="不是本程序的数据库"):
        open_database(url)


def test_database_url_is_a_setting(tmp_path, data_dir, monkeypatch):
    other = tmp_path / "elsewhere" / "plan.sqlite3"
    monkeypatch.setenv("QJGB_DATABASE_URL", f"sqlite:///{other}")
    db = open_database()
    db.close()
    assert other.is_file()
    assert not (data_dir / "qjgb.sqlite3").exists()


def test_database_url_from_config_file(tmp_path, data_dir):
    other = tmp_path / "cfg.sqlite3"
    data_dir.mkdir(parents=True)
    (data_dir / "config.toml").write_text(f'database_url = "sqlite:///{other.as_posix()}"\n', encoding="utf-8")
    open_database().close()
    assert other.is_file()


def test_opening_a_current_database_does_not_import_alembic(data_dir):
    open_database().close()
    code = ("import sys; from qjgb_desktop.services.safety.database import open_database; "
            "db = open_database(); db.close(); print(db.schema_action, 'alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["current", "False"]


@pytest.mark.sqlite_only  # the file's own settings / the window's sqlite3 first paint
def test_quick_read_gives_the_same_plan_as_the_session(db):
    from qjgb_desktop.services.plan.query import plan_as_dict, plan_tree, plan_tree_quick

    quick = plan_tree_quick(db.url)
    assert quick is not None
    with db.sessions() as s:
        assert plan_as_dict(quick) == plan_as_dict(plan_tree(s))
    assert quick.departments[:3] == ["区委教育工委", "区委组织部", "区委办公室"]


def test_quick_read_declines_what_needs_the_full_path(tmp_path, db):
    from qjgb_desktop.services.plan.query import plan_tree_quick

    assert plan_tree_quick(f"sqlite:///{tmp_path / 'missing.sqlite3'}") is None
    assert plan_tree_quick("postgresql://server/qjgb") is None
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    assert plan_tree_quick(db.url) is None


def test_window_start_keeps_heavy_libraries_off_the_start_up_path(data_dir):
    open_database().close()
    env = {**os.environ, "QJGB_STARTUP_PROBE": "1"}
    out = subprocess.run([sys.executable, "main.py", "--data-dir", str(data_dir)], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120, env=env)
    shown = next(line for line in out.stdout.splitlines() if line.startswith("shown "))
    assert len(shown.split()) == 2, f"loaded before the window was shown: {shown.split()[2:]}"


@pytest.mark.parametrize("old", REVISIONS[:-1])
def test_upgrading_from_each_earlier_revision_keeps_the_data_and_backs_up_first(data_dir, old, tmp_path):
    from alembic import command

    db_file = data_dir / "qjgb.sqlite3"
    engine = make_engine(f"sqlite:///{db_file}")
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, old)
    seed_plan(engine, tmp_path)  # the plan tables exist since the first revision
    engine.dispose()

    db = open_database()
    try:
        assert db.schema_action == f"migrated from {old}"
        assert not db.seeded
        assert counts(db)["YearlyTarget"] == 60
        backups = list(data_dir.glob(f"qjgb.before-{HEAD}-*.sqlite3"))
        assert len(backups) == 1
        old_engine = create_engine(f"sqlite:///{backups[0]}")
        assert current_revision(old_engine) == old
        old_engine.dispose()
    finally:
        db.close()


def test_a_data_folder_with_chinese_and_percent_in_its_path(tmp_path, monkeypatch):
    """C:\\Users\\张敏\\… is the usual case on a bureau PC; the URL carries it percent-encoded."""
    from qjgb_desktop import paths
    from qjgb_desktop.cli.entry import main

    folder = tmp_path / "张敏的文档 100%" / "强基固本数据"
    monkeypatch.setenv("QJGB_DATA_DIR", str(folder))
    paths.set_data_dir(None)
    assert main(["init"]) == 0
    assert main(["progress", "list"]) == 0
    assert (folder / "qjgb.sqlite3").is_file()


def test_migrations_produce_exactly_the_models_on_the_server(pg_cluster):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = pg_cluster.empty_database()
    engine = make_engine(url)
    assert ensure_schema(engine) == "created"
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    pg_cluster.drop(url)
    assert diff == []


@pytest.mark.parametrize("old", REVISIONS[:-1])
def test_upgrading_a_server_from_each_earlier_revision_keeps_the_data(pg_cluster, old, tmp_path):
    from alembic import command

    url = pg_cluster.empty_database()
    engine = make_engine(url)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, old)
    seed_plan(engine, tmp_path)
    engine.dispose()
    db = open_database(url)
    try:
        assert db.schema_action == f"migrated from {old}" and not db.seeded
        assert counts(db)["YearlyTarget"] == 60
        assert current_revision(db.engine) == HEAD
    finally:
        db.close()
        pg_cluster.drop(url)


def test_downgrade_and_upgrade_again_on_the_server(pg_cluster):
    url = pg_cluster.empty_database()
    downgrade_and_upgrade_again(url)
    pg_cluster.drop(url)


def test_the_database_file_keeps_a_windows_drive_and_chinese_folders():
    """A rendered URL percent-encodes C: and 张敏 (C%3A/Users/%E5…); the lock and the pre-upgrade backup must use
    the real file, or on Windows they land under whatever folder the program was started from."""
    from qjgb_desktop.store.engine import engine_file, engine_lock_file

    engine = create_engine("sqlite:///C:/Users/张敏/AppData/Local/qjgb-desktop/qjgb.sqlite3")  # (not connected)
    assert str(engine_file(engine)) == "C:/Users/张敏/AppData/Local/qjgb-desktop/qjgb.sqlite3"
    assert "%" not in str(engine_lock_file(engine)) and str(engine_lock_file(engine)).startswith("C:/Users/张敏/")
    assert engine_file(create_engine("sqlite://")) is None
    engine.dispose()


def test_a_second_server_writer_waits_its_turn_then_gives_up_with_a_message(server_url, monkeypatch):
    """Every write on a server takes one advisory lock, waiting at most SERVER_LOCK_WAIT for it: a writer kept waiting
    longer gets a clear message and has written nothing; once the first commits, the next write goes through."""
    from qjgb_desktop.store import engine as engine_module
    from qjgb_desktop.store.locks import LockError

    monkeypatch.setattr(engine_module, "SERVER_LOCK_WAIT", "300ms")
    first, second = open_database(server_url), open_database(server_url)
    try:
        with first.sessions.begin() as s:
            s.add(AuditEvent(at=datetime(2026, 1, 1), actor="甲", action="test", entity="x", reason=""))
            s.flush()
            with pytest.raises(LockError, match="另一项保存操作仍在进行"), second.sessions.begin() as s2:
                s2.add(AuditEvent(at=datetime(2026, 1, 1), actor="乙", action="test", entity="x", reason=""))
        with second.sessions.begin() as s2:
            s2.add(AuditEvent(at=datetime(2026, 1, 1), actor="乙", action="test", entity="x", reason=""))
        with first.sessions() as s:
            assert sorted(s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "test"))) == ["乙", "甲"]
            assert s.scalar(text("SELECT current_setting('lock_timeout')")) == "0"  # the limit was a write's only
    finally:
        first.close()
        second.close()

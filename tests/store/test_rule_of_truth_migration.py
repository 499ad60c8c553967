"""Migration 0009: every existing report and indicator value is kept; each value gets the department and the source
it came from (the report it was entered with, the return it was imported from, else its measure's lead), and the
downgrade gives the earlier schema back with every figure."""

from alembic import command
from schema_helpers import seed_plan
from sqlalchemy import text

from qjgb_desktop.store.engine import make_engine
from qjgb_desktop.store.schema import alembic_config

BEFORE = "0008_notice_numbers"


def migrate(engine, revision, down=False):
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def one(conn, sql, **params):
    return conn.execute(text(sql), params).scalar()


def test_values_get_their_department_and_source_and_the_downgrade_keeps_them(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    migrate(engine, BEFORE)
    seed_plan(engine, tmp_path)
    with engine.begin() as conn:
        dept = {name: i for i, name in conn.execute(text("SELECT id, name FROM department"))}
        target = one(conn, "SELECT t.id FROM yearly_target t JOIN measure m ON m.id = t.measure_id "
                           "WHERE m.no = 3 AND t.year = 2026")
        indicator = one(conn, "SELECT i.id FROM indicator i JOIN measure m ON m.id = i.measure_id WHERE m.no = 3 "
                              "ORDER BY i.position LIMIT 1")
        conn.execute(text(
            "INSERT INTO progress_report (id, series_id, revision, is_current, yearly_target_id, period, report_date, "
            "department_id, reporter, status, percent, done, problems, next_steps, created_at, created_by, deleted, "
            "deleted_by, delete_reason) VALUES (1, 1, 1, 1, :t, '2026Q3', '2026-09-01', :d, '张三', '正常推进', 50, "
            "'', '', '', '2026-09-01 09:00:00', 'clerk', 0, '', '')"), {"t": target, "d": dept["区体育局"]})
        conn.execute(text(
            "INSERT INTO import_batch (sha256, file_name, department, period, imported_at, imported_by, summary) "
            "VALUES (:sha, '区卫健委-回.xlsx', '区卫健委', '2026Q3', '2026-10-05 09:00:00', '督导', NULL)"),
            {"sha": "a" * 64})
        for value, report, note in ((11, 1, ""), (22, None, "导入：区卫健委-回.xlsx"), (33, None, "9月统计")):
            conn.execute(text(
                "INSERT INTO indicator_value (indicator_id, value, as_of, report_id, note, created_at, created_by, "
                "deleted, deleted_by, delete_reason) VALUES (:i, :v, '2026-09-30', :r, :n, '2026-10-05 09:00:00', "
                "'clerk', 0, '', '')"), {"i": indicator, "v": value, "r": report, "n": note})
    migrate(engine, "head")
    with engine.connect() as conn:
        rows = {v: (d, s) for v, d, s in conn.execute(text(
            "SELECT v.value, d.name, v.source FROM indicator_value v JOIN department d ON d.id = v.department_id"))}
        assert rows == {11: ("区体育局", "report"), 22: ("区卫健委", "return"), 33: ("区教委", "manual")}
        assert one(conn, "SELECT count(*) FROM progress_report") == 1
        assert one(conn, "SELECT aggregate FROM indicator WHERE id = :i", i=indicator) == "lead"
    migrate(engine, BEFORE, down=True)
    with engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(text("SELECT value FROM indicator_value"))) == [11, 22, 33]
        assert one(conn, "SELECT count(*) FROM progress_report") == 1
        columns = {r[1] for r in conn.execute(text("PRAGMA table_info(indicator_value)"))}
        assert "department_id" not in columns and "source" not in columns
    migrate(engine, "head")  # and up again
    engine.dispose()

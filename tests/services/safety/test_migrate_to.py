"""`qjgb migrate-to`, and backup / restore against a server, on a real PostgreSQL server.

A single PC's data folder with everything a bureau accumulates (reports with revisions and a deleted one, indicator
values, evidence files — one of them purged —, audit entries, settings, an import record, 督办 items with their
steps, a closed period) goes to an empty server database and must come out equal: every table row for row, every
evidence content byte for byte, and what the program shows (`status --json`, `progress list --history --json`).
A server that already holds data is refused with nothing written. A server's backups have the single PC's format
and restore into another server (or a single PC); a damaged backup is refused with the server unchanged."""

import json
import shutil
import sqlite3
from contextlib import closing
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, func, insert, inspect, null, select, text
from sqlalchemy.pool import NullPool

from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.evidence import records as ev
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.safety import migrate
from qjgb_desktop.services.safety.database import open_database
from qjgb_desktop.services.settings import record as settings
from qjgb_desktop.services.supervision import items as supervision
from qjgb_desktop.store.blobs import BlobStore
from qjgb_desktop.store.engine import make_engine
from qjgb_desktop.store.models import AuditEvent, ImportBatch, Indicator, ProgressReport, StoredBlob
from qjgb_desktop.store.server_blobs import DatabaseBlobStore

TODAY = date(2025, 10, 5)


@pytest.fixture
def run(data_dir, capsys):
    """The command line in this process: run(*args) → (code, out, err)."""
    from qjgb_desktop.cli.entry import main

    def run(*args):
        try:
            code = main(["--user", "王老师", *map(str, args)])
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


@pytest.fixture
def databases(pg_cluster):
    """new("empty"|"fresh") → the URL of a new server database; all dropped at the end."""
    made = []

    def new(kind="empty"):
        url = pg_cluster.empty_database() if kind == "empty" else pg_cluster.fresh_database()
        made.append(url)
        return url
    yield new
    for url in made:
        pg_cluster.drop(url)


def _report(lead, percent, status="正常推进", done="做了"):
    return ReportInput(period="2025Q3", report_date=date(2025, 9, 30), department=lead, reporter="张三",
                       status=status, percent=percent, done=done, problems="人手不足", next_steps="加派人员")


@pytest.fixture
def single_pc(data_dir, tmp_path):
    """A single PC's data folder after a quarter of work."""
    db = open_database()
    scans = tmp_path / "扫描件"
    scans.mkdir()
    for name, content in (("会议纪要.pdf", b"%PDF-1.4 minutes " * 90_000), ("现场照片.jpg", b"\xff\xd8photo" * 700),
                          ("传错的.png", b"\x89PNG wrong" * 50), ("整改说明.pdf", b"%PDF-1.4 answer" * 30)):
        (scans / name).write_bytes(content)
    notice = tmp_path / "督办通知单-区教委.docx"
    notice.write_bytes(b"notice")
    try:
        with db.sessions() as s:
            from qjgb_desktop.services.plan.query import plan_tree

            tree = plan_tree(s)
            t13, t12 = svc.target_id_for(s, 13, 2025), svc.target_id_for(s, 12, 2025)
            lead13, lead12 = tree.measure(13).lead, tree.measure(12).lead
            indicator = s.scalars(select(Indicator).order_by(Indicator.id)).first().id
        with db.sessions.begin() as s:
            first = svc.add_report(s, t13, _report(lead13, 30), "王老师", TODAY)
            second = svc.correct_report(s, first.id, _report(lead13, 40, done="补充了进展"), "王老师", TODAY)
            svc.correct_report(s, second.id, _report(lead13, 45, done="又补充了"), "李科长", TODAY)
            doomed = svc.add_report(s, t12, _report(lead12, 10, status="滞后"), "王老师", TODAY)
            svc.delete_report(s, doomed.id, "填错了措施", "王老师")
            svc.add_report(s, t12, _report(lead12, 20, status="滞后"), "王老师", TODAY)
            svc.set_indicator_value(s, indicator, 21.5, date(2025, 9, 30), "王老师", TODAY, note="9月统计")
            svc.set_indicator_value(s, indicator, 22, date(2025, 10, 1), "王老师", TODAY)
            settings.set_due_days(s, 15, "王老师")
            settings.add_admin(s, "科长", "王老师")
        with db.sessions.begin() as s:
            views = ev.attach(s, t13, [scans / "会议纪要.pdf", scans / "现场照片.jpg", scans / "传错的.png"], "王老师",
                              note="第三季度", report_id=svc.list_reports(s, target_id=t13)[0].id)
        with db.sessions.begin() as s:
            ev.remove(s, next(v.id for v in views if v.original_name == "传错的.png"), "传错了", "王老师")
            assert len(ev.purge(s, "科长")) == 1  # a purged content: recorded, no longer stored
        with db.sessions.begin() as s:
            item = supervision.open_item(s, "督导甲", date(2025, 10, 2), target_id=t12, reason="完成度偏低")
            supervision.assign(s, item.id, "督导甲", date(2025, 10, 3), "区教委 李科长", notice=notice)
            answer = ev.attach(s, t12, [scans / "整改说明.pdf"], "李科长")[0].id
            supervision.answer(s, item.id, "李科长", date(2025, 10, 4), "已整改", [answer])
            supervision.close(s, item.id, "督导甲", date(2025, 10, 5), "同意办结")
            supervision.open_item(s, "督导甲", date(2025, 10, 5), department=lead13, reason="材料不全")
            svc.close_period(s, "2025Q3", "王老师")
        with db.sessions.begin() as s:
            s.add(ImportBatch(sha256="ab" * 32, file_name="区教委-2025Q3.xlsx", department=lead13, period="2025Q3",
                              imported_at=datetime(2025, 10, 3, 9, 30, 15, 123456), imported_by="王老师",
                              summary={"added": 3, "unchanged": 57, "名单": ["甲", "乙"], "比例": 0.25}))
            # SQL NULL and JSON null are different values in a column; a copy keeps them apart
            s.execute(insert(AuditEvent).values(at=datetime(2025, 10, 5, 8), actor="system", action="test.null",
                                                entity="x", entity_id=None, before=null(), after=None, reason=""))
    finally:
        db.close()
    return data_dir


@pytest.fixture
def server_store():
    """server_store(url) → the DatabaseBlobStore of a server database; its engine is disposed at the end."""
    engines = []

    def store(url):
        engines.append(make_engine(url))
        return DatabaseBlobStore(engines[-1])
    yield store
    for engine in engines:
        engine.dispose()


def _snapshot_of(url):
    """Every table's rows and digest and the stored contents: to prove that nothing changed."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).get_table_names():
                return "no tables"
            checks = migrate.compare_databases(conn, conn).tables
            blobs = list(conn.execute(text("SELECT sha256, upload_id FROM stored_blob ORDER BY 1")))
            chunks = conn.execute(text("SELECT count(*), coalesce(sum(octet_length(data)), 0) FROM blob_chunk")).one()
        return [(t.name, t.source_rows, t.source_digest) for t in checks], blobs, tuple(chunks)
    finally:
        engine.dispose()


def _sqlite_url(data_dir):
    return "sqlite:///" + (data_dir / "qjgb.sqlite3").as_posix()


def _reader(url):
    """An engine that only reads (a SQLite file opened read-only: a backup is never touched by looking at it)."""
    if not url.startswith("sqlite"):
        return make_engine(url)
    uri = "file:" + url.split(":///", 1)[1] + "?mode=ro"
    return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool)


def _assert_equal(source_url, target_url, source_store, target_store):
    source, target = _reader(source_url), _reader(target_url)
    try:
        comparison = migrate.compare_databases(source, target, target_store)
        assert comparison.ok, comparison.differences()
        with source.connect() as conn:
            listed = migrate.listed_contents(conn)
        for sha in listed:
            with source_store.open(sha) as a, target_store.open(sha) as b:
                assert a.read() == b.read()
        return comparison
    finally:
        source.dispose()
        target.dispose()


def _views(run, monkeypatch, url=None):
    """What the program shows, on the single PC (url None) or on a server."""
    if url is None:
        monkeypatch.delenv("QJGB_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("QJGB_DATABASE_URL", url)
    shown = {}
    for args in (("status", "--json", "--today", "2025-10-05"), ("progress", "list", "--history", "--json"),
                 ("evidence", "list", "--removed", "--json"), ("supervise", "list", "--json"),
                 ("period", "list"), ("audit", "--json")):
        code, out, err = run(*args)
        assert code == 0, (args, err)
        shown[args[0]] = out
    return shown


def test_migrate_to_an_empty_server_and_everything_is_equal(single_pc, run, databases, monkeypatch):
    url = databases("empty")
    before = _views(run, monkeypatch)
    code, out, err = run("migrate-to", "--db", url)
    assert code == 0, err
    assert "已把本机数据迁移到服务器" in out and "progress_report" in out and "不一致" not in out
    assert "核对完成" in out and "config.toml" in out
    with closing(sqlite3.connect(single_pc / "qjgb.sqlite3")) as conn:
        n_reports = conn.execute("SELECT count(*) FROM progress_report").fetchone()[0]
    assert "progress_report" in out and str(n_reports) in out
    server = make_engine(url)
    try:
        comparison = _assert_equal(_sqlite_url(single_pc), url, BlobStore(single_pc / "evidence"),
                                   DatabaseBlobStore(server))
        assert comparison.contents_checked == 3  # the purged one is not there to copy, and not asked for
        rows = {t.name: t.source_rows for t in comparison.tables}
        assert rows["progress_report"] == 5 and rows["supervision_step"] == 5 and rows["closed_period"] == 1
        with server.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_event WHERE action = 'test.null' AND before IS NULL "
                                     "AND after IS NOT NULL")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM stored_blob")).scalar() == 3
    finally:
        server.dispose()
    assert _views(run, monkeypatch, url) == before  # the program shows exactly the same on the server

    # the server is ready for work: new rows get fresh ids after the copied ones
    with _opened(url) as db:
        with db.sessions.begin() as s:
            t13 = svc.target_id_for(s, 13, 2026)
            lead = s.get(ProgressReport, 1).department.name
            view = svc.add_report(s, t13, ReportInput(period="2026Q1", report_date=date(2026, 3, 31), department=lead,
                                                      reporter="张三", status="正常推进", percent=30),
                                  "王老师", date(2026, 4, 1))
        with db.sessions() as s:
            assert view.id == s.scalar(select(func.max(ProgressReport.id)))
            assert view.id > n_reports


class _opened:
    def __init__(self, url):
        self.url = url

    def __enter__(self):
        self.db = open_database(self.url)
        return self.db

    def __exit__(self, *exc):
        self.db.close()


def test_a_server_that_already_holds_data_is_refused_and_left_unchanged(single_pc, run, databases, monkeypatch):
    fresh = databases("fresh")  # as `qjgb init` leaves a server: the built-in plan
    before = _snapshot_of(fresh)
    code, out, err = run("migrate-to", "--db", fresh)
    assert code == 2 and "已有计划" in err and "未写入任何内容" in err and out == ""
    assert _snapshot_of(fresh) == before

    accounts_only = databases("empty")
    open_database(accounts_only, seed=False).close()
    engine = make_engine(accounts_only)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO user_account (name, password_hash, role, departments, disabled, created_at, "
                              "created_by) VALUES ('管理员甲', 'x', '管理员', '[]', false, now(), 'system')"))
    finally:
        engine.dispose()
    before = _snapshot_of(accounts_only)
    code, _, err = run("migrate-to", "--db", accounts_only)
    assert code == 2 and "user_account" in err and "不是空的" in err
    assert _snapshot_of(accounts_only) == before

    empty = databases("empty")
    code, _, err = run("migrate-to", "--db", "sqlite:///elsewhere.sqlite3")
    assert code == 2 and "PostgreSQL" in err
    monkeypatch.setenv("QJGB_DATABASE_URL", empty)
    code, _, err = run("migrate-to", "--db", empty)
    assert code == 2 and "已经是数据库服务器" in err
    assert _snapshot_of(empty) == "no tables"


def test_a_server_that_cannot_be_reached_is_a_clear_failure(single_pc, run):
    code, _, err = run("migrate-to", "--db", "postgresql+psycopg://qjgb:secret@127.0.0.1:1/qjgb")
    assert code == 1 and "无法连接" in err and "secret" not in err and "qjgb@127.0.0.1:1" in err


def test_evidence_already_lost_on_this_pc_is_reported_not_invented(single_pc, run, databases, monkeypatch):
    with closing(sqlite3.connect(single_pc / "qjgb.sqlite3")) as conn:
        lost = conn.execute("SELECT f.sha256 FROM evidence_file f JOIN evidence e ON e.file_id = f.id "
                            "WHERE e.original_name = '现场照片.jpg'").fetchone()[0]
    (single_pc / "evidence" / lost[:2] / lost).unlink()
    url = databases("empty")
    code, out, err = run("migrate-to", "--db", url)
    assert code == 0 and "1 个佐证文件在本机已缺失或损坏" in err and "全部一致" in out
    monkeypatch.setenv("QJGB_DATABASE_URL", url)
    code, out, _ = run("verify")
    assert code == 1 and "缺失 1 个：现场照片.jpg" in out  # on the server as it was here: never made up


def test_a_copy_that_does_not_compare_equal_is_rolled_back(single_pc, run, databases, monkeypatch):
    url = databases("empty")
    real = migrate.compare_databases

    def one_row_differs(*args, **kw):
        result = real(*args, **kw)
        result.tables[3].target_digest = "0" * 64
        result.tables[3].difference = "主键 id=1 的一行不同（列 title）"
        return result
    monkeypatch.setattr(migrate, "compare_databases", one_row_differs)
    code, out, err = run("migrate-to", "--db", url)
    assert code == 1 and "迁移已全部撤销" in err and "主键 id=1 的一行不同" in err and "不一致" in out
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM plan")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM stored_blob")).scalar() == 0  # the uploads went too
            assert conn.execute(text("SELECT count(*) FROM blob_chunk")).scalar() == 0
    finally:
        engine.dispose()
    monkeypatch.setattr(migrate, "compare_databases", real)
    code, _, err = run("migrate-to", "--db", url)  # the same empty server, once the fault is gone
    assert code == 0, err


def test_server_backups_restore_into_another_server_and_a_single_pc(single_pc, run, databases, monkeypatch,
                                                                    tmp_path, server_store):
    from qjgb_desktop import paths
    from qjgb_desktop.services.safety.checks import check_backup_file
    from qjgb_desktop.services.safety.folders import MANIFEST_NAME

    first = databases("empty")
    assert run("migrate-to", "--db", first)[0] == 0
    shown = _views(run, monkeypatch, first)
    monkeypatch.setenv("QJGB_DATABASE_URL", first)
    usb = tmp_path / "U盘" / "完整备份"
    code, out, err = run("backup", "--full", "--out", usb)
    assert code == 0 and "新复制佐证文件 3 个" in out, err
    assert sorted(p.name for p in usb.iterdir()) == sorted(["qjgb.sqlite3", "evidence", MANIFEST_NAME])
    assert len([p for p in (usb / "evidence").rglob("*") if p.is_file()]) == 3
    manifest = json.loads((usb / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["evidence"] == 3 and manifest["evidence_missing"] == []
    code, out, _ = run("backup", "--full", "--out", usb)  # again into the same folder: nothing new to copy
    assert code == 0 and "新复制佐证文件 0 个" in out
    single = tmp_path / "服务器备份.sqlite3"
    code, out, _ = run("backup", "--out", single)
    assert code == 0 and str(single) in out
    check_backup_file(single)  # a single PC's restore accepts it
    _assert_equal(first, _sqlite_url(usb), server_store(first), BlobStore(usb / "evidence"))

    second = databases("fresh")  # a server in use (the built-in plan, its own template key): replaced
    monkeypatch.setenv("QJGB_DATABASE_URL", second)
    code, out, err = run("restore", usb)
    assert code == 0, err
    assert "已恢复佐证文件 3 个" in out and "恢复前的数据已另存为" in out
    safety = next((paths.data_dir() / "backups").glob("qjgb-before-restore-*.sqlite3"))
    check_backup_file(safety)
    with closing(sqlite3.connect(safety)) as conn:  # what the server held before: the built-in plan, no reports
        assert conn.execute("SELECT count(*) FROM progress_report").fetchone()[0] == 0
    _assert_equal(first, second, server_store(first), server_store(second))
    assert _views(run, monkeypatch, second) == shown

    # the same USB stick restores onto a single PC as well
    monkeypatch.delenv("QJGB_DATABASE_URL")
    other_pc = tmp_path / "另一台电脑"
    paths.set_data_dir(other_pc)
    monkeypatch.setenv("QJGB_DATA_DIR", str(other_pc))
    assert run("init")[0] == 0
    code, out, err = run("restore", usb)
    assert code == 0, err
    _assert_equal(first, _sqlite_url(other_pc), server_store(first),
                  BlobStore(other_pc / "evidence"))


def test_a_damaged_backup_is_refused_and_the_server_is_unchanged(single_pc, run, databases, monkeypatch, tmp_path):
    server = databases("empty")
    assert run("migrate-to", "--db", server)[0] == 0
    monkeypatch.setenv("QJGB_DATABASE_URL", server)
    good = tmp_path / "完整备份"
    assert run("backup", "--full", "--out", good)[0] == 0
    with closing(sqlite3.connect(good / "qjgb.sqlite3")) as conn:  # other data, to restore over the server
        conn.execute("UPDATE progress_report SET done = '备份中的内容'")
        conn.commit()
    before = _snapshot_of(server)

    not_sqlite = tmp_path / "不是备份.sqlite3"
    not_sqlite.write_bytes(b"PK\x03\x04 a zip file, not a database" * 100)
    cut = tmp_path / "截断.sqlite3"
    cut.write_bytes((good / "qjgb.sqlite3").read_bytes()[:8192])
    tampered = tmp_path / "被改动的完整备份"
    shutil.copytree(good, tampered)
    victim = next(p for p in (tampered / "evidence").rglob("*") if p.is_file())
    victim.write_bytes(b"changed on the stick")
    missing_table = tmp_path / "缺表.sqlite3"
    shutil.copyfile(good / "qjgb.sqlite3", missing_table)
    with closing(sqlite3.connect(missing_table)) as conn:
        conn.execute("DROP TABLE supervision_step")
        conn.commit()
    for backup, words in ((not_sqlite, "不是本程序的备份文件"), (cut, "损坏"), (tampered, "内容与记录不符"),
                          (missing_table, "缺少数据表：supervision_step"), (tmp_path / "没有这个", "找不到备份")):
        code, out, err = run("restore", backup)
        assert code == 1 and words in err, (backup, err)
        assert "未作任何改动" in err or backup.name == "没有这个"
        assert "已从" not in out
        assert _snapshot_of(server) == before, backup

    # a failure in the middle of the replacement (here: the comparison) rolls everything back
    real = migrate.compare_databases

    def differs(*args, **kw):
        result = real(*args, **kw)
        result.tables[0].target_digest = "0" * 64
        return result
    monkeypatch.setattr(migrate, "compare_databases", differs)
    engine = make_engine(server)
    try:
        with engine.begin() as conn:  # a content the server lacks, so the restore has something to upload
            sha = conn.execute(text("DELETE FROM stored_blob WHERE sha256 = (SELECT min(sha256) FROM stored_blob) "
                                    "RETURNING sha256")).scalar()
        before = _snapshot_of(server)
        code, _, err = run("restore", good)
        assert code == 1 and "服务器上的数据未作改动" in err
        assert _snapshot_of(server) == before
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(StoredBlob).where(StoredBlob.sha256 == sha)
                                ).scalar() == 0
    finally:
        engine.dispose()
    monkeypatch.setattr(migrate, "compare_databases", real)
    code, out, err = run("restore", good)
    assert code == 0 and "已恢复佐证文件 1 个" in out, err
    engine = make_engine(server)
    try:
        with engine.connect() as conn:
            assert set(conn.scalars(text("SELECT DISTINCT done FROM progress_report"))) == {"备份中的内容"}
    finally:
        engine.dispose()


def test_two_pcs_migrating_into_one_empty_server_at_once_get_one_copy_and_one_clear_refusal(databases, tmp_path):
    """Two PCs, each with its own data folder, run migrate-to into the same empty database at the same moment: the
    schema is made once (under the server's advisory lock), one copy lands, and the other is refused with a message
    (exit 2), never a traceback; the server holds exactly one PC's data."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    target = databases("empty")

    def env(folder):
        base = {k: v for k, v in os.environ.items() if k not in ("QJGB_DATABASE_URL", "QJGB_PASSWORD")}
        return dict(base, QJGB_DATA_DIR=str(folder), PYTHONPATH=str(ROOT))
    folders = [tmp_path / "甲", tmp_path / "乙"]
    for folder in folders:
        made = subprocess.run([sys.executable, "-m", "qjgb_desktop", "--user", "王老师", "init"], env=env(folder),
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert made.returncode == 0, made.stderr
    procs = [subprocess.Popen([sys.executable, "-m", "qjgb_desktop", "--user", "王老师", "migrate-to", "--db", target],
                              env=env(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for folder in folders]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    assert sorted(code for code, _out, _err in results) == [0, 2], results
    refused = next(err for code, _out, err in results if code == 2)
    assert "Traceback" not in refused and ("不是空的" in refused or "已有计划" in refused), refused
    engine = make_engine(target)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM plan")) == 1
    engine.dispose()

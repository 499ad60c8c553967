"""Server mode: evidence contents in the database (stored_blob + blob_chunk), on a real PostgreSQL server.

Attach, list, open (copy), inspection pack, verify, remove and purge; a big file streamed both ways in little
memory; interrupted and killed uploads leave only pieces that the sweep removes, never a content without all its
pieces; damage to a piece is found by verify (services and `qjgb verify`)."""

import csv
import hashlib
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from qjgb_desktop.services.evidence import opening as ev_opening
from qjgb_desktop.services.evidence import pack as ev_pack
from qjgb_desktop.services.evidence import records as ev
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.settings.record import add_admin
from qjgb_desktop.store.blobs import BlobError, BlobStore
from qjgb_desktop.store.models import BlobChunk, StoredBlob
from qjgb_desktop.store.server_blobs import DB_CHUNK, DatabaseBlobStore

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def sdb(data_dir, server_url):
    from qjgb_desktop.services.safety.database import open_database

    database = open_database(server_url)
    yield database
    database.close()


@pytest.fixture
def store(sdb):
    return DatabaseBlobStore(sdb.engine)


@pytest.fixture
def target(sdb):
    with sdb.sessions() as s:
        return svc.target_id_for(s, 13, 2025)


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "扫描件"
    folder.mkdir()
    made = {}
    for name, content in (("会议纪要（2025年6月）.pdf", b"%PDF minutes " * 100_000),  # 1.3 MB: two pieces
                          ("现场照片.jpg", b"\xff\xd8photo" * 500), ("启动.exe", b"MZ\x90\x00program")):
        (folder / name).write_bytes(content)
        made[name] = folder / name
    return made


def attach(db, target, paths, **kw):
    with db.sessions.begin() as s:
        return ev.attach(s, target, list(paths), "clerk", **kw)


def count(db, model):
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def big_file(path: Path, mb: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        for i in range(mb):
            block = hashlib.sha256(str(i).encode()).digest() * (2**20 // 32)
            digest.update(block)
            fh.write(block)
    return digest.hexdigest()


def test_the_store_follows_the_database(sdb, data_dir, monkeypatch):
    with sdb.sessions() as s:
        assert isinstance(ev.blob_store(s), DatabaseBlobStore)
    assert isinstance(ev.blob_store(), DatabaseBlobStore)  # QJGB_DATABASE_URL names the server
    monkeypatch.delenv("QJGB_DATABASE_URL")
    assert isinstance(ev.blob_store(), BlobStore) and ev.blob_store().root == data_dir / "evidence"


def test_attach_list_open_export_remove_purge_on_the_server(sdb, data_dir, store, target, files, tmp_path):
    views = attach(sdb, target, files.values(), note="上半年")
    assert not (data_dir / "evidence").exists()  # nothing on this PC: the contents are on the server
    assert count(sdb, StoredBlob) == 3
    minutes = next(v for v in views if v.original_name.endswith(".pdf"))
    with sdb.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM blob_chunk c JOIN stored_blob b USING (upload_id) "
                                 "WHERE b.sha256 = :s"), {"s": minutes.sha256}).scalar() == 2
    # the same bytes again: one content, and the second upload's pieces are dropped
    again = tmp_path / "副本.pdf"
    again.write_bytes(files["会议纪要（2025年6月）.pdf"].read_bytes())
    attach(sdb, target, [again])
    assert count(sdb, StoredBlob) == 3 and store.leftovers() == []
    with sdb.sessions() as s:
        assert [v.original_name for v in ev.list_evidence(s, target_id=target)].count("会议纪要（2025年6月）.pdf") == 1
        assert len(ev.list_evidence(s, target_id=target)) == 4

    copy, policy = ev_opening.viewer_copy(minutes.sha256, minutes.original_name, tmp_path / "open")
    assert copy.read_bytes() == files["会议纪要（2025年6月）.pdf"].read_bytes() and policy == ev_opening.OPEN
    program = next(v for v in views if v.original_name == "启动.exe")
    copy, policy = ev_opening.viewer_copy(program.sha256, program.original_name, tmp_path / "open")
    assert policy == ev_opening.SHOW_ONLY and copy.name.endswith(ev_opening.BLOCKED_SUFFIX)

    out = tmp_path / "迎检.zip"
    with sdb.sessions() as s:
        assert ev_pack.export_pack(s, out, measure_no=13) == 4
    with zipfile.ZipFile(out) as z:
        manifest = list(csv.reader(io.StringIO(z.read("清单.csv").decode("utf-8-sig"))))
        pdf_path = next(n for n in z.namelist() if n.endswith("会议纪要（2025年6月）.pdf"))
        assert z.read(pdf_path) == files["会议纪要（2025年6月）.pdf"].read_bytes()
        assert z.testzip() is None
    assert {row[0]: row[1] for row in manifest[1:]}[pdf_path] == minutes.sha256
    folder = tmp_path / "迎检文件夹"
    with sdb.sessions() as s:
        assert ev_pack.export_pack(s, folder, measure_no=13) == 4
    assert sorted(p.read_bytes() for p in folder.rglob("*.jpg")) == [files["现场照片.jpg"].read_bytes()]

    with sdb.sessions() as s:
        assert ev.verify(s).ok
    photo = next(v for v in views if v.original_name == "现场照片.jpg")
    with sdb.sessions.begin() as s:
        ev.remove(s, photo.id, "传错了照片", "clerk")
        ev.remove(s, program.id, "不是佐证", "clerk")
    assert count(sdb, StoredBlob) == 3  # removing keeps the content until a purge
    with sdb.sessions.begin() as s:
        add_admin(s, "科长", "科长")
        gone = ev.purge(s, "科长")
    assert sorted(gone) == sorted([photo.sha256, program.sha256])
    assert list(store.stored()) == [minutes.sha256]
    assert count(sdb, BlobChunk) == 2  # the purged contents' pieces went with them
    with sdb.sessions() as s:
        report = ev.verify(s)
        assert report.ok and report.checked == 1 and report.unrecorded == []
        assert {v.original_name: v.purged for v in ev.list_evidence(s, include_deleted=True)}["现场照片.jpg"]


def test_a_failed_or_cancelled_attach_leaves_nothing_on_the_server(sdb, store, target, files, monkeypatch):
    from qjgb_desktop.store import blobs

    monkeypatch.setattr(blobs, "CHUNK", 1024)  # small pieces, so the failure comes in the middle of a content
    calls = {"n": 0}

    def disk_full_in_the_second_file(done, total, name):
        calls["n"] += 1
        if calls["n"] == 10:
            raise OSError(28, "No space left on device")
    with pytest.raises(ev.EvidenceError, match="复制“会议纪要（2025年6月）.pdf”失败"):
        with sdb.sessions.begin() as s:
            ev.attach(s, target, [files["现场照片.jpg"], files["会议纪要（2025年6月）.pdf"]], "clerk",
                      progress=disk_full_in_the_second_file)
    assert (count(sdb, StoredBlob), count(sdb, BlobChunk)) == (0, 0)  # nor the finished first content
    seen = []
    with pytest.raises(ev.Cancelled):
        with sdb.sessions.begin() as s:
            ev.attach(s, target, list(files.values()), "clerk", progress=lambda d, t, n: seen.append(n),
                      cancelled=lambda: len(seen) >= 3)
    assert (count(sdb, StoredBlob), count(sdb, BlobChunk)) == (0, 0)


def test_a_big_file_streams_both_ways_in_little_memory(store, tmp_path):
    source = tmp_path / "全年影像.mp4"
    sha = big_file(source, 30)
    tracemalloc.start()
    try:
        got, size, new = store.put(source)
        _, peak_in = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        out = tmp_path / "取回.mp4"
        with store.open(sha) as src, open(out, "wb") as dst:
            while chunk := src.read(4 * 2**20):
                dst.write(chunk)
        _, peak_out = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert store.hash_of(sha) == sha
        _, peak_hash = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (got, size, new) == (sha, 30 * 2**20, True)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == sha
    assert store.size_of(sha) == 30 * 2**20
    # a few pieces at a time, never the 30 MB content
    assert max(peak_in, peak_out, peak_hash) < 12 * 2**20, (peak_in, peak_out, peak_hash)
    with store.engine.connect() as conn:
        sizes = conn.execute(text("SELECT max(octet_length(data)), count(*) FROM blob_chunk")).one()
    assert sizes == (DB_CHUNK, 30)


def test_the_sweep_never_takes_a_running_upload_nor_a_young_leftover(store, tmp_path):
    source = tmp_path / "扫描.pdf"
    sha = big_file(source, 3)
    swept = []

    def sweep_in_the_middle(n):
        if not swept:
            swept.append(DatabaseBlobStore(store.engine).clean_leftovers(min_age_s=0))
            assert len(store.leftovers()) == 1  # its first piece is committed and visible
    assert store.put(source, sweep_in_the_middle)[0] == sha
    assert swept == [(0, 0)]
    assert store.hash_of(sha) == sha and store.leftovers() == []


def test_a_content_never_exists_without_all_its_pieces(store, tmp_path):
    source = tmp_path / "扫描.pdf"
    big_file(source, 3)
    pieces = []

    def lose_the_first_piece(n):  # as if something deleted it between the upload and its last statement
        pieces.append(n)
        if len(pieces) == 3:
            with store.engine.begin() as conn:
                conn.execute(text("DELETE FROM blob_chunk WHERE n = 0"))
    with pytest.raises(BlobError, match="不完整"):
        store.put(source, lose_the_first_piece)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stored_blob")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM blob_chunk")).scalar() == 0


KILLED_UPLOAD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from qjgb_desktop.store.server_blobs import DatabaseBlobStore
    from qjgb_desktop.store.engine import make_engine

    pieces = []
    def on_bytes(n):
        pieces.append(n)
        if len(pieces) == 3:
            print("3 pieces stored", flush=True)
            time.sleep(120)
    DatabaseBlobStore(make_engine(sys.argv[2])).put(Path(sys.argv[3]), on_bytes)
""")


def test_a_killed_upload_leaves_only_pieces_and_the_sweep_removes_them(store, server_url, tmp_path):
    source = tmp_path / "大文件.pdf"
    big_file(source, 8)
    child = subprocess.Popen([sys.executable, "-c", KILLED_UPLOAD, str(ROOT), server_url, str(source)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "3 pieces stored"
        assert store.clean_leftovers(min_age_s=0) == (0, 0)  # running: its lock says so
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
        child.stdout.close()
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stored_blob")).scalar() == 0  # never a partial content
        assert conn.execute(text("SELECT count(*) FROM blob_chunk")).scalar() == 3
    assert len(store.leftovers()) == 1
    assert store.clean_leftovers() == (0, 0)  # younger than 10 minutes: left for a later sweep
    deadline = time.monotonic() + 20
    while (cleaned := store.clean_leftovers(min_age_s=0)) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.2)  # until the server has noticed that the killed client's connection is gone
    assert cleaned == (1, 3 * DB_CHUNK)
    assert store.leftovers() == []
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM blob_chunk")).scalar() == 0


def test_an_old_leftover_is_swept_at_the_next_attach(sdb, store, target, files):
    with sdb.engine.begin() as conn:
        conn.execute(text("INSERT INTO blob_chunk (upload_id, n, data, created_at) "
                          "VALUES ('00000000000000000000000000000abc', 0, 'x', LOCALTIMESTAMP - interval '11 minutes')"))
    attach(sdb, target, [files["现场照片.jpg"]])
    assert store.leftovers() == []


def test_verify_finds_corrupt_missing_unrecorded_and_orphaned_contents(sdb, store, target, files, tmp_path):
    views = attach(sdb, target, files.values())
    with sdb.sessions() as s:
        assert ev.verify(s).ok
    minutes = next(v for v in views if v.original_name.endswith(".pdf"))
    photo = next(v for v in views if v.original_name.endswith(".jpg"))
    with sdb.engine.begin() as conn:
        conn.execute(text("UPDATE blob_chunk SET data = 'changed by someone' WHERE n = 1 AND upload_id = "
                          "(SELECT upload_id FROM stored_blob WHERE sha256 = :s)"), {"s": minutes.sha256})
    assert store.remove(photo.sha256)
    stray = tmp_path / "无记录.txt"
    stray.write_bytes(b"uploaded, never recorded")
    unrecorded = store.put(stray)[0]
    orphan = "0" * 64
    with sdb.engine.begin() as conn:
        conn.execute(text("INSERT INTO stored_blob VALUES (:s, 'ffffffffffffffffffffffffffffffff', 1, LOCALTIMESTAMP)"),
                     {"s": orphan})
        conn.execute(text("INSERT INTO blob_chunk VALUES ('ffffffffffffffffffffffffffffffff', 0, 'x', LOCALTIMESTAMP)"))
    with sdb.sessions() as s:
        report = ev.verify(s)
    assert not report.ok and report.checked == 3
    assert [m.split("（")[0] for m in report.corrupt] == ["会议纪要"]
    assert report.missing[0].startswith("现场照片.jpg")
    assert report.orphaned == [orphan] and report.unrecorded == [unrecorded]
    with pytest.raises(BlobError, match="不完整"), store.open(minutes.sha256) as fh:
        while fh.read(DB_CHUNK):
            pass
    with sdb.engine.begin() as conn:  # a piece lost altogether
        conn.execute(text("DELETE FROM blob_chunk WHERE n = 1"))
    assert store.hash_of(minutes.sha256) != minutes.sha256


def test_qjgb_verify_on_the_server(data_dir, server_url, tmp_path, capsys):
    from qjgb_desktop.cli.entry import main

    def run(*args):
        code = main(["--user", "王老师", *map(str, args)])
        out = capsys.readouterr()
        return code, out.out, out.err
    scan = tmp_path / "会议纪要.pdf"
    scan.write_bytes(b"%PDF-1.4 minutes" * 100)
    assert run("evidence", "add", "--measure", "13", "--year", "2025", scan)[0] == 0
    assert not (data_dir / "evidence").exists()
    code, out, _ = run("verify")
    assert code == 0 and "全部完好" in out
    code, out, _ = run("evidence", "export", "--measure", "13", "--out", tmp_path / "措施13")
    assert code == 0 and (tmp_path / "措施13" / "清单.csv").is_file()
    from qjgb_desktop.store.engine import make_engine

    engine = make_engine(server_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE blob_chunk SET data = 'tampered'"))
        code, out, _ = run("verify")
        assert code == 1 and "损坏" in out and "会议纪要.pdf" in out
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM blob_chunk"))
            conn.execute(text("DELETE FROM stored_blob"))
    finally:
        engine.dispose()
    code, out, _ = run("verify")
    assert code == 1 and "缺失" in out
    code, _, err = run("evidence", "export", "--measure", "13", "--out", tmp_path / "again")
    assert code == 2 and "缺失" in err

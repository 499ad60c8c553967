"""Evidence files: attach, dedupe, remove, purge, crash safety, verify, inspection packs."""

import csv
import hashlib
import io
import zipfile

import pytest
from sqlalchemy import func, select

from qjgb_desktop.services.evidence import pack as ev_pack
from qjgb_desktop.services.evidence import records as ev
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.settings.record import add_admin, set_max_evidence_mb
from qjgb_desktop.store.blobs import BlobStore
from qjgb_desktop.store.files import safe_file_name
from qjgb_desktop.store.models import Evidence, EvidenceFile


@pytest.fixture
def target(db):
    with db.sessions() as s:
        return svc.target_id_for(s, 13, 2025)


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "扫描件"
    folder.mkdir()
    made = {}
    for name, content in (("会议纪要（2025年6月）.pdf", b"%PDF minutes " * 1000), ("现场照片.jpg", b"\xff\xd8photo" * 500),
                          ("批复 扫描.tif", b"II*\x00scan" * 800)):
        (folder / name).write_bytes(content)
        made[name] = folder / name
    return made


def attach(db, target, paths, **kw):
    with db.sessions.begin() as s:
        return ev.attach(s, target, list(paths), "clerk", **kw)


def stored_files(data_dir):
    """Every content in the current store (files under data_dir/evidence, or chunks on the server), and every
    temporary leftover of a copy."""
    store = ev.blob_store()
    if isinstance(store, BlobStore):
        assert store.root == data_dir / "evidence"
    return sorted([*store.stored(), *(getattr(p, "name", p) for p in store.leftovers())])


def test_attach_many_files_with_chinese_names(db, data_dir, target, files):
    originals = {p: p.read_bytes() for p in files.values()}
    views = attach(db, target, files.values(), note="2025年上半年佐证")
    assert sorted(v.original_name for v in views) == sorted(files)
    for v in views:
        assert v.description == "2025年上半年佐证" and v.measure_no == 13 and v.year == 2025
        with ev.blob_store().open(v.sha256) as fh:
            stored = fh.read()
        assert stored == files[v.original_name].read_bytes()
        assert hashlib.sha256(stored).hexdigest() == v.sha256
    assert {p: p.read_bytes() for p in files.values()} == originals  # the user's files are untouched
    pdf = next(v for v in views if v.original_name.endswith(".pdf"))
    assert pdf.mime == "application/pdf" and pdf.size == len(b"%PDF minutes " * 1000)


def test_same_content_is_stored_once(db, data_dir, target, files, tmp_path):
    copy = tmp_path / "副本.pdf"
    copy.write_bytes(files["会议纪要（2025年6月）.pdf"].read_bytes())
    attach(db, target, [files["会议纪要（2025年6月）.pdf"]])
    attach(db, target, [copy])
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Evidence)) == 2
        assert s.scalar(select(func.count()).select_from(EvidenceFile)) == 1
    assert len(stored_files(data_dir)) == 1


@pytest.mark.parametrize("make,words", [
    (lambda d: d / "不存在.pdf", "不存在"),
    (lambda d: (d / "空.pdf").write_bytes(b"") or d / "空.pdf", "空文件"),
    (lambda d: d, "不是文件"),
])
def test_bad_files_are_refused_by_name_and_nothing_is_added(db, data_dir, target, files, tmp_path, make, words):
    bad = make(tmp_path)
    with pytest.raises(ev.EvidenceError, match=words):
        attach(db, target, [files["现场照片.jpg"], bad])
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Evidence)) == 0
    assert stored_files(data_dir) == []


def test_size_limit_is_a_setting(db, target, tmp_path):
    big = tmp_path / "大文件.bin"
    big.write_bytes(b"x" * (2 * 2**20))
    with db.sessions.begin() as s:
        set_max_evidence_mb(s, 1, "admin")
    with pytest.raises(ev.EvidenceError, match="大文件.bin.*超过上限 1 MB"):
        attach(db, target, [big])


def test_a_copy_that_fails_midway_leaves_no_record_and_no_visible_file(db, data_dir, target, files, monkeypatch):
    import qjgb_desktop.store.blobs as blobs

    monkeypatch.setattr(blobs, "CHUNK", 1024)  # the photo is 6 chunks, the minutes 13
    calls = {"n": 0}

    def disk_full_in_the_second_file(done, total, name):
        calls["n"] += 1
        if calls["n"] == 10:
            raise OSError(28, "No space left on device")
    with pytest.raises(ev.EvidenceError, match="复制“会议纪要（2025年6月）.pdf”失败：No space left on device"):
        with db.sessions.begin() as s:
            ev.attach(s, target, [files["现场照片.jpg"], files["会议纪要（2025年6月）.pdf"]], "clerk",
                      progress=disk_full_in_the_second_file)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Evidence)) == 0
        assert s.scalar(select(func.count()).select_from(EvidenceFile)) == 0
    assert stored_files(data_dir) == []  # neither the finished first file nor a temporary one


def test_cancel_leaves_nothing_half_attached(db, data_dir, target, files):
    seen = []
    with pytest.raises(ev.Cancelled):
        with db.sessions.begin() as s:
            ev.attach(s, target, list(files.values()), "clerk", progress=lambda d, t, n: seen.append(n),
                      cancelled=lambda: len(seen) >= 2)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Evidence)) == 0
    assert stored_files(data_dir) == []


def test_remove_is_soft_with_a_reason_and_purge_deletes_unused_content(db, data_dir, target, files):
    views = attach(db, target, [files["现场照片.jpg"], files["批复 扫描.tif"]])
    photo = next(v for v in views if v.original_name == "现场照片.jpg")
    with pytest.raises(ev.EvidenceError, match="原因"):
        with db.sessions.begin() as s:
            ev.remove(s, photo.id, " ", "clerk")
    with db.sessions.begin() as s:
        ev.remove(s, photo.id, "传错了照片", "clerk")
    with db.sessions() as s:
        assert [v.original_name for v in ev.list_evidence(s, target_id=target)] == ["批复 扫描.tif"]
        removed = [v for v in ev.list_evidence(s, target_id=target, include_deleted=True) if v.deleted]
    assert removed[0].delete_reason == "传错了照片"
    assert len(stored_files(data_dir)) == 2  # removing keeps the content until a purge
    with pytest.raises(ev.EvidenceError, match="管理员"):
        with db.sessions.begin() as s:
            ev.purge(s, "clerk")
    with db.sessions.begin() as s:
        add_admin(s, "科长", "科长")
        gone = ev.purge(s, "科长")
    assert gone == [photo.sha256]
    assert stored_files(data_dir) == [next(v.sha256 for v in views if v.original_name == "批复 扫描.tif")]
    with db.sessions() as s:
        assert ev.verify(s).ok


@pytest.mark.sqlite_only  # files in the data folder; the server's chunks: test_server_evidence.py
def test_verify_finds_corrupt_missing_and_orphaned_files(db, data_dir, target, files):
    views = attach(db, target, files.values())
    store = BlobStore(data_dir / "evidence")
    with db.sessions() as s:
        assert ev.verify(s).ok
    pdf = next(v for v in views if v.original_name.endswith(".pdf"))
    photo = next(v for v in views if v.original_name.endswith(".jpg"))
    store.path_for(pdf.sha256).write_bytes(b"changed by someone")
    store.path_for(photo.sha256).unlink()
    orphan = "0" * 64
    store.path_for(orphan).parent.mkdir(parents=True, exist_ok=True)
    store.path_for(orphan).write_bytes(b"x")
    with db.sessions() as s:
        report = ev.verify(s)
    assert not report.ok
    assert [m.split("（")[0] for m in report.corrupt] == ["会议纪要（2025年6月）.pdf".split("（")[0]]
    assert report.missing[0].startswith("现场照片.jpg")
    assert report.orphaned == [orphan]
    assert report.checked == 3


@pytest.mark.sqlite_only  # file names in the data folder (on a server contents are rows keyed by hash)
def test_stored_names_never_come_from_the_users_name(db, data_dir, target, tmp_path):
    crafted = tmp_path / "..%2F..%2Fetc"
    crafted.mkdir()
    bad = crafted / "passwd"
    bad.write_bytes(b"not really")
    views = attach(db, target, [bad])
    assert (data_dir / "evidence" / views[0].sha256[:2] / views[0].sha256).is_file()
    assert all(len(p.name) == 64 for p in (data_dir / "evidence").rglob("*") if p.is_file())
    with pytest.raises(OSError):
        BlobStore(data_dir / "evidence").path_for("../../etc/passwd")
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name('a<b>:"c|d?.pdf') == "a_b___c_d_.pdf"
    assert safe_file_name("CON.txt") == "_CON.txt"
    assert safe_file_name("..") == "文件"
    assert len(safe_file_name("长" * 300 + ".pdf").encode()) <= 200


def test_inspection_pack_as_zip_with_manifest(db, data_dir, target, files, tmp_path):
    attach(db, target, files.values(), note="上半年")
    with db.sessions() as s:
        other = svc.target_id_for(s, 12, 2026)
    attach(db, other, [files["现场照片.jpg"]])
    out = tmp_path / "迎检" / "措施13.zip"
    out.parent.mkdir()
    with db.sessions() as s:
        assert ev_pack.export_pack(s, out, measure_no=13) == 3
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        manifest = list(csv.reader(io.StringIO(z.read("清单.csv").decode("utf-8-sig"))))
        pdf_path = next(n for n in names if n.endswith(".pdf"))
        assert z.read(pdf_path) == files["会议纪要（2025年6月）.pdf"].read_bytes()
    assert pdf_path == "三、实施队伍建设铸魂强师行动/13.提升教师队伍育人水平/2025年/会议纪要（2025年6月）.pdf"
    assert manifest[0][:3] == ["路径", "SHA-256", "大小（字节）"]
    assert {row[0]: row[1] for row in manifest[1:]}[pdf_path] == \
        hashlib.sha256(files["会议纪要（2025年6月）.pdf"].read_bytes()).hexdigest()
    assert not any(n.startswith("12.") for n in names)


def test_inspection_pack_to_a_folder_for_a_department(db, target, files, tmp_path):
    attach(db, target, [files["批复 扫描.tif"]])
    out = tmp_path / "区人力社保局"
    with db.sessions() as s:
        assert ev_pack.export_pack(s, out, department="区人力社保局") == 1
        with pytest.raises(ev.EvidenceError, match="没有佐证材料"):
            ev_pack.export_pack(s, tmp_path / "x", department="区政府教育督导室")
    assert (out / "清单.csv").is_file()
    assert len(list(out.rglob("*.tif"))) == 1

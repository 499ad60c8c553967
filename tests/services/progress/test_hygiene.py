"""Input hygiene: control characters never reach the database (so exports keep working), CSV cells cannot be
formulas, leftovers of killed copies are swept without touching a copy that is running, and only safe evidence
types are opened by the system."""

import csv
import functools
import io
import json
import os
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from qjgb_desktop.domain.validation import ReportInput, clean_text
from qjgb_desktop.services.evidence import opening as ev_opening
from qjgb_desktop.services.evidence import pack as ev_pack
from qjgb_desktop.services.evidence import records as ev
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.settings.record import add_admin, load_settings
from qjgb_desktop.store import blobs
from qjgb_desktop.store.blobs import BlobStore, clean_evidence_leftovers
from qjgb_desktop.store.models import AuditEvent, IndicatorValue

# Everything the adversarial test typed, and the rest of what openpyxl, XML or SQLite choke on.
NASTY = "\x01\x08\x1f\x7f\x85\x0b\x0c\x00\x1b\x9f\ud800\udfff\ufffe\uffff\ufeff\u202e"
STRIPPED = set(NASTY) | {"\r", "\t"}


def is_clean(text: str) -> bool:
    return not (set(text) & STRIPPED)


# -- the one cleaning function --------------------------------------------------------------------------

@pytest.mark.parametrize("raw,multi,single", [
    ("a\x01b", "ab", "ab"),
    ("a\x08b\x1fc\x7fd\x9fe", "abcde", "abcde"),
    ("第一行\r\n第二行\r第三行", "第一行\n第二行\n第三行", "第一行 第二行 第三行"),
    ("软换行\x0b之后\x0c分页\x85下一行\u2028行\u2029段", "软换行\n之后\n分页\n下一行\n行\n段",
     "软换行 之后 分页 下一行 行 段"),
    ("制\t表", "制 表", "制 表"),
    ("孤\ud800立\udfff代理\ufffe非\uffff字符\ufeff", "孤立代理非字符", "孤立代理非字符"),
    ("报告\u202egpj.exe", "报告gpj.exe", "报告gpj.exe"),
    ("普通文字 (100%)，“引号”", "普通文字 (100%)，“引号”", "普通文字 (100%)，“引号”"),
    (None, "", ""),
])
def test_clean_text(raw, multi, single):
    assert clean_text(raw) == multi
    assert clean_text(raw, multiline=False) == single


def test_clean_text_leaves_what_openpyxl_and_sqlite_accept():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF or c in (0xD800, 0xDFFF))
    cleaned = clean_text(every)
    assert not ILLEGAL_CHARACTERS_RE.search(cleaned)
    cleaned.encode("utf-8")  # no lone surrogate left
    assert "\n" in cleaned and "\t" not in cleaned and "\r" not in cleaned


# -- through the command line into the database and out again -------------------------------------------

@pytest.fixture
def cli(cli):
    """The shared command line, by a user whose name carries a control character (it must be stripped)."""
    return functools.partial(cli, user="王\x01老师")


def test_control_characters_typed_into_a_report_are_stripped_and_exports_still_work(cli, data_dir, tmp_path):
    code, out, err = cli("progress", "add", "--measure", "13", "--year", "2026", "--status", "正常推进",
                         "--percent", "80", "--date", "2026-09-30", "--period", "2026Q3",
                         "--done", f"a{NASTY}b\r\n第二行", "--problems", "问\x01题", "--next", "下\x0b步",
                         "--reporter", "李\x1f主任")
    assert code == 0, err
    code, out, _ = cli("progress", "list", "--json")
    (item,) = json.loads(out)
    assert item["done"] == "a\n\n\nb\n第二行"  # the line-like separators became line breaks, the rest went
    assert (item["problems"], item["next_steps"], item["reporter"]) == ("问题", "下\n步", "李主任")
    assert item["created_by"] == "王老师"
    scan = tmp_path / "会议\x01纪要\x7f.pdf"
    scan.write_bytes(b"%PDF-1.4 minutes" * 50)
    code, _, err = cli("evidence", "add", "--measure", "13", "--year", "2026", str(scan),
                       "--note", f"说明{NASTY}完")
    assert code == 0, err
    code, out, _ = cli("evidence", "list", "--json")
    (e,) = json.loads(out)
    assert (e["original_name"], e["created_by"]) == ("会议纪要.pdf", "王老师")
    assert is_clean(e["description"]) and e["description"].startswith("说明") and e["description"].endswith("完")

    code, out, err = cli("export", "--out", str(tmp_path / "汇总.xlsx"), "--today", "2026-10-08")
    assert code == 0, err
    assert (tmp_path / "汇总.xlsx").stat().st_size > 0
    folder = tmp_path / "模板"
    code, out, err = cli("template", "--all", "--period", "2026Q3", "--out", str(folder))
    assert code == 0, err
    written = sorted(folder.glob("*.xlsx"))
    assert written and f"已生成 {len(written)} 个部门的模板" in out
    from openpyxl import load_workbook

    texts = [c.value for f in written for ws in load_workbook(f).worksheets for row in ws.iter_rows()
             for c in row if isinstance(c.value, str)]
    assert any("第二行" in t for t in texts) and all(is_clean(t) for t in texts)


def test_reasons_notes_and_names_are_cleaned(db, data_dir):
    with db.sessions.begin() as s:
        target = svc.target_id_for(s, 13, 2025)
        add_admin(s, "科\x01长\n", "科\x01长")
        assert load_settings(s).admins == ("科长",)
        report = svc.add_report(s, target, ReportInput("2025Q2", date(2025, 6, 30), "区教\x01委", "王\x08老师",
                                                       "正常推进", 50, done="x\x00y"), "王\x1b老师", date(2026, 1, 5))
        svc.close_period(s, "2025Q2", "科\x7f长")
        svc.reopen_period(s, "2025Q2", "补\x01报", "科\x01长")  # the admin, whatever was typed around the name
        svc.delete_report(s, report.id, "重\x0c复", "王\x1b老师")
        indicator = svc.find_indicator(s, 13, "本科及以上学历")
        svc.set_indicator_value(s, indicator.id, "96.6", date(2025, 6, 30), "王\x1b老师", date(2026, 1, 5),
                                note="核\x01对\r\n过")
    with db.sessions() as s:
        (view,) = svc.list_reports(s, include_deleted=True)
        assert (view.reporter, view.done, view.created_by, view.delete_reason) == ("王老师", "xy", "王老师", "重\n复")
        value = s.scalars(select(IndicatorValue)).one()
        assert (value.note, value.created_by) == ("核对\n过", "王老师")
        events = s.scalars(select(AuditEvent)).all()
        assert all(is_clean(e.actor) and is_clean(e.reason or "") for e in events)
        assert any(e.reason == "补报" for e in events)


# -- CSV in the inspection pack ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw,cell", [
    ('=HYPERLINK("http://evil","点")', '\'=HYPERLINK("http://evil","点")'),
    ("+1", "'+1"), ("-2", "'-2"), ("@SUM(1)", "'@SUM(1)"),
    ("\t=1+1", "' =1+1"), ("\r=1+1", "'\n=1+1"), ("  =1", "'  =1"), ("＝1+1", "'＝1+1"),
    ("普通说明", "普通说明"), ("说明=1", "说明=1"), ("a\x01b", "ab"), (12345, 12345),
])
def test_csv_cell(raw, cell):
    assert ev_pack.csv_cell(raw) == cell


def test_inspection_pack_manifest_neutralises_formulas(db, data_dir, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    names = ['=HYPERLINK("evil.example","点我").pdf', "+1.jpg", "-2.png", "@SUM(1).pdf"]
    notes = ["=1+1", "+cmd", "-2", "@SUM(A1)"]
    with db.sessions() as s:
        target = svc.target_id_for(s, 13, 2025)
    for i, (name, note) in enumerate(zip(names, notes)):
        path = folder / name
        path.write_bytes(b"content %d " % i * 100)
        with db.sessions.begin() as s:
            ev.attach(s, target, [path], "=cmd|' /C calc'!A0", note=note)
    out = tmp_path / "迎检.zip"
    with db.sessions() as s:
        assert ev_pack.export_pack(s, out, measure_no=13) == 4
    with zipfile.ZipFile(out) as z:
        rows = list(csv.reader(io.StringIO(z.read("清单.csv").decode("utf-8-sig"))))
    body = rows[1:]
    assert sorted(r[3] for r in body) == sorted("'" + n for n in names)
    assert sorted(r[4] for r in body) == sorted("'" + n for n in notes)
    assert all(r[6] == "'=cmd|' /C calc'!A0" for r in body)
    for row in body:
        for cell in row:
            assert cell[:1] not in "=+-@\t\r"


# -- leftovers of killed copies ---------------------------------------------------------------------------

def leftover(root: Path, size: int, age_s: float, name: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / (name or f"{blobs.TEMP_PREFIX}{os.urandom(16).hex()}")
    path.write_bytes(b"\0" * size)
    old = time.time() - age_s
    os.utime(path, (old, old))
    return path


def test_clean_evidence_leftovers_takes_only_old_unlocked_temporary_files(data_dir):
    root = data_dir / "evidence"
    stale = [leftover(root, 1000 * (i + 1), 3600) for i in range(3)]
    young = leftover(root, 10, 5)
    foreign = [leftover(root, 10, 3600, ".incoming-notours"), leftover(root, 10, 3600, "notes.txt"),
               leftover(root / "ab", 10, 3600, f".incoming-{'0' * 32}")]
    busy = leftover(root, 77, 3600)
    if blobs.fcntl is not None:  # another writer holds it (its lock, as BlobStore.put holds one)
        holder = open(busy, "rb")
        blobs.fcntl.flock(holder.fileno(), blobs.fcntl.LOCK_EX)
    try:
        assert clean_evidence_leftovers(data_dir) == ((3, 6000) if blobs.fcntl else (4, 6077))
    finally:
        if blobs.fcntl is not None:
            holder.close()
    assert not any(p.exists() for p in stale)
    assert young.exists() and all(p.exists() for p in foreign)
    assert clean_evidence_leftovers(data_dir) == (1, 77)  # the writer is gone now
    assert clean_evidence_leftovers(data_dir / "nowhere") == (0, 0)


def test_a_copy_in_progress_is_never_swept(db, data_dir, tmp_path, monkeypatch):
    """Even with the age rule switched off, the lock on the running copy's temporary file protects it."""
    if blobs.fcntl is None:
        pytest.skip("Windows refuses to delete an open file; no lock needed")
    monkeypatch.setattr(blobs, "CHUNK", 1024)
    source = tmp_path / "大文件.pdf"
    source.write_bytes(os.urandom(8 * 1024))
    swept = []

    def sweep_midway(done, total, name):
        if done == 4 * 1024:
            swept.append(BlobStore(data_dir / "evidence").clean_leftovers(min_age_s=0))
    with db.sessions() as s:
        target = svc.target_id_for(s, 13, 2025)
    with db.sessions.begin() as s:
        (view,) = ev.attach(s, target, [source], "clerk", progress=sweep_midway)
    assert swept == [(0, 0)]
    assert BlobStore(data_dir / "evidence").path_for(view.sha256).read_bytes() == source.read_bytes()
    assert BlobStore(data_dir / "evidence").leftovers() == []


def test_every_attach_sweeps_first(db, data_dir, tmp_path):
    stale = leftover(data_dir / "evidence", 500, 3600)
    scan = tmp_path / "a.pdf"
    scan.write_bytes(b"%PDF a")
    with db.sessions() as s:
        target = svc.target_id_for(s, 13, 2025)
    with db.sessions.begin() as s:
        ev.attach(s, target, [scan], "clerk")
    assert not stale.exists()


def test_verify_tells_leftovers_from_damage(cli, data_dir, tmp_path):
    scan = tmp_path / "纪要.pdf"
    scan.write_bytes(b"%PDF-1.4 minutes" * 100)
    assert cli("evidence", "add", "--measure", "13", "--year", "2025", str(scan))[0] == 0
    root = data_dir / "evidence"
    stale = [leftover(root, 2**20, 3600) for _ in range(14)]
    young = leftover(root, 10, 1)
    code, out, _ = cli("verify")
    assert code == 0, out
    # the 14 stale ones went at the command's start (every run sweeps them) or in verify's own sweep
    assert "临时文件（中断的复制留下）1 个暂未清理" in out and "全部完好" in out
    assert not any(p.exists() for p in stale) and young.exists()
    stored = next(p for p in root.rglob("*") if len(p.name) == 64)
    stored.write_bytes(b"changed")
    code, out, _ = cli("verify")
    assert code == 1 and "损坏" in out


# -- what the system may open ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["纪要.pdf", "照片.JPG", "扫描.tiff", "表格.xlsx", "报告.docx", "旧稿.doc",
                                  "汇报.pptx", "金山.wps", "公文.ofd", "说明.txt", "视频.mp4", "图.webp",
                                  "名字里有点.的.pdf", "尾点.pdf.", "尾空格.pdf "])
def test_safe_types_open(name):
    assert ev_opening.open_policy(name) == "open"
    assert ev_opening.viewer_copy_name(name).lower().endswith(ev_opening.file_extension(name))


@pytest.mark.parametrize("name", ["setup.exe", "run.BAT", "x.cmd", "x.com", "x.scr", "快捷方式.lnk", "a.js",
                                  "a.vbs", "a.ps1", "a.msi", "a.hta", "a.jar", "宏.docm", "宏.xlsm", "宏.pptm",
                                  "宏.xlsb", "page.html", "a.svg", "压缩包.zip", "a.rar", "a.csv", "a.rtf", "a.url",
                                  "无扩展名", ".pdf", "report.pdf.exe", "photo\u202egpj.exe", "a.pdf:evil.exe"])
def test_everything_else_is_shown_only(name):
    assert ev_opening.open_policy(name) == "show_only"
    assert ev_opening.viewer_copy_name(name).endswith(ev_opening.BLOCKED_SUFFIX)


def test_a_program_disguised_as_a_document_is_shown_only(db, data_dir, tmp_path):
    assert ev_opening.open_policy("发票.pdf", b"MZ\x90\x00") == "show_only"
    assert ev_opening.open_policy("照片.jpg", b"\x7fELF\x02") == "show_only"
    assert ev_opening.open_policy("照片.jpg", b"\xff\xd8\xff\xe0") == "open"
    fake = tmp_path / "发票.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\0" * 100)
    with db.sessions() as s:
        target = svc.target_id_for(s, 13, 2025)
    with db.sessions.begin() as s:
        (view,) = ev.attach(s, target, [fake], "clerk")
    copy, policy = ev_opening.viewer_copy(view.sha256, view.original_name, tmp_path / "open")
    assert policy == "show_only" and copy.name == "发票.pdf" + ev_opening.BLOCKED_SUFFIX
    assert copy.read_bytes() == fake.read_bytes()
    assert sorted(p.name for p in (tmp_path / "open").iterdir()) == [copy.name]  # no temporary left

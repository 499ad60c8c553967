"""督办通知单 (.docx): one per lead department, listing exactly its targets that need chasing."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from office import convert, pdf_text, squash

from qjgb_desktop import paths
from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.documents.notice import EXCERPT_CHARS, NoticeError, notice_path, write_notices
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.progress.status import compute_status, follow_ups
from qjgb_desktop.services.safety.database import open_database
from qjgb_desktop.services.settings.record import set_feedback_days

TODAY = date(2026, 7, 2)
LONG_DONE = "完成新教师招聘，组织学历提升培训。" * 20


def seed(db) -> None:
    """区科信局 leads only measure 16: its 2025 target is done and its 2026 target on time, so nothing to chase.
    区教委 has a lagging 2026 target (13) with a long 工作进展, besides its overdue 2025 targets."""
    with db.sessions.begin() as s:
        set_feedback_days(s, 5, "督导室")
        svc.add_report(s, svc.target_id_for(s, 16, 2025), ReportInput(
            "2025Q4", date(2025, 12, 20), "区科信局", "李四", "已完成", 100, done="平台上线"), "clerk", TODAY)
        svc.add_report(s, svc.target_id_for(s, 16, 2026), ReportInput(
            "2026Q3", date(2026, 7, 1), "区科信局", "李四", "正常推进", 55, done="推进智慧校园"), "clerk", TODAY)
        svc.add_report(s, svc.target_id_for(s, 13, 2026), ReportInput(
            "2026Q3", date(2026, 7, 1), "区教委", "王五", "滞后", 20, done=LONG_DONE, problems="编制不足",
            next_steps="协调增加编制"), "clerk", TODAY)


@pytest.fixture(scope="module")
def notices(tmp_path_factory):
    folder = tmp_path_factory.mktemp("word-notice")
    paths.set_data_dir(folder / "data")
    db = open_database()
    try:
        seed(db)
        with db.sessions() as s:
            written = write_notices(s, folder / "out", today=TODAY, issuer="区政府教育督导室")
            chase = follow_ups(compute_status(s, TODAY))
            nothing = write_notices(s, folder / "out2", department="区科信局", today=TODAY)
            one = write_notices(s, folder / "out3", department="区教委", today=TODAY)
            with pytest.raises(NoticeError, match="区外星局"):
                write_notices(s, folder / "out4", department="区外星局", today=TODAY)
    finally:
        db.close()
        paths.set_data_dir(None)
    pdf = convert(notice_path(folder / "out", "区教委", TODAY), "pdf:writer_pdf_Export", folder / "pdf")
    return {"folder": folder, "written": written, "chase": chase, "nothing": nothing, "one": one, "pdf": pdf}


def listed(doc):
    """(measure no, year, state) of the rows of the notice's table."""
    rows = doc.tables[0].rows
    assert [c.text for c in rows[0].cells] == ["序号", "改革措施", "年度", "状态", "最近一次报送", "距今天数"]
    return [(int(r.cells[1].text.split()[0].removeprefix("措施")), int(r.cells[2].text), r.cells[3].text)
            for r in rows[1:]]


def test_one_notice_per_lead_department_with_something_to_chase(notices):
    folder, chase = notices["folder"], notices["chase"]
    assert "区科信局" not in chase and set(chase) == {"区教委", "区委教育工委"}
    assert sorted(notices["written"]) == sorted(notice_path(folder / "out", d, TODAY) for d in chase)
    assert sorted(p.name for p in (folder / "out").iterdir()) == sorted(
        f"督办通知单-{d}-2026-07-02.docx" for d in chase)
    assert notices["nothing"] == [] and not (folder / "out2").exists()
    assert [p.name for p in notices["one"]] == ["督办通知单-区教委-2026-07-02.docx"]


def test_the_notice_lists_exactly_the_departments_follow_up_targets(notices):
    for dept, items in notices["chase"].items():
        doc = Document(notice_path(notices["folder"] / "out", dept, TODAY))
        assert listed(doc) == [(f.measure_no, f.year, f.state) for f in items]
        # a draft: the 文号 left blank above the title, for a number given by hand
        assert [p.text for p in doc.paragraphs[:5]] == ["督办〔2026〕\u3000\u3000号", "", "督办通知单", "", f"{dept}："]
        headings = [p.text for p in doc.paragraphs if p.style.name == "三级标题"]
        assert len(headings) == len(items)
    lagging = listed(Document(notices["one"][0]))
    assert (13, 2026, "滞后") in lagging and (16, 2026, "正常") not in lagging
    assert {year for _, year, state in lagging if state == "逾期"} == {2025}


def test_the_latest_report_and_the_feedback_deadline(notices):
    doc = Document(notice_path(notices["folder"] / "out", "区教委", TODAY))
    text = [p.text for p in doc.paragraphs]
    row = next(r for r in doc.tables[0].rows[1:] if r.cells[1].text.startswith("措施13 ") and r.cells[2].text == "2026")
    assert [c.text for c in row.cells][2:] == ["2026", "滞后", "2026-07-01 滞后 20%", "1"]
    at = next(i for i, t in enumerate(text) if "措施13 " in t and t.endswith("（2026年度，滞后）"))
    assert text[at + 1].startswith("年度目标：招聘非京生源数量逐年提高")
    assert text[at + 2] == "最近一次报送：2026年7月1日（2026年第三季度，区教委），填报状态“滞后”，完成度20%，距今1天。"
    done = text[at + 3].removeprefix("工作进展（摘要）：")
    assert done.endswith("…") and len(done) == EXCERPT_CHARS and LONG_DONE.startswith(done[:-1])
    assert any(t.startswith("最近一次报送：本年度目标尚无任何进展报送。") for t in text)  # the overdue 2025 ones
    deadline = TODAY + timedelta(days=5)  # the setting, not a constant
    assert any(f"请于{deadline.year}年{deadline.month}月{deadline.day}日前" in t for t in text)
    assert text[-2:] == ["区政府教育督导室", "2026年7月2日"]
    assert Document(notices["one"][0]).paragraphs[-1].text == "2026年7月2日"  # no issuer given: the date alone


def test_every_run_names_its_east_asian_font_and_the_page_is_official(notices):
    doc = Document(notices["one"][0])
    section = doc.sections[0]
    for part in (doc.element.body, section.footer._element, section.even_page_footer._element):
        for run in part.iter(qn("w:r")):
            fonts = run.find(qn("w:rPr") + "/" + qn("w:rFonts"))
            assert fonts is not None and fonts.get(qn("w:eastAsia")) and fonts.get(qn("w:hAnsi"))
    assert [round(v.mm) for v in (section.page_width, section.page_height, section.top_margin,
                                  section.bottom_margin, section.left_margin, section.right_margin)] == [
        210, 297, 37, 35, 28, 26]


def test_libreoffice_prints_the_notice(notices):
    text = squash(pdf_text(notices["pdf"]))
    assert squash("督办通知单") in text and squash("区教委：") in text
    for f in notices["chase"]["区教委"]:
        assert squash(f.measure_title) in text


def test_file_names_are_safe_on_windows():
    assert notice_path(Path("d"), '区"教"委/科:室?*', date(2026, 7, 2)).name == "督办通知单-区_教_委_科_室__-2026-07-02.docx"


def test_cli_notice(cli, tmp_path):
    out = tmp_path / "通知"
    code, stdout, err = cli("notice", "--all", "--out", out, "--today", "2026-07-02")
    assert (code, err) == (0, "")
    made = sorted(out.iterdir())
    assert len(made) == 3  # every lead department has overdue 2025 targets in an empty record
    assert stdout.splitlines() == [f"已生成：{p}" for p in sorted(made, key=lambda p: stdout.index(p.name))] + [
        f"共生成 3 份督办通知单到 {out}", "这些是文号空白的草稿；加 --register 生成时编号并登记发文和交办"]
    code, stdout, err = cli("notice", "--department", "区体育局", "--out", tmp_path / "体育", "--today", "2026-07-02")
    assert code == 0 and "区体育局" in stdout and "未生成通知单" in stdout and not (tmp_path / "体育").exists()
    code, stdout, err = cli("notice", "--department", "区外星局", "--out", tmp_path / "x")
    assert (code, stdout) == (2, "") and "区外星局" in err and err.startswith("错误：")
    (tmp_path / "file.txt").write_text("x")
    code, _, err = cli("notice", "--all", "--out", tmp_path / "file.txt")
    assert code == 2 and "文件夹" in err
    code, _, _ = cli("notice", "--all", "--department", "区教委", "--out", tmp_path / "x")
    assert code == 2 and not (tmp_path / "x").exists()

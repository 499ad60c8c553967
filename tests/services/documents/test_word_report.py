"""进展情况报告 (.docx): compiled from the record only, laid out as a GB/T 9704 draft, readable by LibreOffice."""

from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from office import convert_many, pdf_text, squash

from qjgb_desktop import paths
from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.documents.docx_official import title_lines
from qjgb_desktop.services.documents.report import ReportError, build_progress_report
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.progress.indicators import indicator_rows
from qjgb_desktop.services.safety.database import open_database
from qjgb_desktop.services.supervision import items as supervision

TODAY = date(2027, 1, 8)  # the fourth quarter's reports came in early January
PLAN_TITLE = "延庆区“强基固本”教育改革与发展三年行动计划（2025-2027年）"
Q4_TITLE = f"关于《{PLAN_TITLE}》2026年第四季度推进情况的报告"

LEAD_Q4 = "区教委第四季度：完成新教师招聘87人（更正稿）"
LEAD_DRAFT = "区教委第四季度：初稿"
COOP_Q4 = "区人力社保局第四季度：落实职称评审政策"
LEAD_Q3 = "区教委第三季度：学历提升计划启动"
LATER = "区教委2027年一季度：补报内容"
DELETED = "区教委第四季度：误报已删除"
SPORTS_Q4 = "区体育局第四季度：举办全区学生运动会"
LEAD3_Q3 = "区教委第三季度：完成体质健康测试"


def report(period, day, dept, status, percent, done, problems="进度偏慢", next_steps="加快推进"):
    # a report behind the calendar must say why and what next (validation): every seeded one does
    return ReportInput(period, day, dept, "张三", status, percent, done=done, problems=problems,
                       next_steps=next_steps)


def seed(db) -> None:
    """Measure 13 (lead 区教委, cooperating 区人力社保局 …) and measure 3 (lead 区教委, cooperating 区体育局 …) have
    reports; every other measure has none. The cooperating department's report is entered first, so the order
    in the document comes from the roles, not from the entry."""
    with db.sessions.begin() as s:
        t13, t3 = svc.target_id_for(s, 13, 2026), svc.target_id_for(s, 3, 2026)
        svc.add_report(s, t13, report("2026Q3", date(2026, 8, 1), "区教委", "正常推进", 40, LEAD_Q3), "clerk", TODAY)
        svc.add_report(s, t13, report("2026Q4", date(2026, 12, 1), "区人力社保局", "正常推进", 70, COOP_Q4,
                                      problems="评审名额有限", next_steps="争取增加名额"), "clerk", TODAY)
        draft = svc.add_report(s, t13, report("2026Q4", date(2027, 1, 5), "区教委", "滞后", 60, LEAD_DRAFT),
                               "clerk", TODAY)
        svc.correct_report(s, draft.id, report("2026Q4", date(2027, 1, 5), "区教委", "滞后", 60, LEAD_Q4,
                                               problems="编制不足", next_steps="协调增加编制"), "clerk", TODAY)
        gone = svc.add_report(s, t13, report("2026Q4", date(2026, 12, 2), "区委编办", "正常推进", 50, DELETED),
                              "clerk", TODAY)
        svc.delete_report(s, gone.id, "误报", "clerk")
        svc.add_report(s, t13, report("2027Q1", date(2027, 1, 6), "区教委", "正常推进", 90, LATER), "clerk", TODAY)
        svc.add_report(s, t3, report("2026Q3", date(2026, 9, 1), "区教委", "正常推进", 50, LEAD3_Q3), "clerk", TODAY)
        svc.add_report(s, t3, report("2026Q4", date(2026, 11, 2), "区体育局", "正常推进", 85, SPORTS_Q4), "clerk", TODAY)
        degree = svc.find_indicator(s, 13, "本科")
        svc.set_indicator_value(s, degree.id, 96.8, date(2026, 10, 1), "clerk", TODAY)
        item = supervision.open_item(s, "督导室", date(2026, 11, 5), target_id=t13, origin="target",
                                     reason="滞后（完成度 60%）")
        supervision.assign(s, item.id, "督导室", date(2026, 11, 6), "区教委")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One record; the 2026Q4 and the 2026 reports from it, and both converted to PDF in one LibreOffice start."""
    folder = tmp_path_factory.mktemp("word-report")
    paths.set_data_dir(folder / "data")
    db = open_database()
    try:
        seed(db)
        out = folder / "out"
        with db.sessions() as s:
            q4 = build_progress_report(s, out / "季度.docx", period="2026Q4", today=TODAY, issuer="区政府教育督导室")
            year = build_progress_report(s, out / "年度.docx", year=2026, today=TODAY)
            tree = plan_tree(s)
            indicators = indicator_rows(s, tree=tree)
            from qjgb_desktop.services.supervision.assessment import assess

            scores = assess(s, 2026, TODAY)
    finally:
        db.close()
        paths.set_data_dir(None)
    files = sorted(p.name for p in out.iterdir())
    try:
        pdfs = convert_many([out / "季度.docx", out / "年度.docx"], "pdf:writer_pdf_Export", folder / "pdf")
    except RuntimeError as exc:  # most likely Calc without Writer: say what to install
        raise RuntimeError(f"LibreOffice Writer is needed to open .docx (apt-get install libreoffice-writer-nogui)"
                           f"\n{exc}") from exc
    return {"q4": (q4, Document(out / "季度.docx"), pdfs[0]), "year": (year, Document(out / "年度.docx"), pdfs[1]),
            "tree": tree, "indicators": indicators, "scores": scores, "files": files}


def paras(doc, style=None):
    return [p for p in doc.paragraphs if style is None or p.style.name == style]


def section_of(doc, measure_title):
    """The paragraphs under a measure's heading, up to the next heading."""
    out, inside = [], False
    for p in doc.paragraphs:
        if p.style.name in ("一级标题", "二级标题"):
            if inside:
                break
            inside = measure_title in p.text
        elif inside:
            out.append(p.text)
    return out


def reporters(section):
    """The departments quoted in a measure's section (its 1. 2. … headings)."""
    return [t for t in section if t[:1].isdigit() and "." in t[:3]]


def test_summary_and_no_files_left_behind(built):
    q4, year = built["q4"][0], built["year"][0]
    assert (q4.title, q4.scope, q4.as_of, q4.measures) == (Q4_TITLE, "2026年第四季度", date(2026, 12, 31), 20)
    assert (q4.reports, q4.silent, q4.supervision, q4.assessed) == (3, 18, 1, 0)
    assert q4.pictures >= 1 and q4.indicators == len(built["indicators"])
    assert (year.scope, year.reports, year.assessed) == ("2026年度", 4, len(built["scores"]))
    assert built["files"] == ["季度.docx", "年度.docx"]  # charts went into the document, not into files


def test_title_and_headings_follow_the_plan(built):
    doc, tree = built["q4"][1], built["tree"]
    title = paras(doc, "公文标题")[0]
    assert title.text.replace("\n", "") == Q4_TITLE
    assert title.text.split("\n") == title_lines(Q4_TITLE) and len(title.text.split("\n")) > 1
    h1 = [p.text for p in paras(doc, "一级标题")]
    assert h1[:5] == [f"{n}、{a.title}" for n, a in zip("一二三四五", tree.actions)]
    assert h1[5:] == ["六、各部门报送情况", "七、量化指标完成情况"]  # no 考核 in a quarter's report
    measures = [m for a in tree.actions for m in a.measures]
    h2 = [p.text for p in paras(doc, "二级标题")]
    assert len(h2) == 20
    assert [h.split("）", 1)[1] for h in h2] == [f"{m.title}（措施{m.no}）" for m in measures]
    firsts = [h for h in h2 if h.startswith("（一）")]  # numbering restarts under each task
    assert firsts == [f"（一）{a.measures[0].title}（措施{a.measures[0].no}）" for a in tree.actions]


def test_each_department_that_reported_is_quoted_lead_first(built):
    doc, tree = built["q4"][1], built["tree"]
    m13 = section_of(doc, tree.measure(13).title)
    text = "\n".join(m13)
    assert reporters(m13) == ["1.区教委（牵头）", "2.区人力社保局（配合）"]  # not the deleted report's 区委编办
    assert text.index(LEAD_Q4) < text.index(COOP_Q4)
    assert "存在问题：编制不足" in text and "下步计划：争取增加名额" in text
    assert "2027年1月5日报送（2026年第四季度" in text  # entered in January, for the fourth quarter
    for absent in (LEAD_DRAFT, DELETED, LATER, LEAD_Q3):  # old revision, deleted, a later period, an earlier one
        assert absent not in "\n".join(p.text for p in doc.paragraphs)
    m3 = section_of(doc, tree.measure(3).title)
    assert reporters(m3) == ["1.区体育局（配合）"] and SPORTS_Q4 in "\n".join(m3)
    assert any(t.startswith("本期未报送进展的责任部门：区教委、") for t in m3)


def test_the_year_report_quotes_each_departments_latest_report_of_the_year(built):
    doc, tree = built["year"][1], built["tree"]
    m3 = "\n".join(section_of(doc, tree.measure(3).title))
    assert m3.index(LEAD3_Q3) < m3.index(SPORTS_Q4)  # the lead's latest of the year is from the third quarter
    m13 = "\n".join(section_of(doc, tree.measure(13).title))
    assert LEAD_Q4 in m13 and LEAD_Q3 not in m13 and LATER not in m13
    assert [p.text for p in paras(doc, "一级标题")][5:] == ["六、各部门报送情况", "七、量化指标完成情况", "八、年度考核情况"]


def test_a_measure_nobody_reported_on_says_so(built):
    tree = built["tree"]
    assert "本期无部门报送进展。" in section_of(built["q4"][1], tree.measure(1).title)
    assert "本年度无部门报送进展。" in section_of(built["year"][1], tree.measure(20).title)
    assert "本期无部门报送进展。" not in section_of(built["q4"][1], tree.measure(13).title)


def test_the_overview_counts_the_lights_of_the_record(built):
    doc = built["q4"][1]
    lights = next(p.text for p in doc.paragraphs if p.text.startswith("预警情况。"))
    # 13: its lead's 60 % and 滞后 at the year's end → 滞后; 3: only the cooperating 区体育局 reported this quarter
    # (85 %), and a cooperating report never stands for the lead's → 未填报, like the 18 with no report at all.
    for part in ("已完成0项", "正常（绿灯）0项", "关注（黄灯）0项", "滞后（红灯）1项", "未填报19项"):
        assert part in lights
    assert "统计截至2026年12月31日" in "\n".join(p.text for p in doc.paragraphs)


def table_with(doc, header):
    return next(t for t in doc.tables if header in [c.text for c in t.rows[0].cells])


def test_the_indicator_table(built):
    table = table_with(built["q4"][1], "2026年目标")
    assert [c.text for c in table.rows[0].cells] == ["措施", "指标", "单位", "2026年目标", "最新实际值（截至日期）",
                                                     "是否达标"]
    assert len(table.rows) == 1 + len(built["indicators"])
    row = next(r for r in table.rows[1:] if "本科" in r.cells[1].text and r.cells[0].text == "13")
    assert [c.text for c in row.cells][3:] == ["≥96.7", "96.8（2026-10-01）", "达标"]


def test_submissions_assessment_and_supervision_tables(built):
    doc = built["q4"][1]
    owed = sum(m.lead == "区教委" for m in built["tree"].measures())  # one target a measure in 2026
    subs = table_with(doc, "按时报送")
    row = next(r for r in subs.rows if r.cells[0].text == "区教委")
    expected, on_time, late, missing = (int(c.text) for c in row.cells[1:5])
    assert (expected, on_time + late, missing) == (owed, 1, owed - 1)  # its one report for the quarter (measure 13)
    # a department that only cooperates owes no report of its own (the lead's stands for the target)
    assert not any(r.cells[0].text == "区人力社保局" for r in subs.rows)
    annex = table_with(doc, "督办事由")
    assert [c.text for c in annex.rows[1].cells][:4] == ["1", "措施13\n2026年", "区教委", "滞后（完成度 60%）"]
    year = built["year"][1]
    scores = table_with(year, "总分")
    assert len(scores.rows) == 1 + len(built["scores"])
    assert scores.rows[1].cells[1].text == built["scores"][0].department
    assert any(p.text.startswith("考核规则：") for p in year.paragraphs)


def test_charts_are_pictures_across_the_text_width_at_300_dpi(built):
    import io

    from PIL import Image

    doc = built["q4"][1]
    shapes = doc.inline_shapes
    assert len(shapes) >= 1
    for shape in shapes:
        assert abs(shape.width.mm - 156) < 0.5
    blob = doc.part.related_parts[shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
    assert round(Image.open(io.BytesIO(blob)).info["dpi"][0]) == 300


def runs_without_east_asian_font(root):
    missing = []
    for run in root.iter(qn("w:r")):
        fonts = run.find(qn("w:rPr") + "/" + qn("w:rFonts"))
        if fonts is None or not fonts.get(qn("w:eastAsia")) or not fonts.get(qn("w:ascii")):
            missing.append("".join(t.text or "" for t in run.iter(qn("w:t"))))
    return missing


@pytest.mark.parametrize("which", ["q4", "year"])
def test_every_run_and_style_names_its_east_asian_font(built, which):
    doc = built[which][1]
    section = doc.sections[0]
    parts = [doc.element.body, section.footer._element, section.even_page_footer._element,
             section.header._element]
    assert sum(1 for part in parts for _ in part.iter(qn("w:r"))) > 500
    for part in parts:
        assert runs_without_east_asian_font(part) == []
    for name in ("Normal", "Table Grid", "公文标题", "一级标题", "二级标题", "三级标题"):
        fonts = doc.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")), name
    assert paras(doc, "公文标题")[0].runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert paras(doc, "一级标题")[0].runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"


def test_page_size_and_margins(built):
    for doc in (built["q4"][1], built["year"][1]):
        for s in doc.sections:
            for measured, mm in ((s.page_width, 210), (s.page_height, 297), (s.top_margin, 37),
                                 (s.bottom_margin, 35), (s.left_margin, 28), (s.right_margin, 26)):
                assert abs(measured.mm - mm) <= 0.5


def test_page_numbers_are_a_page_field_in_the_footer(built):
    section = built["q4"][1].sections[0]
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element
        kinds = [f.get(qn("w:fldCharType")) for f in xml.iter(qn("w:fldChar"))]
        assert kinds == ["begin", "separate", "end"]
        assert [i.text.strip() for i in xml.iter(qn("w:instrText"))] == ["PAGE"]
        assert footer.paragraphs[0].text.startswith("— ") and footer.paragraphs[0].text.endswith(" —")
    assert built["q4"][1].settings.odd_and_even_pages_header_footer


def test_libreoffice_prints_the_title_and_every_measure(built):
    tree = built["tree"]
    for key, scope in (("q4", "2026年第四季度"), ("year", "2026年度")):
        text = squash(pdf_text(built[key][2]))
        assert squash(f"关于《{PLAN_TITLE}》{scope}推进情况的报告") in text
        positions = [text.find(squash(m.title)) for m in tree.measures()]
        assert -1 not in positions, [m.title for m, p in zip(tree.measures(), positions) if p == -1]
        assert positions == sorted(positions)
        assert squash(LEAD_Q4) in text and squash("督办事项清单") in text


def test_refused_scopes_name_the_value(db):
    with db.sessions() as s:
        for kwargs, words in (({"period": "2026Q9"}, "2026Q9"), ({"year": 2030}, "2030"),
                              ({"period": "2027Q2"}, "尚未开始"), ({}, "其中之一"),
                              ({"period": "2026Q4", "year": 2026}, "其中之一")):
            with pytest.raises(ReportError, match=words):
                build_progress_report(s, Path("unused.docx"), today=date(2026, 12, 20), **kwargs)
    assert not Path("unused.docx").exists()


def test_cli_report(cli, tmp_path):
    out = tmp_path / "报告.docx"
    code, stdout, err = cli("report", "--period", "2026Q4", "--out", out, "--today", "2026-12-20")
    assert (code, err) == (0, "")
    assert stdout.startswith(f"已生成：{out}（2026年第四季度，统计截至 2026-12-20；20 项措施，引用部门报送 0 份，20 项措施无报送")
    assert out.is_file() and sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["报告.docx"]  # no stray temp file
    code, stdout, _ = cli("report", "--year", "2026", "--out", tmp_path / "年度.docx", "--today", "2026-12-20")
    assert code == 0 and "2026年度" in stdout and "考核" in stdout
    for args, message in ((["--period", "2026Q9"], "2026Q9"), (["--year", "2030"], "2030"),
                          (["--period", "2027Q1"], "尚未开始")):
        code, stdout, err = cli("report", *args, "--out", tmp_path / "x.docx", "--today", "2026-12-20")
        assert (code, stdout) == (2, "") and message in err and err.startswith("错误：")
    code, _, err = cli("report", "--period", "2026Q4", "--out", tmp_path / "x.doc")
    assert code == 2 and "--out 应以 .docx 结尾" in err
    code, _, err = cli("report", "--out", tmp_path / "x.docx")
    assert code == 2
    assert not (tmp_path / "x.docx").exists() and not (tmp_path / "x.doc").exists()

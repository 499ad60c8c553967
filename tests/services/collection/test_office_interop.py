"""Our workbooks in the real office programs (tests/office.py): templates re-saved by LibreOffice and Gnumeric come
back as exactly what the department changed; .ods and .xls are refused; the leaders' workbook and the templates
print every text, with every row at least as tall as LibreOffice itself finds the row needs."""

import re
import warnings
from datetime import date

import pytest
from excel_helpers import counts, row_of
from office import convert, convert_many, measure_heights, pdf_pages, pdf_text, squash, ssconvert
from openpyxl import load_workbook

from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.collection.commit import commit
from qjgb_desktop.services.collection.export import export_workbook
from qjgb_desktop.services.collection.returns import CHANGED, EMPTY, ERROR, NEW, UNCHANGED, read_return
from qjgb_desktop.services.collection.templates import write_template
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.progress.reports import ProgressError

TODAY = date(2026, 11, 20)  # inside 2026Q4
DEPT = "区教委"  # leads measures 3, 13 and 20, cooperates on others: 19 rows in 2026
# 600 characters, every sentence numbered, so a missing or repeated line would show
SENTENCE = "第{}项：推进集团化办学和学区制管理改革，完成教师招聘、培训与交流轮岗，课后服务覆盖全部中小学校。"
LONG = "".join(SENTENCE.format(i) for i in range(1, 15))[:600]
SLACK_PT = 1.0  # LibreOffice rounds heights to 1/100 mm


def add(db, measure_no, department, period, percent, done, reporter="甲"):
    with db.sessions.begin() as s:
        day = {"Q3": date(2026, 9, 1), "Q4": date(2026, 11, 1)}[period[-2:]]
        return svc.add_report(s, svc.target_id_for(s, measure_no, 2026), ReportInput(
            period=period, report_date=day, department=department, reporter=reporter, status="正常推进",
            percent=percent, done=done), "录入员", TODAY).id


@pytest.fixture
def reported(db):
    """Reports from an earlier period by a lead and by a cooperating department, one of this period, and a long one."""
    with db.sessions() as s:
        m13 = next(m for m in plan_tree(s).measures() if m.no == 13)
    assert m13.lead == DEPT
    add(db, 13, DEPT, "2026Q3", 65, "招聘完成一半")
    add(db, 13, m13.cooperating[0], "2026Q3", 60, "配合部门的进展", reporter="乙")
    add(db, 3, DEPT, "2026Q4", 80, "体测完成", reporter="丙")
    add(db, 20, DEPT, "2026Q3", 70, LONG, reporter="丁")
    return m13


def template(db, tmp_path, department=DEPT):
    path = tmp_path / "templates" / f"{department}.xlsx"
    path.parent.mkdir(exist_ok=True)
    with db.sessions() as s:
        write_template(s, department, "2026Q4", path)
    return path


def previews(db, *paths):
    with db.sessions() as s:
        return [read_return(s, p, TODAY) for p in paths]


def template_rows(path) -> int:
    """The rows of a template a department fills (those with a 行号 in column A, from row 4 of 填报 and 指标)."""
    from openpyxl import load_workbook

    with warnings.catch_warnings():  # Gnumeric's files have no default style: openpyxl says so
        warnings.simplefilter("ignore")
        wb = load_workbook(path, read_only=True)
    try:
        return sum(1 for name in ("填报", "指标") for row in wb[name].iter_rows(min_row=4, max_col=1, values_only=True)
                   if row[0] not in (None, ""))
    finally:
        wb.close()


def assert_imports_as_nothing(db, files, unchanged):
    """Every row 未填 or 无变化 (`unchanged` of them, per file), nothing new, changed or wrong; commit writes nothing."""
    before = counts(db)
    result = previews(db, *files)
    for p, expected in zip(result, unchanged):
        assert p.ok, p.errors + [r.reason for r in p.rows if r.kind == ERROR]
        kinds = [r.kind for r in p.rows]
        assert set(kinds) <= {EMPTY, UNCHANGED}, [(r.row, r.kind, r.changes) for r in p.rows]
        assert kinds.count(UNCHANGED) == expected, p.file.name
        assert len(kinds) == template_rows(p.file)  # the 填报 rows and the 指标 rows were all read
    with db.sessions.begin() as s:
        summary = commit(s, result, "汇总员", TODAY)
    assert (summary.reports_added, summary.reports_corrected, summary.values_added) == (0, 0, 0)
    assert counts(db) == before


def test_untouched_templates_resaved_by_libreoffice_import_as_nothing(db, reported, tmp_path):
    files = [template(db, tmp_path), template(db, tmp_path, reported.cooperating[0])]
    resaved = convert_many(files, "xlsx", tmp_path / "libreoffice")
    assert all(a.read_bytes() != b.read_bytes() for a, b in zip(files, resaved))
    assert_imports_as_nothing(db, resaved, unchanged=[1, 0])  # 区教委's Q4 report of measure 3 stands


def test_untouched_templates_resaved_by_gnumeric_import_as_nothing(db, reported, tmp_path):
    files = [template(db, tmp_path), template(db, tmp_path, reported.cooperating[0])]
    resaved = [ssconvert(f, tmp_path / "gnumeric" / f.name) for f in files]
    assert_imports_as_nothing(db, resaved, unchanged=[1, 0])


def test_two_rows_filled_and_saved_by_libreoffice_are_exactly_two_reports(db, reported, tmp_path):
    path = template(db, tmp_path)
    r13, r3 = row_of(path, 13), row_of(path, 3)
    wb = load_workbook(path)
    ws = wb["填报"]
    ws[f"G{r13}"], ws[f"H{r13}"] = 85, "招聘基本完成"  # prefilled with the Q3 report: a new Q4 report
    ws[f"G{r3}"], ws[f"H{r3}"] = 90, "体测全部完成"  # this period's report stands: a revision
    wb.save(tmp_path / "填好.xlsx")
    back = convert(tmp_path / "填好.xlsx", "xlsx", tmp_path / "libreoffice")
    before = counts(db)
    [p] = previews(db, back)
    assert p.ok, p.errors + [r.reason for r in p.rows if r.kind == ERROR]
    touched = {r.row: r for r in p.rows if r.kind not in (EMPTY, UNCHANGED)}
    assert sorted(touched) == sorted([r13, r3])
    assert touched[r13].kind == NEW and touched[r3].kind == CHANGED
    assert {(c.field, c.before, c.after) for c in touched[r13].changes} == {
        ("完成度", "65%", "85%"), ("工作进展", "招聘完成一半", "招聘基本完成")}
    assert {(c.field, c.before, c.after) for c in touched[r3].changes} == {
        ("完成度", "80%", "90%"), ("工作进展", "体测完成", "体测全部完成")}
    with db.sessions.begin() as s:
        summary = commit(s, [p], "汇总员", TODAY)
    assert (summary.reports_added, summary.reports_corrected, summary.values_added) == (1, 1, 0)
    assert counts(db) == (before[0] + 2, before[1])
    with db.sessions() as s:
        q4 = {r.measure_no: r for r in svc.list_reports(s) if r.period == "2026Q4" and r.is_current}
    assert (q4[13].percent, q4[13].done, q4[13].department, q4[13].reporter) == (85, "招聘基本完成", DEPT, "甲")
    assert (q4[3].percent, q4[3].done, q4[3].revision) == (90, "体测全部完成", 2)


@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_a_template_saved_as_ods_or_xls_is_refused_with_what_to_do(db, reported, fmt, tmp_path):
    path = template(db, tmp_path)
    wb = load_workbook(path)
    wb["填报"][f"G{row_of(path, 13)}"] = 85  # a real change, so that reading it would write something
    wb.save(tmp_path / "填好.xlsx")
    other = convert(tmp_path / "填好.xlsx", fmt, tmp_path / fmt)
    assert other.name == f"填好.{fmt}"
    before = counts(db)
    [p] = previews(db, other)
    assert not p.ok and p.rows == []
    [message] = p.errors
    assert message.startswith(f"填好.{fmt}：") and "另存为" in message and ".xlsx" in message
    with pytest.raises(ProgressError), db.sessions.begin() as s:
        commit(s, [p], "汇总员", TODAY)
    assert counts(db) == before


def test_libreoffice_measures_what_a_row_needs(tmp_path):
    """measure_heights itself: a short row is seen as short; hidden columns and sheets, protection and merges do
    not mislead it."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    wrap = Alignment(wrap_text=True, vertical="top")
    text = "推进集团化办学和学区制管理改革，完成教师招聘与培训。" * 3  # 75 characters: 5 or more lines
    wb = Workbook()
    ws = wb.active
    ws.title = "表"
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["C"].hidden = True
    ws["A1"], ws["A2"], ws["C2"], ws["A4"], ws["B4"] = text, "好", text, text, "x"
    for ref in ("A1", "C2", "A4"):
        ws[ref].alignment = wrap
    ws.merge_cells("A4:A5")
    for r, height in ((1, 30), (2, 40), (4, 20), (5, 20)):
        ws.row_dimensions[r].height = height
    ws.protection.sheet = True
    wb.security.lockStructure = True
    wb.create_sheet("隐藏")["A1"] = text
    wb["隐藏"].sheet_state = "hidden"
    path = tmp_path / "量.xlsx"
    wb.save(path)
    [heights] = measure_heights([path])
    assert set(heights.rows) == {"表"}
    rows = {r.row: r for r in heights.rows["表"]}
    assert sorted(rows) == [1, 2, 3, 4, 5]
    assert rows[1].ours == pytest.approx(30, abs=0.6) and rows[1].optimal > 70  # too short
    assert rows[2].ours == pytest.approx(40, abs=0.6) and rows[2].optimal < 25  # the hidden C2 does not count
    assert rows[4].optimal < 25  # LibreOffice leaves the merged A4:A5 out of its rows' heights...
    [merged] = heights.merged["表"]  # ... so it is measured apart
    assert (merged.first_row, merged.last_row, merged.column) == (4, 5, 1)
    assert merged.ours == pytest.approx(40, abs=1) and merged.needed == pytest.approx(rows[1].optimal, abs=1)


def too_short(heights, name):
    """(file, sheet, row, ours, LibreOffice's optimal) of each row lower than LibreOffice finds it needs, and of each
    cell merged over several rows whose rows together are lower than its text needs (then row is "first-last")."""
    out = []
    for sheet, rows in heights.rows.items():
        out += [(name, sheet, r, ours, best) for r, ours, best in rows if ours < best - SLACK_PT]
    for sheet, cells in heights.merged.items():
        out += [(name, sheet, f"{a.first_row}-{a.last_row}", a.ours, a.needed) for a in cells
                if a.ours < a.needed - SLACK_PT]
    return out


def test_the_leaders_workbook_prints_every_target_and_the_whole_long_narrative(db, reported, tmp_path):
    book = tmp_path / "领导.xlsx"
    with db.sessions() as s:
        export_workbook(s, book, today=TODAY)
        targets = [t.text for m in plan_tree(s).measures() for t in m.targets]
    assert len(targets) == 60
    pdf = convert(book, "pdf", tmp_path / "pdf")
    text = squash(pdf_text(pdf))
    missing = [t[:30] for t in targets if squash(t) not in text]
    assert not missing, missing
    # 最新工作进展 of 年度目标进度安排表 and 工作进展 of 进展明细: a text too long for one row may continue on the rows
    # below (marked 续), so the narrative is each sheet's pieces of it, all of them in the PDF
    wb = load_workbook(book)
    for sheet in ("年度目标进度安排表", "进展明细"):
        pieces = [c.value for row in wb[sheet].iter_rows() for c in row
                  if isinstance(c.value, str) and len(c.value) >= 10 and c.value in LONG]
        assert "".join(pieces) == LONG, (sheet, pieces)
        assert all(squash(p) in text for p in pieces), [p for p in pieces if squash(p) not in text]
    assert pdf_pages(pdf) > 3

    [heights] = measure_heights([book])
    assert set(heights.rows) == {"年度目标进度安排表", "配合进展", "指标", "进展明细", "督办清单", "督办事项",
                                 *(name for name in heights.rows if re.fullmatch(r"20\d\d年考核(依据)?", name))}
    assert len(heights.rows) == 8
    assert len(heights.rows["年度目标进度安排表"]) >= 3 + 20  # and the rows a too long text continues on
    assert heights.merged["年度目标进度安排表"]  # 改革任务 over its measures' rows, the two header rows
    short = too_short(heights, book.name)
    assert not short, "\n".join(map(str, short))


def test_a_template_prints_every_target_and_every_row_is_tall_enough(db, reported, tmp_path):
    path = template(db, tmp_path)
    wb = load_workbook(path)
    ws = wb["填报"]
    texts = [ws[f"D{r}"].value for r in range(4, ws.max_row + 1) if ws[f"A{r}"].value]
    assert len(texts) == 19 and all(texts)
    assert LONG in [ws[f"H{r}"].value for r in range(4, ws.max_row + 1)]  # its own report of measure 20
    pdf = convert(path, "pdf", tmp_path / "pdf")
    text = squash(pdf_text(pdf))
    missing = [t[:30] for t in texts + [LONG] if squash(t) not in text]

    [heights] = measure_heights([path])
    assert set(heights.rows) == {"填报", "指标"}  # _meta is hidden: it does not print
    assert len(heights.rows["填报"]) == 3 + 19
    short = too_short(heights, path.name)
    # An input cell cannot continue on another row: a prefilled text taller than Excel's largest row (409 pt)
    # is kept whole in its cell but prints only as far as the row reaches (the README says so). That is the
    # only row allowed to fall short, and only at the largest height.
    long_row = next(r for r in range(4, ws.max_row + 1) if ws[f"H{r}"].value == LONG)
    capped = [x for x in short if x[2] == long_row and x[3] >= 408]
    assert [x for x in short if x not in capped] == [] and not [m for m in missing if m != LONG[:30]], \
        "not in the PDF: {}\ntoo short:\n{}".format(missing, "\n".join(map(str, short)))
    assert LONG[:200] in "".join(pdf_text(pdf).split())  # its first part prints

"""The quarter as the bureau runs it: templates prefilled from earlier reports go out, come back untouched, touched in a
few rows, confirmed, re-saved by other programs; only what a department changed or explicitly confirmed is imported."""

import json
import zipfile
from datetime import date

import pytest
from excel_helpers import fill, row_of
from openpyxl import load_workbook
from sqlalchemy import func, select

from qjgb_desktop.cli.entry import main
from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.collection.commit import commit
from qjgb_desktop.services.collection.returns import CHANGED, EMPTY, ERROR, NEW, UNCHANGED, read_return
from qjgb_desktop.services.collection.templates import write_template, write_templates
from qjgb_desktop.services.plan.query import plan_tree
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.store.models import ProgressReport

TODAY = date(2026, 11, 20)  # inside 2026Q4


def add(db, measure_no, department, period, percent, done, reporter="甲", status="正常推进", on=None, problems=""):
    with db.sessions.begin() as s:
        tid = svc.target_id_for(s, measure_no, 2026)
        start = {"Q1": date(2026, 3, 1), "Q2": date(2026, 6, 1), "Q3": date(2026, 9, 1), "Q4": date(2026, 11, 1)}
        return svc.add_report(s, tid, ReportInput(period=period, report_date=on or start[period[-2:]],
                                                  department=department, reporter=reporter, status=status,
                                                  percent=percent, done=done, problems=problems,
                                                  next_steps="继续" if problems else ""), "录入员", TODAY).id


def report_count(db):
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(ProgressReport))


def previews(db, *paths, period=None):
    with db.sessions() as s:
        return [read_return(s, p, TODAY, period) for p in paths]


@pytest.fixture
def reported(db):
    """A few reports from earlier periods and this one, by leads and by a cooperating department."""
    with db.sessions() as s:
        m13 = next(m for m in plan_tree(s).measures() if m.no == 13)
    ids = {
        "lead_q3": add(db, 13, m13.lead, "2026Q3", 65, "招聘完成一半"),
        "coop_q3": add(db, 13, m13.cooperating[0], "2026Q3", 60, "配合部门的进展", reporter="乙"),
        "lead_q4": add(db, 3, "区教委", "2026Q4", 80, "体测完成", reporter="丙"),
    }
    return m13, ids


def test_untouched_templates_import_as_nothing(db, reported, tmp_path):
    with db.sessions() as s:
        files = write_templates(s, plan_tree(s).departments, "2026Q4", tmp_path / "out")
    assert len(files) >= 40
    before = report_count(db)
    result = previews(db, *files)
    kinds = [r.kind for p in result for r in p.rows]
    assert all(p.ok for p in result), [r.reason for p in result for r in p.rows if r.kind == ERROR]
    assert kinds.count(NEW) == 0 and kinds.count(CHANGED) == 0 and kinds.count(ERROR) == 0
    assert kinds.count(UNCHANGED) == 1  # 区教委's 2026Q4 report of measure 3 stands
    with db.sessions.begin() as s:
        summary = commit(s, result, "汇总员", TODAY)
    assert (summary.reports_added, summary.reports_corrected, summary.values_added) == (0, 0, 0)
    assert report_count(db) == before


def test_a_cooperating_department_sees_the_lead_as_reference_never_as_its_own(db, reported, tmp_path):
    m13, _ = reported
    coop2 = m13.cooperating[1]  # has not reported at all
    for dept, expect_own in ((m13.cooperating[0], ["正常推进", 60, "配合部门的进展", "", "", "乙"]),
                             (coop2, [None] * 6)):
        path = tmp_path / f"{dept}.xlsx"
        with db.sessions() as s:
            write_template(s, dept, "2026Q4", path)
        ws = load_workbook(path)["填报"]
        r = row_of(path, 13)
        assert ws[f"C{r}"].value == "配合"
        assert [ws[f"{c}{r}"].value or None for c in "FGHIJK"] == [v or None for v in expect_own]
        reference = ws[f"E{r}"]
        assert "招聘完成一半" in reference.value and "65%" in reference.value and reference.protection.locked
        assert ws["E3"].value == "参考：牵头部门最新进展"
        [p] = previews(db, path)
        row = next(x for x in p.rows if x.row == r and x.sheet == "填报")
        assert row.kind == EMPTY  # never a copy of the lead's text under the cooperating department


def test_a_department_that_touches_two_rows_changes_exactly_two(db, reported, tmp_path):
    m13, ids = reported
    path = tmp_path / "lead.xlsx"
    with db.sessions() as s:
        write_template(s, m13.lead, "2026Q4", path)
    wb = load_workbook(path)
    ws = wb["填报"]
    rows = [r for r in range(4, ws.max_row + 1) if ws[f"A{r}"].value]
    assert len(rows) > 3
    r13 = row_of(path, 13)
    other = next(r for r in rows if r != r13)
    ws[f"G{r13}"], ws[f"H{r13}"] = 85, "招聘基本完成"
    ws[f"F{other}"], ws[f"G{other}"], ws[f"H{other}"], ws[f"K{other}"] = "正常推进", 90, "新进展", "丁"
    wb.save(tmp_path / "back.xlsx")
    before = report_count(db)
    [p] = previews(db, tmp_path / "back.xlsx")
    assert p.ok, [r.reason for r in p.rows if r.kind == ERROR]
    touched = [r for r in p.rows if r.kind in (NEW, CHANGED)]
    assert sorted(r.row for r in touched) == sorted([r13, other])
    row13 = next(r for r in touched if r.row == r13)
    assert row13.kind == NEW  # the Q3 report was prefilled; a changed row is this period's report
    assert {(c.field, c.before, c.after) for c in row13.changes} == {("完成度", "65%", "85%"),
                                                                    ("工作进展", "招聘完成一半", "招聘基本完成")}
    with db.sessions.begin() as s:
        summary = commit(s, [p], "汇总员", TODAY)
    assert summary.reports_added == 2 and report_count(db) == before + 2
    with db.sessions() as s:
        latest = svc.list_reports(s, measure_no=13)[0]
    assert (latest.period, latest.percent, latest.reporter, latest.department) == ("2026Q4", 85, "甲", m13.lead)


def test_confirming_no_change_is_an_explicit_act(db, reported, tmp_path):
    m13, ids = reported
    path = tmp_path / "coop.xlsx"
    dept = m13.cooperating[0]
    with db.sessions() as s:
        write_template(s, dept, "2026Q4", path)
    r13 = row_of(path, 13)
    wb = load_workbook(path)
    ws = wb["填报"]
    ws[f"L{r13}"] = "确认无变化"
    blank_row = next(r for r in range(4, ws.max_row + 1) if ws[f"A{r}"].value and r != r13 and not ws[f"F{r}"].value)
    wb.save(tmp_path / "confirmed.xlsx")
    [p] = previews(db, tmp_path / "confirmed.xlsx")
    row = next(r for r in p.rows if r.row == r13 and r.sheet == "填报")
    # 60% late in Q4 lags: confirming it is a statement, so it is checked and must give the cause
    assert row.kind == ERROR and "请说明原因" in row.reason
    ws[f"I{r13}"], ws[f"J{r13}"] = "人手不足", "年底前补齐"
    ws[f"L{blank_row}"] = "确认无变化"  # nothing earlier to confirm
    wb.save(tmp_path / "confirmed2.xlsx")
    [p] = previews(db, tmp_path / "confirmed2.xlsx")
    kinds = {r.row: r for r in p.rows if r.sheet == "填报"}
    assert kinds[r13].kind == NEW and kinds[r13].report.percent == 60 and kinds[r13].report.problems == "人手不足"
    assert kinds[blank_row].kind == ERROR and "没有报告可沿用" in kinds[blank_row].reason


def test_confirmed_row_becomes_this_periods_report(db, tmp_path):
    add(db, 3, "区教委", "2026Q3", 90, "体测完成九成", reporter="丙", on=date(2026, 9, 30))
    path = tmp_path / "jw.xlsx"
    with db.sessions() as s:
        write_template(s, "区教委", "2026Q4", path)
    r3 = row_of(path, 3)
    wb = load_workbook(path)
    wb["填报"][f"L{r3}"] = "确认无变化"
    wb.save(tmp_path / "c.xlsx")
    [p] = previews(db, tmp_path / "c.xlsx")
    [row] = [r for r in p.rows if r.kind != EMPTY]
    assert row.kind == NEW and "确认沿用上期进展" in row.reason
    with db.sessions.begin() as s:
        commit(s, [p], "汇总员", TODAY)
    with db.sessions() as s:
        latest = svc.list_reports(s, measure_no=3)[0]
    assert (latest.period, latest.percent, latest.done) == ("2026Q4", 90, "体测完成九成")


def test_untouched_row_does_not_undo_a_later_correction(db, tmp_path):
    rid = add(db, 3, "区教委", "2026Q4", 80, "旧文字")
    path = tmp_path / "jw.xlsx"
    with db.sessions() as s:
        write_template(s, "区教委", "2026Q4", path)
    with db.sessions.begin() as s:  # the bureau corrects the report after the template went out
        svc.correct_report(s, rid, ReportInput(period="2026Q4", report_date=date(2026, 11, 1), department="区教委",
                                               reporter="甲", status="正常推进", percent=85, done="新文字"), "x", TODAY)
    [p] = previews(db, path)
    assert p.count(NEW) == p.count(CHANGED) == p.count(ERROR) == 0
    with db.sessions.begin() as s:
        commit(s, [p], "汇总员", TODAY)
    with db.sessions() as s:
        assert svc.list_reports(s, measure_no=3)[0].done == "新文字"


def test_other_programs_representations_of_the_same_values_are_untouched(db, tmp_path):
    add(db, 3, "区教委", "2026Q3", 70, "第一行\n第二行")
    path = tmp_path / "jw.xlsx"
    with db.sessions() as s:
        write_template(s, "区教委", "2026Q4", path)
    r3 = row_of(path, 3)
    wb = load_workbook(path)
    ws = wb["填报"]
    ws[f"G{r3}"] = 70.0  # a float where an int was
    ws[f"H{r3}"] = "第一行\r\n第二行  "  # CR LF and trailing blanks
    wb.save(tmp_path / "same.xlsx")
    [p] = previews(db, tmp_path / "same.xlsx")
    assert p.ok and p.count(NEW) == p.count(CHANGED) == 0


def tamper(path, out, edit):
    wb = load_workbook(path)
    edit(wb)
    wb.save(out)
    return out


def test_tokens_and_identity_are_tamper_evident(db, reported, tmp_path):
    path = tmp_path / "jw.xlsx"
    with db.sessions() as s:
        write_template(s, "区教委", "2026Q4", path)
    r3, r13 = row_of(path, 3), row_of(path, 13)

    def swap_tokens(wb):
        ws = wb["填报"]
        ws[f"M{r3}"], ws[f"M{r13}"] = ws[f"M{r13}"].value, ws[f"M{r3}"].value
    [p] = previews(db, tamper(path, tmp_path / "a.xlsx", swap_tokens))
    assert sum("校验信息缺失或被改动" in r.reason for r in p.rows) == 2

    def other_department(wb):
        ws = wb["填报"]
        ws["A1"] = ws["A1"].value.replace("区教委", "区体育局")
    [p] = previews(db, tamper(path, tmp_path / "b.xlsx", other_department))
    assert "身份信息被改动" in p.errors[0]

    def meta_changed(wb):
        wb["_meta"]["B3"] = "区体育局"
    [p] = previews(db, tamper(path, tmp_path / "c.xlsx", meta_changed))
    assert "不一致" in p.errors[0]

    other = tmp_path / "other.xlsx"
    with db.sessions() as s:
        write_template(s, "区教委", "2026Q4", other)

    def pasted_from_another_template(wb):
        src = load_workbook(other)["填报"]
        for c in "ABCDEFGHIJKLM":
            wb["填报"][f"{c}{r3}"] = src[f"{c}{r3}"].value
    [p] = previews(db, tamper(path, tmp_path / "d.xlsx", pasted_from_another_template))
    assert any("校验信息" in r.reason for r in p.rows if r.row == r3 and r.sheet == "填报")


def test_identity_survives_a_lost_or_visible_meta_sheet_and_lost_print_titles(db, reported, tmp_path):
    path = tmp_path / "jw.xlsx"
    with db.sessions() as s:
        write_template(s, "区教委", "2026Q4", path)

    def like_gnumeric(wb):
        wb["_meta"].sheet_state = "visible"
        wb["填报"].print_title_rows = None
        wb.security = None
    [p] = previews(db, tamper(path, tmp_path / "g.xlsx", like_gnumeric))
    assert p.ok and p.department == "区教委" and p.count(NEW) == 0

    def no_meta(wb):
        wb.security = None
        del wb["_meta"]
    [p] = previews(db, tamper(path, tmp_path / "n.xlsx", no_meta))
    assert p.ok and p.period == "2026Q4" and p.count(NEW) == 0


def test_an_old_template_is_refused_with_what_to_do(db, tmp_path):
    path = tmp_path / "jw.xlsx"
    with db.sessions() as s:
        write_template(s, "区教委", "2026Q4", path)

    def version1(wb):
        wb["填报"]["A1"] = None
        wb["_meta"]["B5"] = "1"
    [p] = previews(db, tamper(path, tmp_path / "v1.xlsx", version1))
    assert "旧版模板" in p.errors[0] and "重新下发" in p.errors[0]


def write_zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize("kind,words", [
    ("ods", "OpenDocument 表格（.ods"),
    ("xls", "Excel 97-2003（.xls）"),
    ("xlsb", ".xlsb"),
    ("docx", "Word 文档"),
    ("html", "网页（HTML）"),
    ("bomb", "解压后的内容异常庞大"),
    ("garbage_xml", "无法读取，文件可能已损坏"),
])
def test_foreign_formats_are_named_in_chinese(db, tmp_path, kind, words):
    path = tmp_path / f"{kind}.xlsx"
    if kind == "ods":
        write_zip(path, {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"})
    elif kind == "xls":
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    elif kind == "xlsb":
        write_zip(path, {"[Content_Types].xml": "<x/>", "xl/workbook.bin": b"\0"})
    elif kind == "docx":
        write_zip(path, {"[Content_Types].xml": "<x/>", "word/document.xml": "<x/>"})
    elif kind == "html":
        path.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>", encoding="utf-8")
    elif kind == "bomb":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("xl/workbook.xml", "<x/>")
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
                chunk = b" " * (1 << 20)
                for _ in range(64):
                    fh.write(chunk)
    elif kind == "garbage_xml":
        write_zip(path, {"[Content_Types].xml": "not xml", "xl/workbook.xml": "<<<"})
    [p] = previews(db, path)
    assert not p.ok and words in p.errors[0], p.errors
    assert path.name in p.errors[0]
    assert not any(w in p.errors[0] for w in ("Error", "error", "File is not", "Traceback"))


def test_import_json_lists_every_row_with_changes_and_problems(data_dir, tmp_path, capsys):
    main(["init"])
    tpl = tmp_path / "jw.xlsx"
    assert main(["template", "--department", "区教委", "--period", "2026Q3", "--out", str(tpl)]) == 0
    r13, r3 = row_of(tpl, 13), row_of(tpl, 3)
    filled = fill(tpl, tmp_path / "回.xlsx", rows={r13: ["正常推进", 50, "进行中", "", "", "李"],
                                                    r3: ["正常推进", 500, "", "", "", "李"]})
    capsys.readouterr()
    assert main(["import", str(filled), "--json", "--today", "2026-07-02"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["committed"] is False
    [f] = out["files"]
    assert f["department"] == "区教委" and f["period"] == "2026Q3" and f["counts"]["新增"] == 1
    rows = {r["row"]: r for r in f["rows"] if r["sheet"] == "填报"}
    assert rows[r13]["result"] == "新增" and rows[r13]["sheet"] == "填报" and rows[r13]["target"] == "措施13·2026年"
    assert {"field": "完成度", "before": "", "after": "50%"} in rows[r13]["changes"]
    assert rows[r3]["result"] == "错误" and any("0–100" in x for x in rows[r3]["problems"])
    assert all(r["result"] in ("新增", "修改", "无变化", "未填", "错误") for r in f["rows"])

    ok = fill(tpl, tmp_path / "好.xlsx", rows={r13: ["正常推进", 50, "进行中", "", "", "李"]})
    assert main(["import", str(ok), "--json", "--today", "2026-07-02"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["committed"] is True and out["summary"]["reports_added"] == 1


def test_cli_import_prints_before_and_after(data_dir, tmp_path, capsys):
    main(["init"])
    tpl = tmp_path / "jw.xlsx"
    main(["template", "--department", "区教委", "--period", "2026Q3", "--out", str(tpl)])
    r13 = row_of(tpl, 13)
    first = fill(tpl, tmp_path / "一.xlsx", rows={r13: ["正常推进", 50, "进行中", "", "", "李"]})
    assert main(["import", str(first), "--today", "2026-07-02"]) == 0
    second = fill(first, tmp_path / "二.xlsx", rows={r13: ["正常推进", 60, "进行中", "", "", "李"]})
    capsys.readouterr()
    assert main(["import", str(second), "--dry-run", "--today", "2026-07-02"]) == 0
    out = capsys.readouterr().out
    assert "修改" in out and "完成度：50% → 60%" in out


@pytest.mark.parametrize("where", ["XFD1048576", "K200000", "rows20000"])
def test_far_cells_and_pasted_rows_are_answered_at_once(db, tmp_path, where):
    path = tmp_path / "jw.xlsx"
    with db.sessions() as s:
        write_template(s, "区教委", "2026Q4", path)
    wb = load_workbook(path)
    ws = wb["填报"]
    if where == "rows20000":
        for _r in range(40, 20040):
            ws.append(["T1", "复制", "牵头", "x", "", "正常推进", 50, "复制的行"])
    else:
        ws[where] = "x"
    wb.save(tmp_path / "far.xlsx")
    [p] = previews(db, tmp_path / "far.xlsx")
    if where != "rows20000":  # far outside the rows and columns a template has: never read
        assert p.ok and p.count(NEW) == p.count(CHANGED) == 0
    else:
        # refused at once: past the template's rows, or (20,000 rows make a large part) unread
        assert not p.ok and ("超出模板范围" in p.errors[0] or "异常庞大" in p.errors[0])

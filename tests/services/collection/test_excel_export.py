"""The leaders' workbook: the annex reproduced, progress beside it, made for printing, text never a formula."""

from datetime import date

import pytest
from conftest import measures
from openpyxl import load_workbook

from qjgb_desktop.cli.entry import main
from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.collection.export import export_workbook
from qjgb_desktop.services.progress import reports as svc

TODAY = date(2026, 7, 2)


@pytest.fixture
def workbook(db, tmp_path):
    with db.sessions.begin() as s:
        tid = svc.target_id_for(s, 13, 2026)
        svc.add_report(s, tid, ReportInput("2026Q3", date(2026, 7, 1), "区教委", "@李四", "滞后", 20,
                                           done="=SUM(A1:A9)招聘未完成", problems="+编制不足", next_steps="-补招"),
                       "clerk", TODAY)
        tid3 = svc.target_id_for(s, 3, 2026)
        svc.add_report(s, tid3, ReportInput("2026Q3", date(2026, 7, 1), "区教委", "王五", "正常推进", 55,
                                            done="体测完成"), "clerk", TODAY)
    out = tmp_path / "进度.xlsx"
    with db.sessions() as s:
        counts = export_workbook(s, out, today=TODAY)
    return load_workbook(out), counts


def test_sheets_and_row_counts(workbook):
    wb, counts = workbook
    assert wb.sheetnames == ["年度目标进度安排表", "配合进展", "指标", "进展明细", "督办清单", "督办事项", "2026年考核",
                             "2026年考核依据"]
    assert counts["2026年考核"] == 45 and counts["督办事项"] == 0
    assert counts["年度目标进度安排表"] == 20 and counts["进展明细"] == 2 and 40 <= counts["指标"] <= 80


def test_the_annex_reproduces_the_document(workbook, plan_record):
    ws = workbook[0]["年度目标进度安排表"]
    assert [ws.cell(2, c).value for c in (1, 2, 3, 4)] == ["改革任务", "改革措施", "责任部门", "年度目标"]
    assert [ws.cell(3, c).value for c in (4, 5, 6)] == ["2025年", "2026年", "2027年"]
    cells = {}
    for row in range(4, 24):
        no = int(ws.cell(row, 2).value.split(".")[0])
        cells[no] = {str(2025 + k): ws.cell(row, 4 + k).value for k in range(3)}
    assert len(cells) == 20
    for m in measures(plan_record):
        assert cells[m["no"]] == m["targets"]  # all 60 target cells equal the plan's texts
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A4:A8", "A9:A13", "A14:A17", "A18:A20", "A21:A23"} <= merged  # 改革任务 merged as in the document
    assert ws.cell(4, 1).value == "（一）实施立德树人素养提升行动"
    assert ws.cell(4, 3).value.startswith("区委教育工委（牵头）、区委组织部")


def test_progress_columns_with_states_as_fill_and_text(workbook):
    ws = workbook[0]["年度目标进度安排表"]
    row = next(r for r in range(4, 24) if ws.cell(r, 2).value.startswith("13."))
    assert ws.cell(2, 7).value == "2026年进展"
    assert ws.cell(row, 7).value == "滞后"
    assert ws.cell(row, 7).fill.fgColor.rgb.endswith("F4CCCC")
    assert ws.cell(row, 8).value == 0.2 and ws.cell(row, 8).number_format == "0%"
    assert ws.cell(row, 9).value == "=SUM(A1:A9)招聘未完成"
    assert ws.cell(row, 10).value.date() == date(2026, 7, 1)


def test_made_for_printing(workbook):
    wb = workbook[0]
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.paperSize == 9  # A4
        assert ws.print_title_rows
        assert ws.freeze_panes
    annex = wb["年度目标进度安排表"]
    assert annex.print_title_rows == "$2:$3" and annex.freeze_panes == "D4"
    assert annex.column_dimensions["D"].width >= 30
    assert annex.cell(4, 4).alignment.wrap_text


def test_typed_text_never_becomes_a_formula(workbook):
    wb = workbook[0]
    ws = wb["进展明细"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == 13)
    values = {c.value: c.data_type for c in row}
    for text in ("@李四", "=SUM(A1:A9)招聘未完成", "+编制不足", "-补招"):
        assert values[text] == "s"
    annex = wb["年度目标进度安排表"]
    assert all(c.data_type != "f" for r in annex.iter_rows() for c in r)


def test_cli_export(data_dir, tmp_path, capsys):
    main(["init"])
    assert main(["export", "--out", str(tmp_path / "a.xlsx"), "--year", "2025", "--today", "2025-12-31"]) == 0
    assert "年度目标进度安排表 20 行" in capsys.readouterr().out
    assert load_workbook(tmp_path / "a.xlsx")["年度目标进度安排表"].cell(2, 7).value == "2025年进展"
    assert main(["export", "--out", str(tmp_path / "a.xls")]) == 2
    assert main(["export", "--out", str(tmp_path / "b.xlsx"), "--year", "2030"]) == 2


def test_supervision_items_and_the_assessment_in_the_workbook(db, tmp_path):
    """Each 督办 item with its whole history; each department's score with its components and its records."""
    from qjgb_desktop.services.supervision import items as supervision

    with db.sessions.begin() as s:
        tid = svc.target_id_for(s, 13, 2026)
        item = supervision.open_item(s, "督导甲", date(2026, 7, 1), target_id=tid, reason="进度偏慢")
        supervision.assign(s, item.id, "督导甲", date(2026, 7, 2), "区教委 李科长", feedback_due=date(2026, 7, 9))
        supervision.answer(s, item.id, "李科长", date(2026, 7, 8), "已整改=完成")
        supervision.close(s, item.id, "督导甲", date(2026, 7, 10), "同意办结")
    out = tmp_path / "进度.xlsx"
    with db.sessions() as s:  # after the answer fell due (2026-07-09): the item counts in 督办办结率
        export_workbook(s, out, today=date(2026, 7, 10))
    wb = load_workbook(out)
    ws = wb["督办事项"]
    row = [c.value for c in ws[2]]
    assert row[:5] == [1, "区教委", "措施13·2026年", "进度偏慢", "办结"]
    assert row[8].splitlines() == ["2026-07-01 立项（督导甲）：进度偏慢",
                                   "2026-07-02 交办（督导甲）：交办给 区教委 李科长；反馈期限 2026-07-09",
                                   "2026-07-08 反馈（李科长）：已整改=完成", "2026-07-10 办结（督导甲）：同意办结"]
    scores = wb["2026年考核"]
    header = [c.value for c in scores[1]]
    assert header == ["组别", "排名", "部门", "总分", "完成度", "按时报送率", "佐证覆盖率", "督办办结率", "说明"]
    edu = next(r for r in scores.iter_rows(min_row=2, values_only=True) if r[2] == "区教委")
    assert edu[0] == "牵头部门" and edu[7] == 100 and "到期督办 1 项，办结 1 项" in edu[8]
    assert any(r[2] == "考核规则" and "权重" in r[8] for r in scores.iter_rows(min_row=2, values_only=True))
    basis = [r for r in wb["2026年考核依据"].iter_rows(min_row=2, values_only=True) if r[0] == "区教委"]
    assert any(r[1] == "督办办结率" and r[2].startswith("督办 #1 措施13·2026年：办结") for r in basis)

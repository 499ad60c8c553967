"""Templates out, returns in: the round trip, idempotence, and each kind of bad input (message + nothing written)."""

import shutil
from datetime import date

import pytest
from excel_helpers import counts, fill, row_of
from openpyxl import load_workbook
from sqlalchemy import select

from qjgb_desktop.cli.entry import main
from qjgb_desktop.services.collection.commit import commit
from qjgb_desktop.services.collection.returns import CHANGED, ERROR, NEW, UNCHANGED, read_return
from qjgb_desktop.services.collection.templates import write_template
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.store.models import ImportBatch

TODAY = date(2026, 7, 2)


@pytest.fixture
def template(db, tmp_path):
    path = tmp_path / "区教委.xlsx"
    with db.sessions() as s:
        assert write_template(s, "区教委", "2026Q3", path) == 19
    return path


def preview(db, *paths):
    with db.sessions() as s:
        return [read_return(s, p, TODAY) for p in paths]


def test_template_shape_protection_and_validation(template):
    wb = load_workbook(template)
    assert wb.sheetnames == ["填报", "指标", "_meta"]
    assert wb["_meta"].sheet_state == "veryHidden"
    ws = wb["填报"]
    assert ws.protection.sheet and wb["指标"].protection.sheet
    assert ws.column_dimensions["A"].hidden
    assert ws["A4"].value.startswith("T") and ws["E4"].protection.locked
    assert not ws["F4"].protection.locked and not ws["G4"].protection.locked and not ws["K4"].protection.locked
    kinds = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert "正常推进" in kinds["F4"].formula1 and kinds["G4"].formula2 == "100" and "确认无变化" in kinds["L4"].formula1
    roles = {ws[f"C{r}"].value for r in range(4, 23)}
    assert roles == {"牵头", "配合"}  # its targets as lead and as cooperating
    meta = {r[0].value: r[1].value for r in wb["_meta"].iter_rows()}
    assert meta["department"] == "区教委" and meta["period"] == "2026Q3"


def test_round_trip_imports_exactly_what_was_filled(db, template, tmp_path):
    r13, r3 = row_of(template, 13), row_of(template, 3)
    ind_ws = load_workbook(template)["指标"]
    age_row = next(r for r in range(4, ind_ws.max_row + 1) if ind_ws[f"C{r}"].value == "专任教师本科及以上学历占比")
    filled = fill(template, tmp_path / "交回.xlsx",
                  rows={r13: ["正常推进", 50, "招聘完成一半", "", "", "李老师"],
                        r3: ["滞后", 20, "体测推迟", "场地不足", "8月补测", "王老师"]},
                  indicators={age_row: 96.8})
    [p] = preview(db, filled)
    assert p.ok, p.errors + [r.reason for r in p.rows if r.kind == ERROR]
    assert p.count(NEW) == 3
    with db.sessions.begin() as s:
        summary = commit(s, [p], "汇总员", TODAY)
    assert (summary.reports_added, summary.values_added) == (2, 1)
    with db.sessions() as s:
        reports = {r.measure_no: r for r in svc.list_reports(s)}
        batch = s.scalars(select(ImportBatch)).one()
    assert (reports[13].percent, reports[13].done, reports[13].reporter) == (50, "招聘完成一半", "李老师")
    assert (reports[3].status, reports[3].problems, reports[3].next_steps) == ("滞后", "场地不足", "8月补测")
    assert reports[13].period == "2026Q3" and reports[13].department == "区教委" and reports[13].created_by == "汇总员"
    assert batch.file_name == "交回.xlsx" and len(batch.sha256) == 64

    before = counts(db)
    [again] = preview(db, filled)
    assert again.already_imported
    with db.sessions.begin() as s:
        assert commit(s, [again], "汇总员", TODAY).skipped_files == ["交回.xlsx"]
    assert counts(db) == before  # the same file twice creates nothing

    resaved = tmp_path / "再次保存.xlsx"
    wb = load_workbook(filled)
    wb.properties.creator = "WPS Office"  # saved again elsewhere: other bytes, same values
    wb["填报"].column_dimensions["H"].width = 50
    wb.save(resaved)
    [same] = preview(db, resaved)
    assert not same.already_imported and same.count(UNCHANGED) == 3 and same.count(NEW) == 0


def test_a_changed_value_becomes_a_revision(db, template, tmp_path):
    r13 = row_of(template, 13)
    first = fill(template, tmp_path / "一.xlsx", rows={r13: ["正常推进", 50, "进行中", "", "", "李老师"]})
    with db.sessions.begin() as s:
        commit(s, [read_return(s, first, TODAY)], "汇总员", TODAY)
    second = fill(first, tmp_path / "二.xlsx", rows={r13: ["正常推进", 60, "进行中", "", "", "李老师"]})
    [p] = preview(db, second)
    assert [r.kind for r in p.rows if r.kind not in ("未填",)] == [CHANGED]
    with db.sessions.begin() as s:
        commit(s, [p], "汇总员", TODAY)
    with db.sessions() as s:
        [current] = svc.list_reports(s, measure_no=13)
        assert current.percent == 60 and current.revision == 2


def damage(kind, template, tmp_path):
    out = tmp_path / f"{kind}.xlsx"
    r13 = row_of(template, 13)
    if kind == "not_xlsx":
        out.write_text("措施,状态\n13,正常推进\n", encoding="utf-8")
    elif kind == "corrupt_zip":
        data = template.read_bytes()
        out.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        out.write_bytes(b"")
    elif kind == "missing_sheet":
        fill(template, out, edit=lambda wb: wb.remove(wb["指标"]))
    elif kind == "renamed_header":
        fill(template, out, edit=lambda wb: wb["填报"].cell(3, 7, "完成率"))
    elif kind == "tampered_id":
        fill(template, out, rows={r13: ["正常推进", 50, "", "", "", "李"]},
             edit=lambda wb: wb["填报"].cell(r13, 1, "T99999"))
    elif kind == "foreign_id":
        fill(template, out, rows={r13: ["正常推进", 50, "", "", "", "李"]},
             edit=lambda wb: wb["填报"].cell(r13, 1, "T1"))  # measure 1 is not 区教委's
    elif kind == "other_plan":
        def other(wb):
            cell = wb["填报"]["A1"]
            cell.value = cell.value.replace('"plan": "', '"plan": "another-')
        fill(template, out, edit=other)
    elif kind == "out_of_range":
        fill(template, out, rows={r13: ["正常推进", 150, "", "", "", "李"]})
    elif kind == "text_in_number":
        fill(template, out, rows={r13: ["正常推进", "一半", "", "", "", "李"]})
    elif kind == "formula":
        fill(template, out, rows={r13: ["正常推进", "=40+10", "", "", "", "李"]})
    elif kind == "merged":
        fill(template, out, rows={r13: ["正常推进", 50, "a", "", "", "李"]},
             edit=lambda wb: wb["填报"].merge_cells(f"H{r13}:J{r13}"))
    elif kind == "too_long":
        fill(template, out, rows={r13: ["正常推进", 50, "字" * 6000, "", "", "李"]})
    return out


@pytest.mark.parametrize("kind,words", [
    ("not_xlsx", "不是 Excel 工作簿（像是文本或 CSV文件"),
    ("corrupt_zip", "不是完整的 .xlsx 文件"),
    ("empty", "是空文件"),
    ("missing_sheet", "缺少工作表“指标”"),
    ("renamed_header", "第3行第G列：表头应为“完成度（0-100）”，实际为“完成率”"),
    ("tampered_id", "行号“T99999”无效"),
    ("foreign_id", "不属于“区教委”"),
    ("other_plan", "不是本计划的模板"),
    ("out_of_range", "应在 0–100 之间"),
    ("text_in_number", "G列（完成度）应为数字，实际为文字“一半”"),
    ("formula", "G列（完成度）是公式"),
    ("merged", "被合并"),
    ("too_long", "过长"),
])
def test_bad_input_is_named_and_changes_nothing(db, template, tmp_path, kind, words):
    good = fill(template, tmp_path / "好.xlsx", rows={row_of(template, 3): ["正常推进", 60, "", "", "", "王"]})
    bad = damage(kind, template, tmp_path)
    before = counts(db)
    previews = preview(db, good, bad)
    assert previews[0].ok and not previews[1].ok
    messages = previews[1].errors + [r.reason for r in previews[1].rows if r.kind == ERROR]
    assert any(words in m for m in messages), messages
    assert any(bad.name in m for m in messages)  # names the file
    with pytest.raises(svc.ProgressError, match="未导入任何内容"):
        with db.sessions.begin() as s:
            commit(s, previews, "汇总员", TODAY)
    assert counts(db) == before  # the good file was not imported either: all or nothing


def test_cli_template_and_import(data_dir, tmp_path, capsys):
    main(["init"])
    out = tmp_path / "tpl"
    assert main(["template", "--all", "--period", "2026Q3", "--out", str(out)]) == 0
    files = sorted(out.glob("*.xlsx"))
    assert len(files) >= 40
    jw = next(f for f in files if f.name.startswith("区教委-"))
    filled = fill(jw, tmp_path / "回.xlsx", rows={row_of(jw, 13): ["正常推进", 50, "进行中", "", "", "李老师"]})
    capsys.readouterr()
    assert main(["import", str(filled), "--period", "2026Q2", "--today", "2026-07-02"]) == 2
    said = capsys.readouterr()
    assert "（不是本次回收的 2026Q2 周期）" in said.out and "须用 --accept-other-periods 明确导入" in said.err
    assert main(["import", str(filled), "--dry-run", "--today", "2026-07-02"]) == 0
    assert "新增 1" in capsys.readouterr().out
    assert main(["import", str(filled), "--today", "2026-07-02"]) == 0
    assert "新增报告 1" in capsys.readouterr().out
    bad = tmp_path / "坏.xlsx"
    shutil.copy(filled, bad)
    fill(bad, bad, rows={row_of(jw, 3): ["正常推进", 500, "", "", "", "李"]})
    assert main(["import", str(bad), "--today", "2026-07-02"]) == 2
    assert "未导入任何内容" in capsys.readouterr().err
    assert main(["template", "--department", "不存在的部门", "--period", "2026Q3", "--out", str(tmp_path / "x.xlsx")]) == 2


def test_rows_sent_back_get_a_returns_sheet(data_dir, tmp_path, capsys):
    main(["init"])
    tpl = tmp_path / "jw.xlsx"
    main(["template", "--department", "区教委", "--period", "2026Q3", "--out", str(tpl)])
    bad = fill(tpl, tmp_path / "回.xlsx", rows={row_of(tpl, 13): ["正常推进", 500, "", "", "", "李"]})
    assert main(["import", str(bad), "--returns", str(tmp_path / "退回"), "--today", "2026-07-02"]) == 2
    returned = load_workbook(tmp_path / "退回" / "回-退回.xlsx")
    assert returned.sheetnames[0] == "退回"
    rows = list(returned["退回"].iter_rows(min_row=3, values_only=True))
    assert len(rows) == 1 and rows[0][0] == "填报" and "0–100" in rows[0][3]
    assert "填报" in returned.sheetnames  # the department's own sheets are kept to fill again


def test_two_returns_for_the_same_targets_in_one_import(db, template, tmp_path):
    r13 = row_of(template, 13)
    first = fill(template, tmp_path / "第一次.xlsx", rows={r13: ["正常推进", 50, "a", "", "", "李"]})
    second = fill(template, tmp_path / "第二次.xlsx", rows={r13: ["正常推进", 70, "b", "", "", "李"]})
    with db.sessions.begin() as s:
        summary = commit(s, [read_return(s, first, TODAY), read_return(s, second, TODAY)], "汇总员", TODAY)
    assert (summary.reports_added, summary.reports_corrected) == (1, 1)
    with db.sessions() as s:
        [current] = svc.list_reports(s, measure_no=13)
    assert (current.percent, current.revision) == (70, 2)  # the later file wins, the earlier stays in history

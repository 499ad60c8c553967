"""A return applies to its own department and period: the lead's and a cooperating department's returns in either
order, two versions of one return in either order, a return older than one already imported, a closed period, a
return for another period, and indicator figures that belong to the lead."""

from datetime import date, datetime

import pytest
from excel_helpers import fill, row_of, saved_at
from openpyxl import load_workbook

from qjgb_desktop.services.collection.batch import check_batch
from qjgb_desktop.services.collection.commit import commit
from qjgb_desktop.services.collection.returns import ERROR, read_return
from qjgb_desktop.services.collection.templates import write_template
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.progress.status import compute_status
from qjgb_desktop.store.models import Indicator

TODAY = date(2026, 10, 5)  # the third quarter's returns come in


def template(db, folder, department, period="2026Q3"):
    path = folder / f"{department}-{period}.xlsx"
    with db.sessions() as s:
        write_template(s, department, period, path)
    return path


def filled(db, tmp_path, department, percent, name=None, period="2026Q3", when=None):
    blank = template(db, tmp_path, department, period)
    out = fill(blank, tmp_path / (name or f"{department}-回.xlsx"),
               rows={row_of(blank, 3): ["正常推进", percent, f"{department}推进", "人手不足", "加派人员", "李老师"]})
    return saved_at(out, when) if when else out


def imported(db, files, **kw):
    with db.sessions() as s:
        previews = [read_return(s, f, TODAY) for f in files]
    check_batch(previews, kw.pop("collecting", None))
    with db.sessions.begin() as s:
        summary = commit(s, previews, "督导", TODAY, **kw)
    return previews, summary


def state_of_3(db):
    with db.sessions() as s:
        return compute_status(s, TODAY).targets[svc.target_id_for(s, 3, 2026)]


@pytest.mark.parametrize("order", ["lead first", "cooperating first"])
def test_lead_and_cooperating_returns_in_either_order(db, tmp_path, order):
    lead = filled(db, tmp_path, "区教委", 70)
    sports = filled(db, tmp_path, "区体育局", 30)
    imported(db, [lead, sports] if order == "lead first" else [sports, lead])
    target = state_of_3(db)
    assert (target.percent, target.reporting_department) == (70, "区教委")
    assert [(c.department, c.percent) for c in target.cooperating] == [("区体育局", 30)]


def test_a_cooperating_departments_template_offers_only_the_indicators_it_owns(db, tmp_path):
    path = template(db, tmp_path, "区体育局")
    names = {r[2] for r in load_workbook(path)["指标"].iter_rows(min_row=4, values_only=True) if r[2]}
    with db.sessions() as s:
        physical = svc.find_indicator(s, 3, "及格率")
    assert physical.name not in names  # measure 3's indicators are its lead's (区教委) to give
    assert physical.name in {r[2] for r in load_workbook(template(db, tmp_path, "区教委"))["指标"]
                             .iter_rows(min_row=4, values_only=True) if r[2]}


def test_a_cooperating_figure_for_the_leads_indicator_is_refused(db, tmp_path):
    with db.sessions.begin() as s:  # an older template offered every indicator to every department
        physical = svc.find_indicator(s, 3, "及格率")
        s.get(Indicator, physical.id).aggregate = "sum"
    blank = template(db, tmp_path, "区体育局")
    with db.sessions.begin() as s:
        s.get(Indicator, physical.id).aggregate = "lead"
    ws = load_workbook(blank)["指标"]
    row = next(r for r in range(4, ws.max_row + 1) if ws[f"C{r}"].value == physical.name)
    out = fill(blank, tmp_path / "体育局-回.xlsx", indicators={row: 95})
    with db.sessions() as s:
        preview = read_return(s, out, TODAY)
    bad = [r for r in preview.rows if r.kind == ERROR]
    assert len(bad) == 1 and "由牵头部门区教委填报" in bad[0].reason and not preview.ok


@pytest.mark.parametrize("order", ["older first", "newer first"])
def test_two_versions_of_one_return_the_later_saved_wins(db, tmp_path, order):
    older = filled(db, tmp_path, "区教委", 40, "第一版.xlsx", when=datetime(2026, 10, 2, 9, 0))
    newer = filled(db, tmp_path, "区教委", 60, "第二版.xlsx", when=datetime(2026, 10, 3, 16, 30))
    previews, summary = imported(db, [older, newer] if order == "older first" else [newer, older])
    assert summary.superseded == ["第一版.xlsx"]
    first = next(p for p in previews if p.file.name == "第一版.xlsx")
    assert first.superseded_by == "第二版.xlsx"
    assert state_of_3(db).percent == 60
    with db.sessions() as s:
        assert len([r for r in svc.list_reports(s, measure_no=3) if r.department == "区教委"]) == 1


def test_a_return_older_than_one_already_imported_is_refused_with_both_named(db, tmp_path, capsys):
    newer = filled(db, tmp_path, "区教委", 60, "第二版.xlsx", when=datetime(2026, 10, 3, 16, 30))
    imported(db, [newer])
    older = filled(db, tmp_path, "区教委", 40, "第一版.xlsx", when=datetime(2026, 10, 2, 9, 0))
    with db.sessions() as s:
        preview = read_return(s, older, TODAY)
    assert not preview.ok
    assert "比已导入的“第二版.xlsx”更旧" in preview.errors[0]
    assert "2026-10-02 09:00:00" in preview.errors[0] and "2026-10-03 16:30:00" in preview.errors[0]
    assert state_of_3(db).percent == 60


def test_a_closed_period_is_refused_at_the_preview(db, tmp_path, cli):
    path = filled(db, tmp_path, "区教委", 60)
    with db.sessions.begin() as s:
        svc.close_period(s, "2026Q3", "admin")
    code, out, err = cli("import", path, "--dry-run", "--today", TODAY.isoformat())
    assert code == 2 and "2026年第3季度（2026Q3）的填报周期已关闭" in out and "未导入任何内容" in err


def test_a_return_for_another_period_needs_an_explicit_choice(db, tmp_path, cli):
    q3 = filled(db, tmp_path, "区教委", 60)
    q2 = filled(db, tmp_path, "区体育局", 20, period="2026Q2")
    code, out, err = cli("import", q3, q2, "--today", TODAY.isoformat())
    assert code == 2 and "（不是本次回收的 2026Q3 周期）" in out and "区体育局-回.xlsx（2026Q2）" in err
    assert state_of_3(db).cooperating == ()  # nothing written
    code, out, err = cli("import", q3, q2, "--today", TODAY.isoformat(), "--accept-other-periods")
    assert code == 0, err
    with db.sessions() as s:
        reports = svc.list_reports(s, measure_no=3)
    assert sorted((r.department, r.period) for r in reports) == [("区体育局", "2026Q2"), ("区教委", "2026Q3")]

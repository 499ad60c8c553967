"""One truth for a target several departments report on: the lead's report sets its state; cooperating departments'
reports stand beside it; and "as of a day" means the same in status, the calendar, 考核, the workbook and the report.
"""

from datetime import date, datetime

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import update

from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.collection.export import export_workbook
from qjgb_desktop.services.documents.report import build_progress_report
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.progress.indicators import indicator_rows
from qjgb_desktop.services.progress.status import compute_status, department_targets, follow_ups, status_as_json
from qjgb_desktop.services.supervision.assessment import assess
from qjgb_desktop.store.models import Indicator, ProgressReport

TODAY = date(2026, 11, 20)


def report(period, day, department, percent, status="正常推进"):
    return ReportInput(period=period, report_date=day, department=department, reporter="张三", status=status,
                       percent=percent, done="推进", problems="进度偏慢", next_steps="加快推进")


def add(db, measure, rep, year=2026, entered=None):
    with db.sessions.begin() as s:
        view = svc.add_report(s, svc.target_id_for(s, measure, year), rep, "clerk", rep.report_date)
        if entered is not None:
            s.execute(update(ProgressReport).where(ProgressReport.id == view.id).values(created_at=entered))
    return view


def test_a_cooperating_report_never_overrides_the_lead(db):
    # 措施3·2026: lead 区教委 at 70 % (关注 on 20 November); 区体育局 reports its own part at 30 %, later the same day
    add(db, 3, report("2026Q4", date(2026, 11, 10), "区教委", 70))
    add(db, 3, report("2026Q4", date(2026, 11, 10), "区体育局", 30, status="滞后"))
    with db.sessions() as s:
        snap = compute_status(s, TODAY)
        tid = svc.target_id_for(s, 3, 2026)
    target = snap.targets[tid]
    assert (target.percent, target.reporting_department, target.reported_status) == (70, "区教委", "正常推进")
    assert target.state == "关注"
    assert [(c.department, c.percent, c.state) for c in target.cooperating] == [("区体育局", 30, "滞后")]
    assert all(f.target_id != tid for items in follow_ups(snap).values() for f in items)  # not chased: not red
    # its 30 % counts in 区体育局's own 配合 rollup, not in the lead's
    assert snap.departments["区体育局"]["cooperating"].red == 1
    assert snap.departments["区教委"]["lead"].red == 0
    mine = {d.measure_no: d for d in department_targets(snap, 2026)["区体育局"]}
    assert (mine[3].role, mine[3].percent, mine[3].state) == ("cooperating", 30, "滞后")
    out = status_as_json(snap)
    t3 = next(t for t in out["targets"] if t["measure"] == 3 and t["year"] == 2026)
    assert t3["lead"] == "区教委" and t3["cooperating"][0]["department"] == "区体育局"


def test_the_leaders_workbook_shows_cooperating_progress_beside_the_leads(db, tmp_path):
    add(db, 3, report("2026Q4", date(2026, 11, 10), "区教委", 70))
    add(db, 3, report("2026Q4", date(2026, 11, 10), "区体育局", 30, status="滞后"))
    with db.sessions() as s:
        export_workbook(s, tmp_path / "汇总.xlsx", today=TODAY)
    wb = load_workbook(tmp_path / "汇总.xlsx", read_only=True)
    rows = [r for r in wb["配合进展"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert [(r[0][:2], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows] == [
        ("3.", "区教委", "关注", 0.7, "区体育局", "滞后", 0.3)]
    annex = next(r for r in wb["年度目标进度安排表"].iter_rows(min_row=4, values_only=True)
                 if str(r[1] or "").startswith("3."))
    assert 0.7 in annex and 0.3 not in annex  # the target's own row is the lead's


def test_without_the_leads_report_the_target_is_not_reported_whoever_else_reported(db, cli):
    add(db, 3, report("2026Q4", date(2026, 11, 2), "区体育局", 90))
    add(db, 3, report("2026Q4", date(2026, 11, 3), "区财政局", 95))
    with db.sessions() as s:
        target = compute_status(s, TODAY).targets[svc.target_id_for(s, 3, 2026)]
    assert (target.state, target.percent, target.last_report) == ("未填报", 0, None)
    assert target.cooperating_this_period == 2
    code, out, _ = cli("status", "--today", TODAY.isoformat())
    assert code == 0 and "措施3·2026 未填报（配合部门已报 2 份）" in out


def test_file_order_and_entry_order_do_not_decide_whose_state_wins(db):
    """A report entered later but by a cooperating department (the same day, as one import gives every report)
    changes nothing: the order is the roles', not the entry's."""
    for first, second in (("区教委", "区体育局"), ("区体育局", "区教委")):
        with db.sessions.begin() as s:
            tid = svc.target_id_for(s, 3, 2026)
            for view in svc.list_reports(s, measure_no=3):
                svc.delete_report(s, view.id, "重来", "clerk")
        add(db, 3, report("2026Q4", date(2026, 11, 10), first, 70 if first == "区教委" else 30))
        add(db, 3, report("2026Q4", date(2026, 11, 10), second, 70 if second == "区教委" else 30))
        with db.sessions() as s:
            target = compute_status(s, TODAY).targets[tid]
        assert (target.percent, target.state) == (70, "关注"), (first, second)


def test_as_of_a_past_day_nothing_dated_after_it_is_seen(db, cli):
    add(db, 13, report("2026Q3", date(2026, 8, 14), "区教委", 50))
    add(db, 13, report("2026Q4", date(2026, 11, 16), "区教委", 90))  # dated after the day asked about
    with db.sessions() as s:
        tid = svc.target_id_for(s, 13, 2026)
        target = compute_status(s, date(2026, 9, 30)).targets[tid]
    assert (target.percent, target.last_report, target.days_since_report) == (50, date(2026, 8, 14), 47)
    code, out, _ = cli("status", "--today", "2026-09-30", "--json")
    days = [t["days_since_report"] for t in __import__("json").loads(out)["targets"] if t["days_since_report"]]
    assert code == 0 and days and min(days) >= 0


def test_a_report_written_after_its_period_counts_for_the_period(db):
    add(db, 13, report("2026Q3", date(2026, 10, 5), "区教委", 60))  # the third quarter's, written in October
    with db.sessions() as s:
        tid = svc.target_id_for(s, 13, 2026)
        target = compute_status(s, date(2026, 9, 30)).targets[tid]
        before = compute_status(s, date(2026, 9, 29)).targets[tid]
    assert (target.percent, target.last_report, target.days_since_report) == (60, date(2026, 9, 30), 0)
    assert before.percent == 0  # the quarter had not ended on the 29th


def test_status_export_report_and_assessment_agree_as_of_a_past_day(db, tmp_path):
    day = date(2026, 9, 30)
    add(db, 13, report("2026Q3", date(2026, 9, 10), "区教委", 70), entered=datetime(2026, 9, 10, 9))
    add(db, 13, report("2026Q4", date(2026, 10, 20), "区教委", 95), entered=datetime(2026, 10, 20, 9))
    add(db, 1, report("2026Q3", date(2026, 9, 1), "区委教育工委", 66), entered=datetime(2026, 9, 1, 9))
    add(db, 1, report("2026Q3", date(2026, 9, 2), "区委组织部", 10), entered=datetime(2026, 9, 2, 9))
    out = tmp_path / "汇总.xlsx"
    with db.sessions() as s:
        snap = compute_status(s, day)
        plan = snap.plan[2026].percent
        export_workbook(s, out, today=day)
        summary = build_progress_report(s, tmp_path / "季度.docx", period="2026Q3", today=date(2026, 10, 12))
        scores = {x.department: x for x in assess(s, 2026, day)}
    assert plan == round((70 + 66) / 20, 1) and summary.as_of == day
    overall = next(p.text for p in Document(tmp_path / "季度.docx").paragraphs if p.text.startswith("总体情况。"))
    assert f"总体完成度{plan:g}%" in overall  # the quarter's report (as of its end) says what status says
    ws = load_workbook(out, read_only=True)["年度目标进度安排表"]
    row13 = next(r for r in ws.iter_rows(min_row=4, values_only=True) if str(r[1] or "").startswith("13."))
    assert 0.7 in row13 and 0.95 not in row13  # the same 70 % as status, nothing dated after the day
    completion = scores["区教委"].component("completion")
    assert any("措施13·2026年：完成度 70%" in line for line in completion.records)


def test_only_the_lead_gives_an_indicators_figure_unless_it_is_declared_a_sum(db):
    with db.sessions.begin() as s:
        joint = svc.find_indicator(s, 2, "跨学段联合教研")
        s.execute(update(Indicator).where(Indicator.id == joint.id).values(aggregate="lead"))
        svc.set_indicator_value(s, joint.id, 5, date(2026, 9, 1), "clerk", TODAY)  # the lead's, by default
        svc.set_indicator_value(s, joint.id, 6, date(2026, 9, 2), "clerk", TODAY, department=_cooperating(s, 2))
    with db.sessions() as s:
        row = next(r for r in indicator_rows(s, 2) if r["indicator_id"] == joint.id)
    assert row["latest"]["value"] == 5 and row["latest"]["department"] == row["lead"]  # not the later 6
    with db.sessions() as s:
        assert {v["department"] for v in row["values"]} == {row["lead"], _cooperating(s, 2)}
    with db.sessions.begin() as s:
        s.execute(update(Indicator).where(Indicator.id == joint.id).values(aggregate="sum"))
    with db.sessions() as s:
        row = next(r for r in indicator_rows(s, 2) if r["indicator_id"] == joint.id)
    assert row["latest"]["value"] == 11 and row["latest"]["source"] == "sum"


def _cooperating(s, measure_no):
    from qjgb_desktop.services.plan.query import plan_tree

    return plan_tree(s).measure(measure_no).cooperating[0]


def test_assessment_ranks_departments_only_against_their_kind(db):
    add(db, 13, report("2026Q3", date(2026, 9, 10), "区教委", 70))
    with db.sessions() as s:
        scores = assess(s, 2026, TODAY)
    groups = {x.department: x.group for x in scores}
    assert groups["区教委"] == groups["区委教育工委"] == "牵头部门"
    assert groups["各街乡镇"] == "街乡镇" and groups["区体育局"] == "仅配合部门"
    leads = [x for x in scores if x.group == "牵头部门"]
    assert all(x.rank is not None for x in leads) and sorted(x.rank for x in leads)[0] == 1
    sports = next(x for x in scores if x.department == "区体育局")
    assert sports.rank is None and sports.rank_label == "不参与排名" and "不足总权重的一半" in sports.note
    assert not any(c.counted for c in sports.components)  # nothing it was asked to do: no marks, none given
    assert sports.as_json()["group"] == "仅配合部门" and sports.as_json()["ranked"] is False


def test_on_the_demonstration_data_no_department_leading_nothing_ranks_above_the_bureau(tmp_path, monkeypatch):
    import subprocess
    import sys

    from conftest import ROOT

    folder = tmp_path / "demo"
    subprocess.run([sys.executable, str(ROOT / "tools" / "demo_data.py"), str(folder)], check=True,
                   capture_output=True)
    from qjgb_desktop import paths
    from qjgb_desktop.services.safety.database import open_database

    paths.set_data_dir(folder)
    try:
        db = open_database()
        with db.sessions() as s:
            scores = assess(s, 2026, date(2026, 11, 20))
        db.close()
    finally:
        paths.set_data_dir(None)
    bureau = next(x for x in scores if x.department == "区教委")
    assert bureau.group == "牵头部门" and bureau.rank is not None
    for x in scores:
        if x.group != "牵头部门" and x.rank is not None:
            pytest.fail(f"{x.department}（{x.group}）is ranked against the lead departments' scale")

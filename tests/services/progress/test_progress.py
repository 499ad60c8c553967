"""Progress reports through the services: revisions, soft deletes, audit, locked periods, indicator values, status."""

from datetime import date

import pytest
from sqlalchemy import func, select

from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.progress.indicators import indicator_rows
from qjgb_desktop.services.progress.status import compute_status, department_targets, follow_ups, status_as_json
from qjgb_desktop.services.settings.record import SettingError, add_admin, set_thresholds
from qjgb_desktop.store.models import AuditEvent, ProgressReport

TODAY = date(2026, 7, 2)


def report(**changes):
    base = dict(period="2026Q3", report_date=date(2026, 7, 1), department="区教委", reporter="张三",
                status="正常推进", percent=50, done="推进学历提升计划", problems="", next_steps="")
    base.update(changes)
    return ReportInput(**base)


@pytest.fixture
def target13(db):
    with db.sessions() as s:
        return svc.target_id_for(s, 13, 2026)


def add(db, target, actor="clerk", **changes):
    with db.sessions.begin() as s:
        return svc.add_report(s, target, report(**changes), actor, TODAY)


def audit_count(db):
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


def test_add_report_and_its_audit_entry(db, target13):
    before = audit_count(db)
    r = add(db, target13)
    assert (r.measure_no, r.year, r.percent, r.department, r.revision) == (13, 2026, 50, "区教委", 1)
    with db.sessions() as s:
        event = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert audit_count(db) == before + 1
    assert (event.actor, event.action, event.entity_id, event.before) == ("clerk", "report.add", r.id, None)
    assert event.after["percent"] == 50 and event.after["department"] == "区教委"


def test_an_invalid_report_writes_nothing(db, target13):
    before = audit_count(db)
    with pytest.raises(svc.ValidationFailed) as exc:
        add(db, target13, percent=120, department="区体育局")
    assert "完成度" in str(exc.value) and "区体育局" in str(exc.value)
    assert {p.field for p in exc.value.problems} == {"percent", "department"}
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProgressReport)) == 0
    assert audit_count(db) == before


def test_a_correction_is_a_new_revision_and_the_old_one_stays(db, target13):
    first = add(db, target13)
    with db.sessions.begin() as s:
        second = svc.correct_report(s, first.id, report(percent=55, done="更正：已完成招聘"), "reviewer", TODAY)
    assert second.revision == 2 and second.series_id == first.id
    with db.sessions() as s:
        current = svc.list_reports(s, measure_no=13)
        history = svc.report_history(s, first.id)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "report.correct")).one()
    assert [r.id for r in current] == [second.id]
    assert [(r.revision, r.percent, r.is_current, r.created_by) for r in history] == [
        (2, 55, True, "reviewer"), (1, 50, False, "clerk")]
    assert event.before["percent"] == 50 and event.after["percent"] == 55
    assert event.before["done"] == "推进学历提升计划" and event.after["done"] == "更正：已完成招聘"
    with pytest.raises(svc.ReportConflict, match="在你打开之后已被 reviewer") as conflict:
        with db.sessions.begin() as s:
            svc.correct_report(s, first.id, report(percent=60), "x", TODAY)
    assert conflict.value.opened.id == first.id and conflict.value.current.id == second.id


def test_two_people_correcting_the_same_report_at_once(db, target13):
    """Both opened revision 1; both save at the same moment from their own sessions (threads here, PCs in
    reality): one wins, the other gets the winner's version to choose from, and nothing is overwritten."""
    import threading

    first = add(db, target13)
    barrier = threading.Barrier(2)
    outcome = {}

    def save(name, percent):
        barrier.wait()
        try:
            with db.sessions.begin() as s:
                outcome[name] = svc.correct_report(s, first.id, report(percent=percent, done=f"{name}的修改"),
                                                   name, TODAY)
        except svc.ReportConflict as exc:
            outcome[name] = exc
    threads = [threading.Thread(target=save, args=(n, p)) for n, p in (("甲", 60), ("乙", 70))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, r in outcome.items() if not isinstance(r, Exception)]
    assert len(winners) == 1
    loser = next(n for n in outcome if n not in winners)
    conflict = outcome[loser]
    assert conflict.current.created_by == winners[0] and conflict.current.done == f"{winners[0]}的修改"
    with db.sessions() as s:
        history = svc.report_history(s, first.id)
    assert [(r.revision, r.is_current) for r in history] == [(2, True), (1, False)]
    assert history[0].created_by == winners[0]


def test_delete_is_soft_with_a_reason(db, target13):
    r = add(db, target13)
    with pytest.raises(svc.ProgressError, match="原因"):
        with db.sessions.begin() as s:
            svc.delete_report(s, r.id, "  ", "clerk")
    with db.sessions.begin() as s:
        svc.delete_report(s, r.id, "重复填报", "clerk")
    with db.sessions() as s:
        assert svc.list_reports(s, measure_no=13) == []
        kept = svc.list_reports(s, measure_no=13, include_history=True, include_deleted=True)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "report.delete")).one()
    assert kept[0].deleted and kept[0].delete_reason == "重复填报" and kept[0].deleted_by == "clerk"
    assert event.reason == "重复填报" and event.before["percent"] == 50


def test_closing_a_period_locks_its_reports_and_an_admin_reopens_with_a_reason(db, target13):
    r = add(db, target13)
    with db.sessions.begin() as s:
        svc.close_period(s, "2026q3", "clerk")
    for action in (lambda s: svc.correct_report(s, r.id, report(percent=60), "clerk", TODAY),
                   lambda s: svc.delete_report(s, r.id, "x", "clerk"),
                   lambda s: svc.add_report(s, target13, report(), "clerk", TODAY)):
        with pytest.raises(svc.ProgressError, match="已关闭"):
            with db.sessions.begin() as s:
                action(s)
    with pytest.raises(svc.ProgressError, match="只有管理员"):
        with db.sessions.begin() as s:
            svc.reopen_period(s, "2026Q3", "更正数据", "clerk")
    with db.sessions.begin() as s:
        add_admin(s, "科长", "clerk")
    with pytest.raises(SettingError, match="只有管理员"):
        with db.sessions.begin() as s:
            add_admin(s, "clerk", "clerk")
    with pytest.raises(svc.ProgressError, match="原因"):
        with db.sessions.begin() as s:
            svc.reopen_period(s, "2026Q3", "", "科长")
    with db.sessions.begin() as s:
        svc.reopen_period(s, "2026Q3", "部门报错了数据", "科长")
    with db.sessions() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "period.reopen")).one()
        assert (event.actor, event.reason) == ("科长", "部门报错了数据")
    with db.sessions.begin() as s:
        svc.correct_report(s, r.id, report(percent=60), "clerk", TODAY)


def test_indicator_values_and_whether_they_meet_the_target(db):
    with db.sessions.begin() as s:
        age = svc.find_indicator(s, 12, "平均年龄")
        svc.set_indicator_value(s, age.id, "49.3", date(2026, 6, 30), "clerk", TODAY)
        degree = svc.find_indicator(s, 13, "本科")
        svc.set_indicator_value(s, degree.id, "96.8%", date(2026, 6, 30), "clerk", TODAY)
    with db.sessions() as s:
        rows = {r["name"]: r for r in indicator_rows(s)}
    assert rows["校科级干部平均年龄"]["latest"] == {"value": 49.3, "as_of": "2026-06-30", "department": "区委教育工委",
                                               "source": "manual"}  # entered on its own: the lead's figure
    assert rows["校科级干部平均年龄"]["met"] is False  # 2026 target ≤ 49.2
    assert rows["专任教师本科及以上学历占比"]["met"] is True  # 2026 target ≥ 96.7
    assert rows["专任教师研究生学历占比"]["met"] is None  # nothing entered
    with pytest.raises(svc.ValidationFailed, match="请输入数字"):
        with db.sessions.begin() as s:
            svc.set_indicator_value(s, age.id, "四十九", date(2026, 6, 30), "clerk", TODAY)
    with pytest.raises(svc.ProgressError, match="可选"):
        with db.sessions() as s:
            svc.find_indicator(s, 12, "不存在的指标")


def test_indicator_values_entered_with_a_report(db, target13):
    with db.sessions() as s:
        ind = svc.find_indicator(s, 13, "研究生学历")
    r = None
    with db.sessions.begin() as s:
        r = svc.add_report(s, target13, report(), "clerk", TODAY, indicator_values={ind.id: "9.7"})
    with db.sessions() as s:
        row = next(x for x in indicator_rows(s, 13) if x["indicator_id"] == ind.id)
    assert row["values"][0]["report_id"] == r.id and row["met"] is True
    with pytest.raises(svc.ValidationFailed, match="研究生学历占比"):
        with db.sessions.begin() as s:
            svc.add_report(s, target13, report(), "clerk", TODAY, indicator_values={ind.id: "很多"})
    with db.sessions() as s:
        assert len(svc.list_reports(s, measure_no=13)) == 1  # the failed one left nothing


def test_status_rollups_and_follow_ups(db):
    with db.sessions() as s:
        t1 = svc.target_id_for(s, 1, 2026)
        t3 = svc.target_id_for(s, 3, 2026)
        t13 = svc.target_id_for(s, 13, 2026)
        t13_2025 = svc.target_id_for(s, 13, 2025)
    add(db, t3, percent=50)
    add(db, t13, status="滞后", percent=20, problems="编制不足", next_steps="申请专项编制")
    add(db, t13_2025, period="2025Q4", report_date=date(2025, 12, 20), percent=100, status="已完成")
    add(db, t1, period="2026Q2", report_date=date(2026, 6, 1), department="区委教育工委", percent=40)
    with db.sessions() as s:
        snap = compute_status(s, TODAY)
    out = status_as_json(snap)
    by = {(t["measure"], t["year"]): t for t in out["targets"]}
    assert by[(3, 2026)]["state"] == "正常"
    assert by[(13, 2026)]["state"] == "滞后"
    assert by[(13, 2025)]["state"] == "已完成"
    assert by[(1, 2026)]["state"] == "未填报"  # reported last quarter, not this one
    assert by[(1, 2026)]["last_report"] == "2026-06-01" and by[(1, 2026)]["days_since_report"] == 31
    assert by[(2, 2025)]["state"] == "逾期" and by[(2, 2027)]["state"] == "未开始"
    action1 = next(a for a in out["actions"] if a["no"] == 1)
    assert action1["percent"] == 18.0  # measures 1–5 in 2026: (40 + 0 + 50 + 0 + 0) / 5
    assert out["plan"]["percent"] == 5.5  # (40 + 50 + 20) / 20 measures
    jw = next(d for d in out["departments"] if d["name"] == "区教委")
    assert jw["lead"]["red"] == 1 and jw["lead"]["count"] == 10
    fu = follow_ups(snap)
    states = [f.state for f in fu["区教委"]]
    assert ("滞后", 13, 2026) in [(f.state, f.measure_no, f.year) for f in fu["区教委"]]
    assert states == sorted(states, key=["逾期", "滞后", "未填报"].index)  # most urgent first
    assert all(f.state in ("滞后", "逾期", "未填报") for items in fu.values() for f in items)
    dept = department_targets(snap, 2026)
    assert {(d.role, d.measure_no) for d in dept["区财政局"]} >= {("cooperating", 13), ("cooperating", 3)}


def test_thresholds_change_the_lights(db, target13):
    add(db, target13, percent=35, problems="招聘延后", next_steps="7月补招")
    with db.sessions() as s:
        assert compute_status(s, TODAY).targets[target13].state == "关注"
    with db.sessions.begin() as s:
        set_thresholds(s, 20, 30, "admin")
    with db.sessions() as s:
        assert compute_status(s, TODAY).targets[target13].state == "正常"
    with pytest.raises(SettingError):
        with db.sessions.begin() as s:
            set_thresholds(s, 40, 30, "admin")


def test_form_defaults_for_a_clerk(db, target13):
    with db.sessions() as s:
        d = svc.form_defaults(s, target13, TODAY, "王老师")
    assert (d.period, d.report_date, d.department, d.reporter) == ("2026Q3", TODAY, "区教委", "王老师")
    add(db, target13, reporter="李主任")
    with db.sessions() as s:
        assert svc.form_defaults(s, target13, TODAY, "王老师").reporter == "李主任"
        future = svc.form_defaults(s, svc.target_id_for(s, 13, 2027), TODAY, "王老师")
    assert future.period == "2027Q1"


def test_a_period_closed_on_one_pc_is_closed_on_every_pc_at_once(db, target13):
    """Two program instances on the same database (two PCs on one server, or on one shared file)."""
    from qjgb_desktop.services.safety.database import open_database

    add(db, target13)
    other = open_database(db.url)
    try:
        with other.sessions.begin() as s:
            svc.close_period(s, "2026Q3", "督导")
        with pytest.raises(svc.ProgressError, match="已关闭"):
            add(db, target13, done="另一台电脑上晚了一步")
        with db.sessions() as s:
            assert "2026Q3" in svc.closed_periods(s)
    finally:
        other.close()

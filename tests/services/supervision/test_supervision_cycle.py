"""The reporting calendar, 督办 to closure and 考核, on hand-made records with known answers."""

import hashlib
import json
from datetime import date, datetime

import pytest
from docx import Document
from sqlalchemy import func, select, update

from qjgb_desktop.domain.periods import parse_period
from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.evidence.records import attach
from qjgb_desktop.services.progress import reports as progress
from qjgb_desktop.services.settings import record as settings
from qjgb_desktop.services.supervision import assessment, calendar
from qjgb_desktop.services.supervision import items as supervision
from qjgb_desktop.store.models import AuditEvent, ProgressReport, SupervisionItem, SupervisionStep

# Measure 13 is led by 区教委; measure 2's lead is 区文化和旅游局 (checked in test_known_departments).
TODAY = date(2026, 11, 20)


def _report(period, department, percent=50, status="正常推进", day=date(2026, 7, 1)):
    return ReportInput(period=period, report_date=day, department=department, reporter="张三", status=status,
                       percent=percent, done="做了", problems="人手不足", next_steps="加派人员")


def add(db, measure, year, period, department, entered, **kw):
    """A report as if it reached the program at `entered` (created_at is what timeliness is measured on)."""
    with db.sessions.begin() as s:
        tid = progress.target_id_for(s, measure, year)
        kw.setdefault("day", entered.date())
        view = progress.add_report(s, tid, _report(period, department, **kw), "clerk", entered.date())
        s.execute(update(ProgressReport).where(ProgressReport.id == view.id).values(created_at=entered))
        return view


@pytest.fixture
def m13(db):
    with db.sessions() as s:
        from qjgb_desktop.services.plan.query import plan_tree

        m = plan_tree(s).measure(13)
        return m


def test_due_dates_follow_the_setting_and_a_period_override(db):
    with db.sessions() as s:
        st = settings.load_settings(s)
    assert calendar.due_date(st, parse_period("2026Q3")) == date(2026, 10, 10)
    with db.sessions.begin() as s:
        settings.set_due_days(s, 15, "admin")
        settings.set_due_override(s, "2026Q4", date(2027, 1, 5), "admin")
    with db.sessions() as s:
        st = settings.load_settings(s)
    assert calendar.due_date(st, parse_period("2026Q3")) == date(2026, 10, 15)
    assert calendar.due_date(st, parse_period("2026Q4")) == date(2027, 1, 5)
    with db.sessions.begin() as s, pytest.raises(settings.SettingError):
        settings.set_due_days(s, -1, "admin")


def test_on_time_late_and_missing_are_measured_by_when_reports_were_entered(db, m13):
    q3 = parse_period("2026Q3")  # due 2026-10-10
    lead, coop = m13.lead, m13.cooperating[0]
    with db.sessions.begin() as s:  # measure 13's cooperating departments owe reports of their own
        settings.set_cooperating_duty(s, "13", "admin")
    add(db, 13, 2026, "2026Q3", lead, datetime(2026, 10, 9, 17, 0))  # on time
    late = add(db, 13, 2026, "2026Q3", coop, datetime(2026, 10, 12, 9, 0))  # two days late
    # A correction after the due date does not make the lead's report late; an early correction of the late one
    # cannot exist, and a back-dated report date does not make it early.
    with db.sessions.begin() as s:
        first = progress.list_reports(s, measure_no=13)[-1]
        progress.correct_report(s, first.id, _report("2026Q3", lead, percent=60), "clerk", date(2026, 11, 1))
    with db.sessions() as s:
        subs = {x.department: x for x in calendar.submissions(s, q3, TODAY)}
        owed = calendar.owed_reports(s, [q3], department=coop)
    assert subs[lead].on_time >= 1 and all(o.state == "已报" for o in subs[lead].owed if o.measure_no == 13)
    row = next(o for o in owed if o.measure_no == 13)
    assert row.state == "逾期报" and row.report_id == late.id
    assert subs[coop].late == 1
    # A department that owes measure 13 and sent nothing: 未报, overdue since the due date has passed.
    others = [d for d in m13.cooperating[1:] if subs[d].received == 0]
    assert others and subs[others[0]].state == "未报" and subs[others[0]].overdue
    # Counts add up for everyone.
    assert all(x.on_time + x.late + x.missing == x.expected for x in subs.values())


def test_only_the_lead_owes_reports_unless_the_setting_says_otherwise(db, m13):
    q3 = parse_period("2026Q3")
    with db.sessions() as s:
        subs = {x.department: x for x in calendar.submissions(s, q3, TODAY)}
    assert "区财政局" not in subs  # it only cooperates: it owes nothing, and nothing weighs on its 按时报送率
    assert subs[m13.lead].expected == 10 and all(o.role == "lead" for o in subs[m13.lead].owed)
    with db.sessions.begin() as s:
        settings.set_cooperating_duty(s, "all", "admin")
    with db.sessions() as s:
        subs = {x.department: x for x in calendar.submissions(s, q3, TODAY)}
    assert subs["区财政局"].expected == 14 and {o.role for o in subs["区财政局"].owed} == {"cooperating"}
    with db.sessions.begin() as s, pytest.raises(settings.SettingError, match="没有措施 21"):
        settings.set_cooperating_duty(s, "3,21", "admin")


def test_the_plan_record_can_say_a_measures_cooperating_departments_report_too(db, tmp_path):
    from qjgb_desktop.services.plan.load import PlanRecordError, builtin_plan_record, load_plan, read_plan_file

    record = builtin_plan_record()
    measure = next(m for a in record["actions"] for m in a["measures"] if m["no"] == 3)
    measure["cooperating_report"] = True
    with db.sessions.begin() as s:
        load_plan(s, record, actor="admin")
    with db.sessions() as s:
        subs = {x.department: x for x in calendar.submissions(s, parse_period("2026Q3"), TODAY)}
    assert {o.measure_no for o in subs["区体育局"].owed} == {3}  # only measure 3 says so
    assert "区财政局" in subs and all(o.measure_no == 3 for o in subs["区财政局"].owed)
    measure["cooperating_report"] = "是"
    path = tmp_path / "计划.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(PlanRecordError, match="cooperating_report 应为 true 或 false"):
        read_plan_file(path)


def test_a_report_entered_after_the_day_asked_about_has_not_been_received(db, m13):
    add(db, 13, 2026, "2026Q3", m13.lead, datetime(2026, 10, 9, 17, 0), day=date(2026, 9, 30))
    with db.sessions() as s:
        before = calendar.owed_reports(s, [parse_period("2026Q3")], department=m13.lead, today=date(2026, 10, 8))
        after = calendar.owed_reports(s, [parse_period("2026Q3")], department=m13.lead, today=date(2026, 10, 9))
    assert next(o for o in before if o.measure_no == 13).state == "未报"
    assert next(o for o in after if o.measure_no == 13).state == "已报"


def test_a_monthly_report_counts_for_its_quarter(db, m13):
    add(db, 13, 2026, "2026-08", m13.lead, datetime(2026, 8, 31, 10, 0))
    with db.sessions() as s:
        owed = calendar.owed_reports(s, [parse_period("2026Q3")], department=m13.lead)
    assert next(o for o in owed if o.measure_no == 13).state == "已报"


def test_what_falls_due_within_seven_days(db):
    with db.sessions() as s:
        soon = calendar.due_soon(s, date(2026, 10, 5))
        none = calendar.due_soon(s, date(2026, 10, 11))
    assert [d.period.code for d in soon] == ["2026Q3"] and soon[0].days_left == 5
    assert soon[0].departments and all(d.missing for d in soon[0].departments)
    assert none == []


def audit_actions(db, item_id):
    with db.sessions() as s:
        return [(e.action, e.actor) for e in s.scalars(select(AuditEvent).where(
            AuditEvent.entity == "supervision_item", AuditEvent.entity_id == item_id).order_by(AuditEvent.id))]


def test_an_item_through_all_its_steps_with_the_audit_trail(db, tmp_path, m13):
    notice = tmp_path / "督办通知单-区教委.docx"
    notice.write_bytes(b"notice")
    with db.sessions() as s:
        tid = progress.target_id_for(s, 13, 2026)
    with db.sessions.begin() as s:
        item = supervision.open_item(s, "督导甲", date(2026, 11, 2), target_id=tid, reason="完成度偏低")
    assert item.department == m13.lead and item.stage == "立项"
    with db.sessions.begin() as s, pytest.raises(supervision.SupervisionError, match="不能反馈"):
        supervision.answer(s, item.id, "督导甲", date(2026, 11, 3), "已整改")
    with db.sessions.begin() as s:
        item = supervision.assign(s, item.id, "督导甲", date(2026, 11, 3), "区教委 李科长", notice=notice)
    assert item.stage == "交办" and item.feedback_due == date(2026, 11, 10)
    assert item.steps[-1].notice_file == notice.name and len(item.steps[-1].notice_sha256) == 64
    with db.sessions() as s:
        assert supervision.list_items(s, date(2026, 11, 11), overdue_only=True)[0].id == item.id
    ev = tmp_path / "整改说明.pdf"
    ev.write_bytes(b"%PDF-1.4 evidence")
    with db.sessions.begin() as s:
        evidence_id = attach(s, tid, [ev], "区教委 李科长")[0].id
    with db.sessions.begin() as s:
        item = supervision.answer(s, item.id, "区教委 李科长", date(2026, 11, 8), "已补报进展", [evidence_id])
    assert item.steps[-1].evidence_ids == (evidence_id,) and not item.overdue
    with db.sessions.begin() as s:
        item = supervision.continue_item(s, item.id, "督导甲", date(2026, 11, 9), "佐证不足",
                                         feedback_due=date(2026, 11, 16))
        item = supervision.answer(s, item.id, "区教委 李科长", date(2026, 11, 15), "补充了会议纪要")
        item = supervision.close(s, item.id, "督导甲", date(2026, 11, 16), "同意办结")
    assert [st.kind for st in item.steps] == ["立项", "交办", "反馈", "继续督办", "反馈", "办结"]
    assert item.closed_on == date(2026, 11, 16) and item.stage == "办结"
    assert [a for a, _ in audit_actions(db, item.id)] == [
        "supervision.open", "supervision.assign", "supervision.answer", "supervision.continue",
        "supervision.answer", "supervision.close"]
    assert audit_actions(db, item.id)[2][1] == "区教委 李科长"
    with db.sessions.begin() as s, pytest.raises(supervision.SupervisionError, match="已办结"):
        supervision.continue_item(s, item.id, "督导甲", date(2026, 11, 17), "再看看")
    with db.sessions() as s:
        assert [i.id for i in supervision.list_items(s, TODAY, target_id=tid)] == [item.id]
        assert supervision.list_items(s, TODAY, open_only=True) == []


def test_refused_steps_change_nothing(db):
    with db.sessions() as s:
        tid = progress.target_id_for(s, 13, 2026)
    with db.sessions.begin() as s:
        supervision.open_item(s, "督导甲", date(2026, 11, 2), target_id=tid, reason="x")

    def counts():
        with db.sessions() as s:
            return (s.scalar(select(func.count()).select_from(SupervisionItem)),
                    s.scalar(select(func.count()).select_from(SupervisionStep)),
                    s.scalar(select(func.count()).select_from(AuditEvent)))
    before = counts()
    cases = [
        lambda s: supervision.open_item(s, "督导甲", date(2026, 11, 2), target_id=tid, reason="again"),  # open one
        lambda s: supervision.open_item(s, "督导甲", date(2026, 11, 2), department="区教委"),  # no reason
        lambda s: supervision.open_item(s, "督导甲", date(2026, 11, 2), department="没有这个局", reason="x"),
        lambda s: supervision.assign(s, 1, "督导甲", date(2026, 11, 1), "李"),  # before 立项
        lambda s: supervision.assign(s, 1, "督导甲", date(2026, 11, 3), "  "),  # to nobody
        lambda s: supervision.assign(s, 1, "", date(2026, 11, 3), "李"),  # no actor
        lambda s: supervision.close(s, 1, "督导甲", date(2026, 11, 3)),  # not answered
        lambda s: supervision.answer(s, 99, "督导甲", date(2026, 11, 3), "x"),  # no such item
    ]
    for case in cases:
        with pytest.raises(supervision.SupervisionError):
            with db.sessions.begin() as s:
                case(s)
    assert counts() == before


def test_items_from_lagging_targets_once_each(db):
    with db.sessions.begin() as s:
        made = supervision.open_from_follow_ups(s, "督导甲", TODAY, department="区教委")
    assert made and all(i.origin == "target" and i.department == "区教委" for i in made)
    with db.sessions.begin() as s:
        again = supervision.open_from_follow_ups(s, "督导甲", TODAY, department="区教委")
    assert again == []


def test_scores_on_a_record_with_known_answers(db, tmp_path, m13):
    """区教委 leads measure 13; one on-time report at 50% with expected 50% → completion of that target 100."""
    year = 2026
    day = date(2026, 10, 20)
    with db.sessions() as s:
        st = settings.load_settings(s)
        due_periods = calendar.year_periods_due(st, year, day)
    assert [p.code for p in due_periods] == ["2026Q1", "2026Q2", "2026Q3"]
    with db.sessions.begin() as s:
        settings.set_weights(s, {"completion": 50, "timeliness": 50, "evidence": 0, "supervision": 0}, "admin")
    with db.sessions() as s:
        scores = {x.department: x for x in assessment.assess(s, year, day)}
        rule = assessment.rule_text(s)
    nobody = scores["区教委"]
    assert nobody.component("completion").score == 0.0 and nobody.component("timeliness").score == 0.0
    assert nobody.total == 0.0 and "完成度 50" in rule and "按时报送率 50" in rule
    owed = nobody.component("timeliness").denominator
    # One report on time for Q3 on measure 13 at the expected completion.
    from qjgb_desktop.domain.status import expected_percent

    pct = round(expected_percent(year, day))
    add(db, 13, 2026, "2026Q3", "区教委", datetime(2026, 10, 1, 9, 0), percent=pct)
    with db.sessions() as s:
        after = {x.department: x for x in assessment.assess(s, year, day)}["区教委"]
        n_lead = len([m for m in __import__("qjgb_desktop.services.plan.query", fromlist=["x"]).plan_tree(s)
                      .measures() if m.lead == "区教委"])
    c = after.component("completion")
    assert c.denominator == n_lead and c.numerator == pytest.approx(min(1, pct / expected_percent(year, day)), 1e-3)
    assert c.score == pytest.approx(100 * c.numerator / n_lead, abs=0.05)
    t = after.component("timeliness")
    assert (t.numerator, t.denominator) == (1, owed)
    assert after.total == pytest.approx(round((c.score * 50 + t.score * 50) / 100, 1), abs=0.05)
    assert any("措施13·2026年：完成度" in r for r in c.records)
    assert any("2026Q3 措施13·2026年（牵头）：已报" in r for r in t.records)
    # A department leading nothing: completion and evidence are left out, not zero.
    coop_only = next(x for x in scores.values() if x.component("completion").denominator == 0)
    assert coop_only.component("completion").score is None and coop_only.component("evidence").score is None


def test_closed_supervision_and_evidence_in_the_score(db, tmp_path):
    day, later = date(2026, 11, 2), date(2026, 11, 20)  # 交办 on the 2nd asks for an answer by the 9th
    with db.sessions() as s:
        tid = progress.target_id_for(s, 13, 2026)
    with db.sessions.begin() as s:
        a = supervision.open_item(s, "督导", day, target_id=tid, reason="x")
        b = supervision.open_item(s, "督导", day, department="区教委", reason="会议安排")
        supervision.assign(s, a.id, "督导", day, "李")
        supervision.assign(s, b.id, "督导", day, "李")
        supervision.answer(s, a.id, "李", day, "好")
        supervision.close(s, a.id, "督导", day)
        supervision.open_item(s, "督导", later, department="区教委", reason="刚立项，尚未到期")
        f = tmp_path / "a.pdf"
        f.write_bytes(b"%PDF-1.4 a")
        attach(s, tid, [f], "李")
    with db.sessions() as s:
        me = {x.department: x for x in assessment.assess(s, 2026, later)}["区教委"]
    sup, ev = me.component("supervision"), me.component("evidence")
    assert (sup.numerator, sup.denominator, sup.score) == (1, 2, 50.0)  # the item not yet due is not counted
    assert ev.numerator == 1 and ev.score == pytest.approx(100 / ev.denominator, abs=0.05)
    assert any("督办 #" in r and "办结" in r for r in sup.records)


def test_opening_an_item_never_lowers_a_score_by_itself(db):
    day = date(2026, 11, 20)
    with db.sessions() as s:
        before = {x.department: x for x in assessment.assess(s, 2026, day)}
    with db.sessions.begin() as s:
        item = supervision.open_item(s, "督导", day, department="区委教育工委", reason="进度偏慢")
        supervision.assign(s, item.id, "督导", day, "王")
    with db.sessions() as s:
        after = {x.department: x for x in assessment.assess(s, 2026, day)}
        due = {x.department: x for x in assessment.assess(s, 2026, date(2026, 12, 1))}
    assert after["区委教育工委"].total == before["区委教育工委"].total
    assert not after["区委教育工委"].component("supervision").counted  # no item has fallen due: no marks either way
    assert due["区委教育工委"].component("supervision").score == 0.0  # once due and not closed, it counts


def test_the_command_line_through_a_whole_item(cli, tmp_path):
    code, out, _ = cli("supervise", "open", "--measure", 13, "--year", 2026, "--reason", "进度偏慢",
                       "--date", "2026-11-02", user="督导甲")
    assert code == 0 and "已立项：#1 措施13·2026年" in out
    code, _, err = cli("supervise", "close", 1)
    assert code == 2 and "当前为“立项”，不能办结" in err
    notice = tmp_path / "通知单.docx"
    notice.write_bytes(b"x")
    assert cli("supervise", "assign", 1, "--to", "李科长", "--notice", notice, "--date", "2026-11-03",
               "--due", "2026-11-06")[0] == 0
    code, out, _ = cli("supervise", "list", "--overdue")
    assert code == 0 and "#1" in out and "[已逾期]" in out
    assert cli("supervise", "answer", 1, "--text", "已整改", "--date", "2026-11-05", user="李科长")[0] == 0
    assert cli("supervise", "close", 1, "--note", "同意", "--date", "2026-11-06")[0] == 0
    code, out, _ = cli("supervise", "list", "--json")
    steps = json.loads(out)[0]["steps"]
    assert [s["kind"] for s in steps] == ["立项", "交办", "反馈", "办结"]
    assert [s["actor"] for s in steps] == ["督导甲", "王老师", "李科长", "王老师"]
    code, out, _ = cli("audit", "--json")
    assert code == 0


def test_the_command_line_calendar_assessment_and_settings(cli):
    code, out, _ = cli("calendar", "--period", "2026Q3", "--today", "2026-10-05", "--json")
    data = json.loads(out)
    assert code == 0 and data["due"] == "2026-10-10" and data["due_soon"][0]["period"] == "2026Q3"
    assert all(d["state"] == "未报" and not d["overdue"] for d in data["departments"])
    assert cli("calendar", "--period", "2026Q9")[0] == 2
    assert cli("settings", "--due-date", "2026Q3=2026-10-03")[0] == 0
    data = json.loads(cli("calendar", "--period", "2026Q3", "--today", "2026-10-05", "--json")[1])
    assert data["due"] == "2026-10-03" and all(d["overdue"] for d in data["departments"])
    code, _, err = cli("settings", "--weight", "luck=10")
    assert code == 2 and "luck" in err
    code, out, _ = cli("assess", "--year", 2026, "--today", "2026-11-20", "--department", "区教委")
    assert code == 0 and "措施13·2026年：完成度 0%（牵头部门未报）" in out and "考核得分" in out
    assert cli("assess", "--year", 2026, "--department", "区外星局")[0] == 2


def test_notices_recorded_as_the_sending_of_each_departments_items(cli, tmp_path):
    code, out, _ = cli("notice", "--department", "区教委", "--out", tmp_path, "--today", "2026-11-20", "--register")
    first = tmp_path / "督办通知单-区教委-2026-11-20-督办〔2026〕1号.docx"  # the number in the name too
    assert code == 0 and f"已生成：{first}" in out and "已登记发文 1 份" in out
    items = json.loads(cli("supervise", "list", "--json")[1])
    assert items and all(i["department"] == "区教委" and i["stage"] == "交办" for i in items)
    assert all(f"通知单 督办〔2026〕1号 {first.name}" in i["steps"][-1]["summary"] for i in items)
    cli("notice", "--department", "区教委", "--out", tmp_path, "--today", "2026-11-20", "--register")
    assert len(json.loads(cli("supervise", "list", "--json")[1])) == len(items)  # nothing sent twice
    registered = json.loads(cli("notice", "--list", "--json")[1])
    assert [(n["number"], n["department"], n["items"]) for n in registered] == [
        ("督办〔2026〕1号", "区教委", len(items)), ("督办〔2026〕2号", "区教委", 0)]  # sent again: a number of its own
    again = tmp_path / "督办通知单-区教委-2026-11-20-督办〔2026〕2号.docx"  # sent again: the first one stays
    for n, sent in zip(registered, (first, again)):
        assert n["file"] == sent.name and n["sha256"] == hashlib.sha256(sent.read_bytes()).hexdigest()
        assert Document(sent).paragraphs[0].text == n["number"]  # the 文号 above the title


def test_notice_numbers_run_per_year_with_the_offices_prefix_and_drafts_leave_them_blank(cli, tmp_path):
    code, out, _ = cli("notice", "--all", "--out", tmp_path / "draft", "--today", "2026-11-20")
    assert code == 0 and "文号空白的草稿" in out
    draft = Document(tmp_path / "draft" / "督办通知单-区教委-2026-11-20.docx")
    assert draft.paragraphs[0].text == "督办〔2026〕\u3000\u3000号"
    assert json.loads(cli("notice", "--list", "--json")[1]) == []  # a draft takes no number

    code, _, err = cli("settings", "--notice-prefix", "延教督〔")
    assert code == 2 and "机关代字" in err
    assert cli("settings", "--notice-prefix", "延教督")[0] == 0
    code, out, _ = cli("notice", "--all", "--out", tmp_path / "a", "--today", "2026-12-30", "--register")
    numbers = json.loads(cli("notice", "--list", "--year", 2026, "--json")[1])
    assert code == 0 and len(numbers) >= 2
    assert [n["number"] for n in numbers] == [f"延教督〔2026〕{i}号" for i in range(1, len(numbers) + 1)]
    assert all(f"-{n['number']}.docx" in out for n in numbers)
    code, out, _ = cli("notice", "--department", "区教委", "--out", tmp_path / "b", "--today", "2027-01-05",
                       "--register")
    assert code == 0 and "-延教督〔2027〕1号.docx" in out  # a new year starts again at 1
    assert len(json.loads(cli("notice", "--list", "--json")[1])) == len(numbers) + 1
    code, out, _ = cli("notice", "--list")
    assert code == 0 and "延教督〔2027〕1号  2027-01-05  区教委" in out
    assert cli("notice", "--all")[0] == 2  # generating needs --out


def test_a_notice_number_is_given_only_with_its_registration(db, tmp_path, cheap_hashes):
    from sqlalchemy.exc import IntegrityError

    from qjgb_desktop.services.accounts import accounts
    from qjgb_desktop.services.accounts.access import AccessDenied
    from qjgb_desktop.services.documents.notice import issue_notices
    from qjgb_desktop.store.models import NoticeRecord

    day = date(2026, 11, 20)

    class Interrupted(Exception):
        pass
    with pytest.raises(Interrupted), db.sessions.begin() as s:  # numbered and written, then the commit never comes
        issued = issue_notices(s, tmp_path / "lost", actor="督导甲", today=day)
        assert "督办〔2026〕1号" in issued.numbers.values()
        raise Interrupted
    with db.sessions.begin() as s:  # nothing of it was kept: the same numbers are given again
        assert supervision.list_notices(s) == [] and s.scalar(select(func.count(SupervisionItem.id))) == 0
        issued = issue_notices(s, tmp_path / "sent", actor="督导甲", today=day)
    assert sorted(issued.numbers.values()) == sorted(f"督办〔2026〕{i}号" for i in range(1, len(issued.numbers) + 1))
    with db.sessions() as s:
        notices = supervision.list_notices(s)
        assert [n.number for n in notices] == [f"督办〔2026〕{i}号" for i in range(1, len(notices) + 1)]
        assert {n.department for n in notices} == set(issued.numbers)
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "notice.register")).all()
        assert sorted(a.after["number"] for a in audit) == sorted(n.number for n in notices)
    with pytest.raises(IntegrityError), db.sessions.begin() as s:  # a number is never given twice
        first = s.scalars(select(NoticeRecord)).first()
        s.add(NoticeRecord(year=2026, seq=first.seq, number="x", department_id=first.department_id, issued_on=day,
                           file_name="", sha256="", items=0, at=datetime.now(), actor="x"))
        s.flush()

    with db.sessions.begin() as s:
        accounts.add_account(s, "王老师", "张敏", "correct-horse-1", "管理员")
        accounts.add_account(s, "张敏", "只读丁", "correct-horse-1", "只读")
    reader = db
    if db.sessions.server:  # on a server who acts is the login
        from sqlalchemy.engine import make_url

        from qjgb_desktop.services.safety.database import open_database

        reader = open_database(make_url(db.url)._replace(username="只读丁", password="correct-horse-1")
                               .render_as_string(hide_password=False))
    with pytest.raises(AccessDenied), reader.sessions.begin() as s:
        issue_notices(s, tmp_path / "refused", actor="只读丁", today=day)
    if reader is not db:
        reader.close()
    assert not (tmp_path / "refused").exists()  # a refusal writes no file

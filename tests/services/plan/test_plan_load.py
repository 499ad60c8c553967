"""Loading a revised plan over an existing one keeps what is tied to unchanged items."""

import copy

import pytest
from conftest import measures
from sqlalchemy import func, select

from qjgb_desktop.services.plan.load import PlanRecordError, load_plan
from qjgb_desktop.services.plan.query import plan_as_dict, plan_tree
from qjgb_desktop.store.models import AuditEvent, Indicator, Measure, Plan, YearlyTarget


def target_ids(session):
    return {(t.measure.no, t.year): t.id for t in session.scalars(select(YearlyTarget))}


def revised(record):
    new = copy.deepcopy(record)
    new["status"] = "正式稿"
    ms = measures(new)
    ms[4]["targets"]["2026"] = "举办延庆区第二届科学节（修订）。"
    ms[2]["indicators"] = [i for i in ms[2]["indicators"] if i["name"] != "评选优秀心理剧剧目"]
    ms[12]["indicators"][0]["targets"]["2027"] = 97.5
    ms[19]["departments"].append({"name": "区财政局", "role": "cooperating"})
    new["actions"][4]["measures"].append({
        "no": 21, "title": "新增措施", "body": "正文", "departments": [{"name": "区教委", "role": "lead"}],
        "targets": {"2025": "甲", "2026": "乙", "2027": "丙"}, "indicators": []})
    new["actions"][0]["measures"] = [m for m in new["actions"][0]["measures"] if m["no"] != 4]
    return new


def test_loading_the_same_record_again_changes_nothing(db, plan_record):
    with db.sessions.begin() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
        summary = load_plan(s, plan_record)
        assert summary.unchanged
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_revised_plan_keeps_ids_updates_texts_and_retires_what_is_gone(db, plan_record):
    with db.sessions() as s:
        ids_before = target_ids(s)
    with db.sessions.begin() as s:
        summary = load_plan(s, revised(plan_record), actor="tester", source="修订稿.json")
    assert "措施21" in summary.added
    assert "措施5·2026年目标" in summary.changed
    assert "措施4" in summary.retired
    assert "措施3指标“评选优秀心理剧剧目”" in summary.retired
    with db.sessions() as s:
        ids_after = target_ids(s)
        for key, old_id in ids_before.items():
            assert ids_after[key] == old_id  # progress tied to these ids stays attached
        assert s.get(YearlyTarget, ids_before[(5, 2026)]).text == "举办延庆区第二届科学节（修订）。"
        assert s.scalar(select(Measure.retired).where(Measure.no == 4)) is True
        assert s.scalar(select(Plan.status)) == "正式稿"
        shown = plan_as_dict(plan_tree(s))
        assert 4 not in [m["no"] for a in shown["actions"] for m in a["measures"]]
        assert shown["actions"][4]["measures"][-1]["no"] == 21
        m13 = next(m for a in shown["actions"] for m in a["measures"] if m["no"] == 13)
        assert m13["indicators"][0]["targets"]["2027"] == 97.5
        m20 = next(m for a in shown["actions"] for m in a["measures"] if m["no"] == 20)
        assert m20["departments"][-1] == {"name": "区财政局", "role": "cooperating"}
        assert s.scalar(select(Indicator.retired).where(Indicator.name == "评选优秀心理剧剧目")) is True
        change = s.scalars(select(AuditEvent).where(AuditEvent.entity == "yearly_target")).one()
        assert change.actor == "tester"
        assert change.before["text"].startswith("举办延庆区第二届科学节；")
        assert change.after["text"] == "举办延庆区第二届科学节（修订）。"
        load_event = s.scalars(select(AuditEvent).where(AuditEvent.action == "plan.load")
                               .order_by(AuditEvent.id.desc())).first()
        assert load_event.reason == "修订稿.json"


def test_a_retired_measure_comes_back_when_a_later_plan_has_it_again(db, plan_record):
    with db.sessions.begin() as s:
        load_plan(s, revised(plan_record))
    with db.sessions.begin() as s:
        summary = load_plan(s, plan_record)
        assert "措施4" in summary.changed
    with db.sessions() as s:
        assert s.scalar(select(Measure.retired).where(Measure.no == 4)) is False


@pytest.mark.parametrize("breakage,message", [
    (lambda r: r.pop("actions"), "缺少字段“actions”"),
    (lambda r: measures(r)[0]["departments"].__setitem__(0, {"name": "区教委", "role": "boss"}), "角色"),
    (lambda r: measures(r)[1]["targets"].pop("2026"), "措施2: 缺少2026年度目标"),
    (lambda r: measures(r)[2]["indicators"][0]["targets"].__setitem__("2025", "九十八"), "不是数字"),
    (lambda r: measures(r)[3].__setitem__("no", 1), "措施1: 序号缺失或重复"),
])
def test_an_invalid_record_is_refused_and_changes_nothing(db, plan_record, breakage, message):
    bad = copy.deepcopy(plan_record)
    breakage(bad)
    with db.sessions() as s:
        before = plan_as_dict(plan_tree(s))
    with pytest.raises(PlanRecordError, match=message):
        with db.sessions.begin() as s:
            load_plan(s, bad)
    with db.sessions() as s:
        assert plan_as_dict(plan_tree(s)) == before

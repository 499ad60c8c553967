"""qjgb progress / indicator / status / period from the command line."""

import json

import pytest


def test_progress_add_then_list(cli):
    code, out, _ = cli("progress", "add", "--measure", "13", "--year", "2025", "--status", "正常推进",
                       "--percent", "60", "--date", "2025-06-30", "--done", "启动学历提升计划", "--reporter", "李主任")
    assert code == 0 and "已保存报告 #1" in out and "2025Q2" in out
    code, out, _ = cli("progress", "list", "--measure", "13", "--json")
    items = json.loads(out)
    assert len(items) == 1
    item = items[0]
    assert (item["measure_no"], item["year"], item["period"], item["percent"]) == (13, 2025, "2025Q2", 60)
    assert (item["department"], item["reporter"], item["created_by"]) == ("区教委", "李主任", "王老师")
    assert item["report_date"] == "2025-06-30" and item["done"] == "启动学历提升计划"


@pytest.mark.parametrize("args,words", [
    (["--measure", "13", "--year", "2025", "--status", "正常推进", "--percent", "150"], "完成度"),
    (["--measure", "13", "--year", "2025", "--status", "完成了", "--percent", "50"], "状态"),
    (["--measure", "13", "--year", "2024", "--status", "正常推进", "--percent", "50"], "没有第 13 项措施的 2024 年度目标"),
    (["--measure", "13", "--year", "2025", "--status", "正常推进", "--percent", "50", "--department", "区体育局"],
     "不是本措施的责任部门"),
    (["--measure", "13", "--year", "2025", "--status", "正常推进", "--percent", "50", "--date", "2099-01-01"],
     "不能晚于今天"),
    (["--measure", "13", "--year", "2025", "--status", "正常推进", "--percent", "50", "--date", "2025/06/30"],
     "日期应形如"),
    (["--measure", "13", "--year", "2025", "--status", "滞后", "--percent", "10", "--date", "2025-06-30"],
     "须说明存在的问题"),
])
def test_bad_arguments_exit_2_and_write_nothing(cli, args, words):
    code, out, err = cli("progress", "add", *args)
    assert code == 2 and words in err
    code, out, _ = cli("progress", "list", "--json")
    assert json.loads(out) == []


def test_correct_delete_and_history(cli):
    cli("progress", "add", "--measure", "3", "--year", "2025", "--status", "正常推进", "--percent", "50",
        "--date", "2025-06-30")
    code, out, _ = cli("progress", "correct", "1", "--percent", "55")
    assert code == 0 and "#1 → #2" in out
    code, out, err = cli("progress", "delete", "2", "--reason", "重复")
    assert code == 0
    code, out, _ = cli("progress", "list", "--history", "--json")
    items = json.loads(out)
    assert [(r["id"], r["revision"], r["is_current"], r["deleted"]) for r in items] == [
        (2, 2, True, True), (1, 1, False, False)]
    assert items[0]["delete_reason"] == "重复" and items[0]["percent"] == 55


def test_indicator_set_and_list(cli):
    code, out, _ = cli("indicator", "set", "--measure", "12", "--name", "平均年龄", "--value", "49.3",
                       "--date", "2025-06-30")
    assert code == 0 and "49.3岁" in out
    code, out, _ = cli("indicator", "list", "--measure", "12", "--json")
    age = next(r for r in json.loads(out) if r["name"] == "校科级干部平均年龄")
    assert age["latest"]["value"] == 49.3 and age["met"] is True  # 2025 target ≤ 49.5
    code, _, err = cli("indicator", "set", "--measure", "12", "--name", "平均年龄", "--value", "很年轻")
    assert code == 2 and "请输入数字" in err


def test_status_json_shape_with_a_fixed_day(cli):
    cli("progress", "add", "--measure", "13", "--year", "2025", "--status", "正常推进", "--percent", "40",
        "--date", "2025-06-30")
    code, out, _ = cli("status", "--json", "--today", "2025-06-30")
    status = json.loads(out)
    assert status["today"] == "2025-06-30"
    assert {"today", "targets", "measures", "actions", "plan", "departments"} <= set(status)
    t = next(t for t in status["targets"] if (t["measure"], t["year"]) == (13, 2025))
    assert t == {**t, "state": "正常", "percent": 40, "last_report": "2025-06-30"}
    assert len(status["targets"]) == 60
    m = next(m for m in status["measures"] if (m["no"], m["year"]) == (13, 2025))
    assert (m["percent"], m["state"]) == (40, "正常")
    assert {a["no"] for a in status["actions"]} == {1, 2, 3, 4, 5}
    assert set(status["plan"]) >= {"percent", "state"}
    d = next(d for d in status["departments"] if d["name"] == "区教委")
    assert set(d["lead"]) >= {"percent", "red", "yellow"} and set(d["cooperating"]) >= {"percent", "red", "yellow"}
    allowed = {"已完成", "正常", "关注", "滞后", "逾期", "未填报", "未开始"}
    assert {t["state"] for t in status["targets"]} <= allowed


def test_period_close_and_reopen(cli):
    cli("progress", "add", "--measure", "13", "--year", "2025", "--status", "正常推进", "--percent", "40",
        "--date", "2025-06-30")
    assert cli("period", "close", "2025Q2")[0] == 0
    code, _, err = cli("progress", "correct", "1", "--percent", "45")
    assert code == 2 and "已关闭" in err
    code, _, err = cli("period", "reopen", "2025Q2", "--reason", "更正")
    assert code == 2 and "只有管理员" in err
    assert cli("admin", "add", "王老师")[0] == 0
    assert cli("period", "reopen", "2025Q2", "--reason", "更正")[0] == 0
    assert cli("progress", "correct", "1", "--percent", "45")[0] == 0


def test_settings(cli):
    code, out, _ = cli("settings", "--green-margin", "5", "--scheme", "monthly", "--max-evidence-mb", "200")
    assert code == 0 and "5 个百分点" in out and "按月" in out and "200 MB" in out
    code, _, err = cli("settings", "--green-margin", "50")
    assert code == 2 and "阈值" in err


def test_audit_log_shows_who_what_before_and_after(cli):
    cli("progress", "add", "--measure", "3", "--year", "2025", "--status", "正常推进", "--percent", "50",
        "--date", "2025-06-30")
    cli("progress", "correct", "1", "--percent", "55")
    code, out, _ = cli("audit", "--entity", "progress_report", "--json")
    events = json.loads(out)
    assert [e["action"] for e in events] == ["report.correct", "report.add"]
    assert events[0]["actor"] == "王老师"
    assert events[0]["before"]["percent"] == 50 and events[0]["after"]["percent"] == 55
    code, out, _ = cli("audit", "--limit", "1")
    assert "report.correct" in out and "percent: 50 → 55" in out

"""The light rule, periods and validation at fixed dates (no Qt, no database)."""

from datetime import date

import pytest

from qjgb_desktop.domain.periods import PeriodError, covering_codes, parse_period, period_of, periods_in
from qjgb_desktop.domain.status import (
    COMPLETED,
    GREEN,
    NOT_REPORTED,
    NOT_STARTED,
    OVERDUE,
    RED,
    YELLOW,
    LatestReport,
    Thresholds,
    expected_percent,
    meets,
    rollup,
    target_percent,
    target_state,
)
from qjgb_desktop.domain.validation import ReportInput, check_indicator_value, check_report, parse_number

T = Thresholds()


def report(percent, status="正常推进", day=date(2026, 6, 30)):
    return LatestReport(status, percent, day)


@pytest.mark.parametrize("today,expected", [
    (date(2025, 12, 31), 0.0),
    (date(2026, 1, 1), 100 / 365),
    (date(2026, 7, 2), 100 * 183 / 365),
    (date(2026, 12, 31), 100.0),
    (date(2027, 1, 1), 100.0),
])
def test_expected_share_of_the_year(today, expected):
    assert expected_percent(2026, today) == pytest.approx(expected)


@pytest.mark.parametrize("today,latest,this_period,state", [
    (date(2025, 12, 1), None, False, NOT_STARTED),  # before the year
    (date(2026, 1, 5), None, False, NOT_REPORTED),  # start of the year, nothing reported
    (date(2026, 1, 5), report(0, day=date(2026, 1, 3)), True, GREEN),  # start: 0% is on track
    (date(2026, 7, 2), report(45), True, GREEN),  # middle: expected 50%, 45 within 10 points
    (date(2026, 7, 2), report(39), True, YELLOW),  # 11 points behind
    (date(2026, 7, 2), report(26), True, YELLOW),  # 24 points behind
    (date(2026, 7, 2), report(24), True, RED),  # 26 points behind
    (date(2026, 7, 2), report(80, "滞后"), True, RED),  # the department says it lags
    (date(2026, 7, 2), report(60, "暂缓"), True, YELLOW),  # paused: watch it
    (date(2026, 7, 2), report(45), False, NOT_REPORTED),  # nothing in the current period
    (date(2026, 12, 31), report(95), True, GREEN),  # end of the year
    (date(2026, 12, 31), report(80), True, YELLOW),
    (date(2026, 12, 31), report(100, "已完成"), True, COMPLETED),
    (date(2027, 1, 10), report(95), False, OVERDUE),  # after the year, not done
    (date(2027, 1, 10), report(100, "已完成"), False, COMPLETED),  # after the year, done
    (date(2027, 1, 10), None, False, OVERDUE),  # after the year, never reported
])
def test_light_rule_at_fixed_dates(today, latest, this_period, state):
    assert target_state(2026, today, latest, this_period, T) == state


def test_thresholds_are_settings():
    strict = Thresholds(green_margin=2, yellow_margin=5)
    assert target_state(2026, date(2026, 7, 2), report(45), True, strict) == RED
    assert target_state(2026, date(2026, 7, 2), report(47), True, strict) == YELLOW
    with pytest.raises(ValueError):
        Thresholds(green_margin=30, yellow_margin=20)


def test_percent_of_a_target():
    assert target_percent(None) == 0
    assert target_percent(report(40)) == 40
    assert target_percent(report(100, "已完成")) == 100


def test_rollup_arithmetic():
    today = date(2026, 7, 2)  # expected ≈ 50
    r = rollup([(GREEN, 50), (YELLOW, 35), (RED, 20), (NOT_REPORTED, 0)], 2026, today, T)
    assert r.percent == 26.2  # (50 + 35 + 20 + 0) / 4 = 26.25, kept to one decimal
    assert (r.red, r.yellow, r.not_reported, r.count) == (1, 1, 1, 4)
    assert r.state == YELLOW  # 26.2 is 23.8 points below 50
    assert rollup([(COMPLETED, 100), (COMPLETED, 100)], 2026, today, T).state == COMPLETED
    assert rollup([(NOT_REPORTED, 0)] * 3, 2026, today, T).state == NOT_REPORTED
    assert rollup([(COMPLETED, 100), (OVERDUE, 60)], 2026, date(2027, 2, 1), T).state == OVERDUE
    assert rollup([(NOT_STARTED, 0)], 2027, today, T).state == NOT_STARTED
    assert rollup([(GREEN, 60), (GREEN, 56)], 2026, today, T).state == GREEN


def test_indicator_direction():
    assert meets(">=", 96.6, 96.5) and not meets(">=", 96.4, 96.5)
    assert meets("<=", 49.0, 49.5) and not meets("<=", 49.6, 49.5)  # 平均年龄: lower is better
    assert meets("=", 3, 3.0) and not meets("=", 4, 3)


def test_periods():
    assert parse_period("2025q3").code == "2025Q3"
    p = parse_period("2025Q3")
    assert (p.start, p.end, p.label) == (date(2025, 7, 1), date(2025, 9, 30), "2025年第3季度")
    assert parse_period("2026-02").end == date(2026, 2, 28)
    assert period_of(date(2025, 11, 5)).code == "2025Q4"
    assert period_of(date(2025, 11, 5), "monthly").code == "2025-11"
    assert len(periods_in([2025, 2026, 2027])) == 12
    with pytest.raises(PeriodError, match="格式不对"):
        parse_period("2025Q5")


def check(**changes):
    base = dict(period="2026Q2", report_date=date(2026, 6, 30), department="区教委", reporter="张三",
                status="正常推进", percent=45, done="已开展", problems="", next_steps="")
    base.update(changes)
    return {p.field: p.message for p in check_report(
        ReportInput(**base), today=date(2026, 7, 2), plan_years=[2025, 2026, 2027], target_year=2026,
        departments=["区教委", "区财政局"])}


def test_a_good_report_passes():
    assert check() == {}


@pytest.mark.parametrize("changes,field,words", [
    ({"percent": 101}, "percent", "0–100"),
    ({"percent": "五十"}, "percent", "整数"),
    ({"percent": -1}, "percent", "0–100"),
    ({"report_date": date(2026, 7, 3)}, "report_date", "不能晚于今天"),
    ({"report_date": date(2024, 12, 31), "period": "2025Q1"}, "report_date", "计划期内"),
    ({"period": "2025Q4"}, "period", "早于该目标的年度"),
    ({"period": "2026Q3"}, "report_date", "早于填报周期"),
    ({"period": "2026-13"}, "period", "格式不对"),
    ({"department": "区体育局"}, "department", "不是本措施的责任部门"),
    ({"reporter": "  "}, "reporter", "填报人"),
    ({"status": "差不多"}, "status", "之一"),
    ({"status": "已完成", "percent": 90}, "percent", "已完成"),
    ({"status": "正常推进", "percent": 100}, "status", "已完成"),
    ({"status": "未启动", "percent": 10}, "percent", "未启动"),
    ({"status": "滞后", "percent": 45, "next_steps": "加快"}, "problems", "滞后"),
    ({"status": "暂缓", "percent": 45}, "problems", "暂缓"),
    ({"percent": 30}, "problems", "说明原因"),  # yellow on 2026-06-30: asks why
    ({"percent": 30, "problems": "经费未到位"}, "next_steps", "整改措施"),
    ({"done": "字" * 5001}, "done", "5000"),
])
def test_each_bad_field_is_named(changes, field, words):
    problems = check(**changes)
    assert field in problems, problems
    assert words in problems[field]


def test_numbers_as_clerks_type_them():
    assert parse_number("96.5") == 96.5
    assert parse_number("96.5%") == 96.5
    assert parse_number("1,500") == 1500
    assert parse_number("９６．５") == 96.5
    assert parse_number("九十六") is None
    assert parse_number("nan") is None
    value, problems = check_indicator_value("abc", date(2026, 1, 1), today=date(2026, 7, 2), plan_years=[2025, 2026, 2027])
    assert value is None and "请输入数字" in problems[0].message


def test_reports_of_the_other_scheme_count_for_the_period():
    assert covering_codes(parse_period("2025Q3")) == ["2025Q3", "2025-07", "2025-08", "2025-09"]
    assert set(covering_codes(parse_period("2025-08"))) == {"2025-08", "2025Q3"}

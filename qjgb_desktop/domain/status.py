"""Status lights (红黄绿灯) and rollups: pure rules, "today" always passed in.

For the yearly target of year Y on day d:
- 未开始 (not started): Y has not begun.
- 已完成 (completed): the latest report says 已完成 or 100%.
- 逾期 (overdue, red): Y is over and the target is not completed.
- 未填报 (not reported): no report in the current reporting period.
- 滞后 (red): the latest report says 滞后, or its percent < expected − yellow_margin.
- 关注 (yellow): percent < expected − green_margin, or the latest report says 暂缓.
- 正常 (green): otherwise.
expected = share of year Y elapsed on d, in percent (0 before Y, 100 after Y).

A rollup (measure → action → plan, or a department's targets) takes the mean percent of its items and applies the
same rule to it: all completed → 已完成; the year over → 逾期; all unreported → 未填报; otherwise the percent rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

COMPLETED, GREEN, YELLOW, RED, OVERDUE, NOT_REPORTED, NOT_STARTED = (
    "已完成", "正常", "关注", "滞后", "逾期", "未填报", "未开始")
STATES = (COMPLETED, GREEN, YELLOW, RED, OVERDUE, NOT_REPORTED, NOT_STARTED)
NEEDS_FOLLOW_UP = (RED, OVERDUE, NOT_REPORTED)
RED_STATES = (RED, OVERDUE)
# Most urgent first: the order of the 督办 list.
SEVERITY = {OVERDUE: 0, RED: 1, NOT_REPORTED: 2, YELLOW: 3, GREEN: 4, COMPLETED: 5, NOT_STARTED: 6}

# How each state looks in charts and lights: Okabe–Ito colours (safe with the common colour-vision deficiencies),
# plus a shape/hatch so they also read in grey print.
STATE_COLORS = {
    COMPLETED: "#0072B2", GREEN: "#009E73", YELLOW: "#E69F00", RED: "#D55E00", OVERDUE: "#8B1A1A",
    NOT_REPORTED: "#6E6E6E", NOT_STARTED: "#B0B0B0",
}
STATE_SYMBOLS = {COMPLETED: "✓", GREEN: "●", YELLOW: "▲", RED: "✕", OVERDUE: "‼", NOT_REPORTED: "？",
                 NOT_STARTED: "○"}
STATE_HATCHES = {COMPLETED: "", GREEN: "", YELLOW: "//", RED: "xx", OVERDUE: "xx..", NOT_REPORTED: "..",
                 NOT_STARTED: ""}

# What a department reports (填报状态).
R_NOT_BEGUN, R_ON_TRACK, R_BEHIND, R_DONE, R_PAUSED = "未启动", "正常推进", "滞后", "已完成", "暂缓"
REPORT_STATUSES = (R_NOT_BEGUN, R_ON_TRACK, R_BEHIND, R_DONE, R_PAUSED)


@dataclass(frozen=True)
class Thresholds:
    green_margin: float = 10.0  # points below expected still counted 正常
    yellow_margin: float = 25.0  # points below expected still counted 关注; further below is 滞后

    def __post_init__(self) -> None:
        if not 0 <= self.green_margin <= self.yellow_margin <= 100:
            raise ValueError("阈值应满足 0 ≤ 正常容差 ≤ 关注容差 ≤ 100")


@dataclass(frozen=True)
class LatestReport:
    status: str
    percent: int
    report_date: date


def expected_percent(year: int, today: date) -> float:
    if today.year < year:
        return 0.0
    if today.year > year:
        return 100.0
    days = (date(year, 12, 31) - date(year, 1, 1)).days + 1
    return 100.0 * (today - date(year, 1, 1)).days / days + 100.0 / days


def percent_light(percent: float, expected: float, t: Thresholds) -> str:
    if percent >= expected - t.green_margin:
        return GREEN
    if percent >= expected - t.yellow_margin:
        return YELLOW
    return RED


def is_completed(latest: LatestReport | None) -> bool:
    return latest is not None and (latest.status == R_DONE or latest.percent >= 100)


def target_state(year: int, today: date, latest: LatestReport | None, reported_this_period: bool,
                 t: Thresholds = Thresholds()) -> str:
    if year > today.year:
        return NOT_STARTED
    if is_completed(latest):
        return COMPLETED
    if year < today.year:
        return OVERDUE
    if latest is None or not reported_this_period:
        return NOT_REPORTED
    if latest.status == R_BEHIND:
        return RED
    light = percent_light(latest.percent, expected_percent(year, today), t)
    if latest.status == R_PAUSED and light == GREEN:
        return YELLOW
    return light


def target_percent(latest: LatestReport | None) -> int:
    if latest is None:
        return 0
    return 100 if is_completed(latest) else latest.percent


@dataclass(frozen=True)
class Rollup:
    state: str
    percent: float
    count: int
    red: int
    yellow: int
    not_reported: int
    completed: int


def rollup(items: list[tuple[str, float]], year: int, today: date, t: Thresholds = Thresholds()) -> Rollup:
    """Combine (state, percent) pairs of the same year into one state and mean percent."""
    states = [s for s, _ in items]
    percent = round(sum(p for _, p in items) / len(items), 1) if items else 0.0
    counts = dict(count=len(items), red=sum(s in RED_STATES for s in states), yellow=states.count(YELLOW),
                  not_reported=states.count(NOT_REPORTED), completed=states.count(COMPLETED))
    if year > today.year or not items:
        state = NOT_STARTED
    elif all(s == COMPLETED for s in states):
        state = COMPLETED
    elif year < today.year:
        state = OVERDUE
    elif all(s == NOT_REPORTED for s in states):
        state = NOT_REPORTED
    else:
        state = percent_light(percent, expected_percent(year, today), t)
    return Rollup(state, percent, **counts)


def meets(comparator: str, actual: float, target: float) -> bool:
    """Whether an indicator's actual value reaches its target in the indicator's direction."""
    if comparator == "<=":
        return actual <= target + 1e-9
    if comparator == "=":
        return abs(actual - target) < 1e-9
    return actual >= target - 1e-9

"""The settings as plain values, without SQLAlchemy: shared by load_settings and the window's quick first status
(which reads the setting table through sqlite3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from qjgb_desktop.domain.periods import QUARTERLY
from qjgb_desktop.domain.status import Thresholds

# 考核: completion against expected, on-time submission, evidence coverage, closed 督办 items.
DEFAULT_NOTICE_PREFIX = "督办"
DEFAULT_WEIGHTS = {"completion": 40.0, "timeliness": 30.0, "evidence": 15.0, "supervision": 15.0}


@dataclass(frozen=True)
class AppSettings:
    thresholds: Thresholds = Thresholds()
    scheme: str = QUARTERLY
    admins: tuple[str, ...] = field(default_factory=tuple)
    max_evidence_mb: float = 500.0
    due_days: int = 10  # a period's reports are due this many days after it ends
    due_overrides: dict = field(default_factory=dict)  # period code -> ISO date, for a period set otherwise
    feedback_days: int = 7  # a 督办 notice asks for an answer within this many days
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))  # 考核 component -> weight
    notice_prefix: str = DEFAULT_NOTICE_PREFIX  # 督办通知单 文号: <prefix>〔2026〕3号
    # Which cooperating departments owe a report of their own every period (填报日历, 按时报送率): none (the
    # lead reports for the target), "all", or the measures (by number) whose cooperating departments must.
    cooperating_duty: str | tuple[int, ...] = "none"

    def cooperating_owes(self, measure_no: int) -> bool:
        duty = self.cooperating_duty
        return duty == "all" or (not isinstance(duty, str) and measure_no in duty)


def settings_from_values(values: dict) -> AppSettings:
    t = values.get("thresholds") or {}
    return AppSettings(
        thresholds=Thresholds(float(t.get("green_margin", 10)), float(t.get("yellow_margin", 25))),
        scheme=values.get("period_scheme") or QUARTERLY,
        admins=tuple(values.get("admins") or ()),
        max_evidence_mb=float(values.get("max_evidence_mb") or 500),
        due_days=int(values.get("due_days", 10)),
        due_overrides=dict(values.get("due_overrides") or {}),
        feedback_days=int(values.get("feedback_days", 7)),
        weights={**DEFAULT_WEIGHTS, **{k: float(v) for k, v in (values.get("assessment_weights") or {}).items()
                                      if k in DEFAULT_WEIGHTS}},
        notice_prefix=str(values.get("notice_prefix") or DEFAULT_NOTICE_PREFIX),
        cooperating_duty=_duty(values.get("cooperating_duty")),
    )


def _duty(value) -> str | tuple[int, ...]:
    if isinstance(value, list):
        return tuple(sorted({int(v) for v in value}))
    return "all" if value == "all" else "none"

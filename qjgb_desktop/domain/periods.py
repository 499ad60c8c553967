"""Reporting periods (填报周期): quarters like 2025Q3 (the default) or months like 2025-09."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

QUARTERLY, MONTHLY = "quarterly", "monthly"
SCHEMES = {QUARTERLY: "按季度", MONTHLY: "按月"}

_QUARTER = re.compile(r"^((?:19|20)[0-9]{2})Q([1-4])$")  # ASCII digits, a real year
_MONTH = re.compile(r"^((?:19|20)[0-9]{2})-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date
    code: str

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def label(self) -> str:
        if "Q" in self.code:
            return f"{self.year}年第{self.code[-1]}季度"
        return f"{self.year}年{int(self.code[5:])}月"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def parse_period(code: str) -> Period:
    code = code.strip().upper()
    m = _QUARTER.match(code)
    if m:
        year, q = int(m.group(1)), int(m.group(2))
        first = 3 * q - 2
        return Period(date(year, first, 1), date(year, first + 2, monthrange(year, first + 2)[1]), code)
    m = _MONTH.match(code)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        return Period(date(year, month, 1), date(year, month, monthrange(year, month)[1]), code)
    raise PeriodError(f"填报周期“{code}”格式不对，应为 2025Q3（季度）或 2025-09（月）")


def period_of(day: date, scheme: str = QUARTERLY) -> Period:
    if scheme == MONTHLY:
        return parse_period(f"{day.year}-{day.month:02d}")
    return parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}")


def periods_in(years: list[int], scheme: str = QUARTERLY) -> list[Period]:
    if scheme == MONTHLY:
        return [parse_period(f"{y}-{m:02d}") for y in years for m in range(1, 13)]
    return [parse_period(f"{y}Q{q}") for y in years for q in range(1, 5)]


def scheme_of(code: str) -> str:
    return QUARTERLY if "Q" in code.upper() else MONTHLY


def covering_codes(period: Period) -> list[str]:
    """The codes under which a report counts for this period: its own, and those of the other scheme that
    cover the same months (a monthly report counts for its quarter, a quarterly one for its months).
    Always four, so a statement can bind them as fixed parameters."""
    if "Q" in period.code:
        first = int(period.code[-1]) * 3 - 2
        return [period.code] + [f"{period.year}-{m:02d}" for m in range(first, first + 3)]
    quarter = period_of(period.start, QUARTERLY).code
    return [period.code, quarter, period.code, period.code]

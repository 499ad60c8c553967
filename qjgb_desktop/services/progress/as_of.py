"""As of a day: the one rule every view uses to decide which reports it sees (status and the window's lights, the
督办 and 部门 lists, the calendar, 考核, the leaders' workbook, the Word report and notices, the command line).

As of day D, a report counts in its current revision and not deleted (the record as it stands) when it is dated on
or before D, or written for a reporting period that had ended by D (a fourth quarter's report written on 5 January
speaks of the quarter: it counts as of 31 December, as the quarter's returns do, which are imported in the weeks
after it). Anything else dated after D is not seen, and a report is never older than D ("days since the last
report", counted from the report's date or D, whichever is earlier, is never negative). Whether a report
had been received by D (the calendar's 已报/逾期报/未报, 考核's 按时报送率) is asked of its first entry, which the
program stamps itself: as of D, a report first entered after D has not been received.

Free of SQLAlchemy: the window's first paint runs the same SQL through sqlite3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class AsOf:
    day: date

    @property
    def end(self) -> datetime:
        """The first moment after the day: entries before it had been received by the day."""
        return datetime.combine(self.day + timedelta(days=1), datetime.min.time())

    @property
    def periods_ended(self) -> tuple[str, str]:
        """The last quarter and the last month ended by the day, as codes (2026Q3, 2026-09)."""
        after = self.day + timedelta(days=1)
        month = (after.year, after.month - 1) if after.month > 1 else (after.year - 1, 12)
        quarter = (after.year, (after.month - 1) // 3) if after.month > 3 else (after.year - 1, 4)
        return f"{quarter[0]}Q{quarter[1]}", f"{month[0]}-{month[1]:02d}"

    def params(self, iso: bool = False) -> dict:
        """Bind values for `visible()` and `:asof_end`; `iso` gives the strings sqlite3 compares with what
        SQLAlchemy stored."""
        quarter, month = self.periods_ended
        if iso:
            return {"asof_day": self.day.isoformat(), "asof_end": self.end.isoformat(" "),
                    "asof_quarter": quarter, "asof_month": month}
        return {"asof_day": self.day, "asof_end": self.end, "asof_quarter": quarter, "asof_month": month}

    def seen_date(self, report_date: date) -> date:
        """A counting report's date as seen on the day: its own, or the day for one written after it."""
        return min(report_date, self.day)


def as_of(day: date | AsOf) -> AsOf:
    return day if isinstance(day, AsOf) else AsOf(day)


def visible(alias: str) -> str:
    """The SQL condition under which report row `alias` counts as of the day (with :yes, :no and AsOf.params()).
    Period codes are 2026Q3 or 2026-09 (parse_period admits no other): within each form they sort as the periods
    do, so "ended by the day" is one comparison with the last code of that form that had ended."""
    a = alias
    return (f"{a}.is_current = :yes AND {a}.deleted = :no AND ({a}.report_date <= :asof_day"
            f" OR ({a}.period LIKE '____Q_' AND {a}.period <= :asof_quarter)"
            f" OR ({a}.period LIKE '____-__' AND {a}.period <= :asof_month))")


def as_of_text(sql: str):
    """text(sql) with the as-of values it uses bound with their types, so SQLite compares them as SQLAlchemy stored
    the columns (a date as 2026-09-30, a time as 2026-10-01 00:00:00.000000)."""
    from sqlalchemy import Date, DateTime, bindparam, text  # only here: the quick path runs without SQLAlchemy

    return text(sql).bindparams(*(bindparam(name, type_=kind) for name, kind in (("asof_day", Date),
                                                                               ("asof_end", DateTime))
                                  if f":{name}" in sql))


def visible_clause(table: str, day: date | AsOf):
    """visible() bound, for an ORM query over the progress_report table (named as the query names it)."""
    params = {k: v for k, v in as_of(day).params().items() if k != "asof_end"}
    return as_of_text(visible(table)).bindparams(yes=True, no=False, **params)

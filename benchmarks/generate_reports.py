"""Fill a data folder with many progress reports, for the benchmarks.

    python benchmarks/generate_reports.py --data-dir DIR [--reports 100000] [--today 2027-06-30]

Reports are spread over the 60 yearly targets, dated inside each target's year up to `today`, from the
measure's departments; one in ten is superseded by a correction, one in fifty deleted. Indicator values too.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from qjgb_desktop import paths  # noqa: E402
from qjgb_desktop.domain.periods import period_of  # noqa: E402
from qjgb_desktop.domain.status import REPORT_STATUSES  # noqa: E402
from qjgb_desktop.services.safety.database import open_database  # noqa: E402
from qjgb_desktop.store.models import Indicator, IndicatorValue, MeasureDepartment, ProgressReport, YearlyTarget  # noqa: E402


def generate(data_dir: Path, n: int, today: date, seed: int = 7) -> int:
    paths.set_data_dir(data_dir)
    db = open_database()
    rng = random.Random(seed)
    now = datetime(today.year, today.month, today.day, 12)
    with db.sessions.begin() as s:
        targets = s.execute(select(YearlyTarget.id, YearlyTarget.year, YearlyTarget.measure_id)).all()
        deps = {}
        for mid, did in s.execute(select(MeasureDepartment.measure_id, MeasureDepartment.department_id)):
            deps.setdefault(mid, []).append(did)
        start_id = (s.scalar(select(func.max(ProgressReport.id))) or 0) + 1
        live = [t for t in targets if date(t.year, 1, 1) <= today]
        rows = []
        for i in range(n):
            tid, year, mid = rng.choice(live)
            last_day = min(today, date(year, 12, 31))
            day = date(year, 1, 1) + timedelta(days=rng.randrange((last_day - date(year, 1, 1)).days + 1))
            rid = start_id + i
            superseded = rng.random() < 0.1
            rows.append(dict(
                id=rid, series_id=rid, revision=1, is_current=not superseded, yearly_target_id=tid,
                period=period_of(day).code, report_date=day, department_id=rng.choice(deps[mid]),
                reporter=f"填报员{rng.randrange(40)}", status=rng.choice(REPORT_STATUSES[:3]),
                percent=rng.randrange(0, 100), done="按计划推进各项工作。" * rng.randrange(1, 6),
                problems="", next_steps="", created_at=now, created_by="generator",
                deleted=rng.random() < 0.02, deleted_at=None, deleted_by="", delete_reason=""))
        for chunk in range(0, len(rows), 5000):
            s.execute(insert(ProgressReport), rows[chunk:chunk + 5000])
        indicators = s.scalars(select(Indicator.id)).all()
        all_deps = sorted({d for ds in deps.values() for d in ds})
        values = [dict(indicator_id=rng.choice(indicators), value=rng.uniform(0, 100),
                       as_of=date(2025, 1, 1) + timedelta(days=rng.randrange((today - date(2025, 1, 1)).days + 1)),
                       report_id=None, note="", department_id=rng.choice(all_deps), source="manual",
                       created_at=now, created_by="generator", deleted=False,
                       deleted_by="", delete_reason="") for _ in range(n // 20)]
        s.execute(insert(IndicatorValue), values)
        total = s.scalar(select(func.count()).select_from(ProgressReport))
    db.close()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2027, 6, 30))
    args = parser.parse_args()
    total = generate(args.data_dir, args.reports, args.today)
    print(f"{args.data_dir}: {total} reports")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Excel: export with many reports, and import of many department returns.

    python benchmarks/excel.py [--reports 100000] [--returns 50]

Export floor, same run: openpyxl write-only writing the same cells bare (the report rows as plain values, no
styles, no status). Import: 50 department returns (templates filled by openpyxl as a department would), checked
and committed; its floor is openpyxl read-only reading the same files' cells.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate_reports import generate  # noqa: E402

TODAY = date(2027, 6, 30)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--returns", type=int, default=50)
    args = parser.parse_args()

    from openpyxl import Workbook, load_workbook
    from sqlalchemy import select

    from qjgb_desktop.services.collection.commit import commit
    from qjgb_desktop.services.collection.export import export_workbook
    from qjgb_desktop.services.collection.returns import read_return
    from qjgb_desktop.services.collection.templates import write_template
    from qjgb_desktop.services.plan.query import plan_tree
    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.store.models import Department, ProgressReport

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        total = generate(tmp / "data", args.reports, TODAY)
        db = open_database()

        with db.sessions() as s:
            rows = s.execute(select(ProgressReport.yearly_target_id, ProgressReport.period, ProgressReport.report_date,
                                    Department.name, ProgressReport.reporter, ProgressReport.status,
                                    ProgressReport.percent, ProgressReport.done, ProgressReport.problems,
                                    ProgressReport.next_steps, ProgressReport.created_by, ProgressReport.created_at)
                             .join(Department).where(ProgressReport.is_current.is_(True),
                                                     ProgressReport.deleted.is_(False))).all()
        t = time.perf_counter()
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("进展明细")
        for r in rows:
            ws.append(list(r))
        wb.save(tmp / "bare.xlsx")
        floor = time.perf_counter() - t

        t = time.perf_counter()
        with db.sessions() as s:
            counts = export_workbook(s, tmp / "export.xlsx", today=TODAY)
        ours = time.perf_counter() - t

        # 50 returns: departments with targets in 2027, cycled, each filled completely
        with db.sessions() as s:
            departments = plan_tree(s).departments
        files = []
        for i in range(args.returns):
            dept = departments[i % len(departments)]
            path = tmp / "returns" / f"{i:02d}.xlsx"
            with db.sessions() as s:
                try:
                    write_template(s, dept, "2027Q2", path)
                except Exception:
                    continue
            wbt = load_workbook(path)
            sheet = wbt["填报"]
            for r in range(4, sheet.max_row + 1):
                if sheet[f"A{r}"].value:
                    sheet[f"F{r}"], sheet[f"G{r}"], sheet[f"K{r}"] = "正常推进", 60 + i % 30, f"填报员{i}"
                    sheet[f"H{r}"] = "按计划推进，完成阶段任务。"
            wbt.save(path)
            files.append(path)
        t = time.perf_counter()
        for f in files:
            rb = load_workbook(f, read_only=True)
            for sheet in rb.worksheets:
                for _ in sheet.iter_rows(values_only=True):
                    pass
            rb.close()
        read_floor = time.perf_counter() - t
        t = time.perf_counter()
        with db.sessions() as s:
            previews = [read_return(s, f, TODAY) for f in files]
        check = time.perf_counter() - t
        bad = [p for p in previews if not p.ok]
        t = time.perf_counter()
        if not bad:
            with db.sessions.begin() as s:
                summary = commit(s, previews, "benchmark", TODAY)
        write = time.perf_counter() - t
        db.close()
    print(f"database: {total} progress reports")
    print(f"openpyxl write-only, same report cells bare (floor) {floor:6.2f} s")
    print(f"qjgb export: 8 sheets, styled, {counts['进展明细']} report rows  {ours:6.2f} s   ratio {ours / floor:.2f}x")
    print(f"{len(files)} returns: openpyxl read-only, all cells (floor)   {read_floor:6.2f} s")
    print(f"{len(files)} returns: checked and previewed              {check:6.2f} s   ratio {check / read_floor:.2f}x")
    if bad:
        print(f"  {len(bad)} returns had errors: {bad[0].errors or [r.reason for r in bad[0].rows if r.kind == '错误'][:1]}")
    else:
        print(f"{len(files)} returns: committed in one transaction      {write:6.2f} s   "
              f"({summary.reports_added} reports added, {summary.reports_corrected} corrected)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

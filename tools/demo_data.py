"""A demonstration data folder: the built-in plan with a plausible year and a half of progress, for screenshots,
training and trying the program without touching real data.

    python tools/demo_data.py DIR [--today 2026-11-20]

Reports go through the same services as the window (validated, audited); texts are illustrative only.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qjgb_desktop import paths  # noqa: E402

DONE = ["已召开专题部署会，明确责任分工和时间节点。", "完成阶段性任务，形成工作台账。", "组织专项培训两期，覆盖全部学校。",
        "开展实地调研，形成调研报告并提交局务会研究。", "与相关部门建立联席会议机制，按月调度。"]
PROBLEMS = ["部分学校场地条件不足，推进较慢。", "专项经费尚未全部到位。", "专业人员紧缺，需跨部门统筹。"]
NEXT = ["下季度完成剩余学校的部署并开展督导检查。", "协调财政部门加快经费拨付。", "组织专家指导，补齐短板。"]


def fill(data_dir: Path, today: date, seed: int = 2026) -> int:
    paths.set_data_dir(data_dir)
    from sqlalchemy import update

    from qjgb_desktop.domain.periods import period_of
    from qjgb_desktop.domain.validation import ReportInput
    from qjgb_desktop.services.plan.query import plan_tree
    from qjgb_desktop.services.progress import reports as svc
    from qjgb_desktop.services.progress.status import compute_status
    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.store.models import ProgressReport

    rng = random.Random(seed)
    db = open_database()
    n = 0
    try:
        with db.sessions() as s:
            tree = plan_tree(s)
        for m in tree.measures():
            for t in m.targets:
                if t.year > today.year:
                    continue
                for day in ([date(t.year, 6, 28), date(t.year, 12, 20)] if t.year < today.year
                            else [date(t.year, 3, 28), date(t.year, 6, 28), date(t.year, 9, 26),
                                  date(t.year, 11, 16)]):
                    if day > today or rng.random() < 0.15:
                        continue  # now and then a period goes unreported
                    from qjgb_desktop.domain.status import expected_percent

                    expected = expected_percent(t.year, day)
                    lag = rng.choice([0, 0, 0, 5, 18, 35]) if m.no % 7 else 40
                    percent = max(0, min(100, int(expected) - lag + rng.randrange(0, 6)))
                    if day.month == 12 and lag < 18:  # most targets of a past year were finished by its end
                        percent = 100
                    status = "已完成" if percent >= 100 else ("滞后" if lag >= 35 else "正常推进")
                    if status == "已完成":
                        percent = 100
                    data = ReportInput(period=period_of(day).code, report_date=day, department=m.lead,
                                       reporter=rng.choice(["张敏", "李强", "王芳", "赵磊"]), status=status,
                                       percent=percent, done=rng.choice(DONE),
                                       problems=rng.choice(PROBLEMS) if lag >= 18 else "",
                                       next_steps=rng.choice(NEXT) if lag >= 18 else "")
                    # Entered on the report date or some days later (some after the period's due date), so the
                    # reporting calendar and 考核 have on-time and late reports to show.
                    entered = datetime.combine(day, time(9, 30)) + timedelta(days=rng.choice([0, 0, 1, 3, 6, 16, 24]))
                    entered = min(entered, datetime.combine(today, time(9, 0)))
                    with db.sessions.begin() as s:
                        view = svc.add_report(s, t.id, data, "演示数据", today)
                        s.execute(update(ProgressReport).where(ProgressReport.id == view.id)
                                  .values(created_at=entered))
                    n += 1
                    if m.cooperating and day.year == today.year and rng.random() < 0.5:
                        partner = rng.choice(m.cooperating)
                        data.department, data.reporter = partner, rng.choice(["陈静", "刘洋", "孙悦"])
                        data.done = rng.choice(DONE)
                        with db.sessions.begin() as s:
                            view = svc.add_report(s, t.id, data, "演示数据", today)
                            s.execute(update(ProgressReport).where(ProgressReport.id == view.id)
                                      .values(created_at=entered + timedelta(days=rng.choice([0, 2, 12]))))
                        n += 1
        _supervision(db, today, rng)
        with db.sessions() as s:
            compute_status(s, today)  # the demo must open cleanly
    finally:
        db.close()
    return n


def _supervision(db, today: date, rng: random.Random) -> None:
    """督办 items at every stage: opened for the lagging targets ten days ago, most sent, some answered, closed or
    continued."""
    from qjgb_desktop.services.supervision import items as sv

    start = today - timedelta(days=10)
    with db.sessions.begin() as s:
        items = sv.open_from_follow_ups(s, "督导室 周明", start)
    for i, item in enumerate(items):
        with db.sessions.begin() as s:
            if i % 5 == 4:
                continue  # still only 立项
            sv.assign(s, item.id, "督导室 周明", start + timedelta(days=1), f"{item.department} 联络员")
            if i % 5 in (1, 2, 3):
                sv.answer(s, item.id, f"{item.department} 联络员", start + timedelta(days=rng.randrange(3, 8)),
                          rng.choice(["已补报本季度进展并上传会议纪要。", "已制定整改方案，明确完成时限。"]))
            if i % 5 == 2:
                sv.close(s, item.id, "督导室 周明", today - timedelta(days=1), "整改到位，同意办结。")
            elif i % 5 == 3:
                sv.continue_item(s, item.id, "督导室 周明", today - timedelta(days=1), "佐证材料不足，请补充。")


def main() -> int:
    parser = argparse.ArgumentParser(description="生成演示数据文件夹（仅用于截图、培训和试用）")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 11, 20))
    args = parser.parse_args()
    if (args.folder / paths.DB_FILENAME).exists():
        print(f"{args.folder} 中已有数据库，未改动。", file=sys.stderr)
        return 2
    n = fill(args.folder, args.today)
    print(f"已生成演示数据：{args.folder}（{n} 份报告）")
    return 0


if __name__ == "__main__":
    sys.exit(main())

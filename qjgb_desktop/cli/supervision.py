"""Command line for the supervision office: `qjgb supervise …` (督办 items to closure), `qjgb calendar` (who has
reported for a period, on time or late, and what falls due within 7 days), `qjgb assess` (考核 per department)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from qjgb_desktop.cli.common import EXIT_OK, EXIT_USAGE, current_user, iso_date, over_database, whole_number

COMMANDS = ("supervise", "calendar", "assess")


def add_parsers(sub, common, parser_class) -> None:
    sup = sub.add_parser("supervise", parents=[common], help="督办事项：立项、交办、反馈、办结、继续督办、列出")
    ssub = sup.add_subparsers(dest="supervise_command", metavar="子命令", required=True, parser_class=parser_class)
    lst = ssub.add_parser("list", parents=[common], help="列出督办事项（最新在前）")
    lst.add_argument("--department", help="只列该部门的")
    lst.add_argument("--stage", choices=["立项", "交办", "反馈", "继续督办", "办结"], help="只列该环节的")
    lst.add_argument("--measure", type=whole_number, metavar="N", help="只列该措施的")
    lst.add_argument("--year", type=whole_number, metavar="Y", help="只列该年度的")
    lst.add_argument("--overdue", action="store_true", help="只列已过反馈期限仍未反馈的")
    lst.add_argument("--open", action="store_true", help="只列未办结的")
    lst.add_argument("--json", action="store_true", help="以 JSON 输出（含每一步）")
    op = ssub.add_parser("open", parents=[common], help="立项：为一个年度目标（默认交牵头部门）或一个部门立项")
    op.add_argument("--measure", type=whole_number, metavar="N", help="改革措施序号")
    op.add_argument("--year", type=whole_number, metavar="Y", help="年度目标的年份")
    op.add_argument("--department", help="督办的部门（默认年度目标的牵头部门）")
    op.add_argument("--reason", default="", help="立项原因（按部门立项时必填）")
    auto = ssub.add_parser("auto", parents=[common], help="为所有滞后、逾期、未填报且尚无未办结事项的年度目标立项")
    auto.add_argument("--department", help="只为该牵头部门的")
    asg = ssub.add_parser("assign", parents=[common], help="交办：发给谁、何时，附通知单文件")
    asg.add_argument("item", type=whole_number, help="督办事项编号")
    asg.add_argument("--to", required=True, help="交办对象（部门联系人）")
    asg.add_argument("--notice", type=Path, help="督办通知单文件（记录文件名和校验值）")
    asg.add_argument("--due", type=iso_date, help="反馈期限（默认按设置的天数）")
    ans = ssub.add_parser("answer", parents=[common], help="反馈：部门的答复，可引用该年度目标的佐证材料")
    ans.add_argument("item", type=whole_number, help="督办事项编号")
    ans.add_argument("--text", required=True, help="反馈内容")
    ans.add_argument("--evidence", type=whole_number, action="append", default=[], metavar="ID",
                     help="佐证材料编号（qjgb evidence list 中的 #，可重复）")
    cls = ssub.add_parser("close", parents=[common], help="办结")
    cls.add_argument("item", type=whole_number, help="督办事项编号")
    cls.add_argument("--note", default="", help="办结意见")
    cont = ssub.add_parser("continue", parents=[common], help="继续督办：写明理由和新的反馈期限")
    cont.add_argument("item", type=whole_number, help="督办事项编号")
    cont.add_argument("--note", required=True, help="继续督办的理由")
    cont.add_argument("--due", type=iso_date, help="新的反馈期限（默认按设置的天数）")
    for p in (op, auto, asg, ans, cls, cont):
        p.add_argument("--date", type=iso_date, help="这一步发生的日期（默认今天）")

    cal = sub.add_parser("calendar", parents=[common], help="填报日历：各部门本期已报、未报、逾期报，及 7 日内到期")
    cal.add_argument("--period", help="填报周期，如 2026Q4（默认今天所在周期）")
    cal.add_argument("--today", type=iso_date, help="按这一天计算（默认今天）")
    cal.add_argument("--json", action="store_true", help="以 JSON 输出")

    ass = sub.add_parser("assess", parents=[common], help="年度考核：各部门得分、规则与依据")
    ass.add_argument("--year", type=whole_number, required=True, metavar="Y", help="考核年度")
    ass.add_argument("--today", type=iso_date, help="按这一天计算（默认今天）")
    ass.add_argument("--department", help="只看该部门，并列出每一项的依据")
    ass.add_argument("--json", action="store_true", help="以 JSON 输出（含依据）")


def run(args, open_db) -> int:
    from qjgb_desktop.services.progress.reports import ProgressError
    from qjgb_desktop.services.settings.record import SettingError
    from qjgb_desktop.services.supervision.items import SupervisionError

    command = {"supervise": _supervise, "calendar": _calendar, "assess": _assess}[args.command]
    return over_database(args, open_db, command, (SupervisionError, ProgressError, SettingError))


def _dump(value) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _item_line(i) -> str:
    due = f" 反馈期限 {i.feedback_due.isoformat()}" if i.feedback_due and i.stage != "办结" else ""
    late = " [已逾期]" if i.overdue else ""
    return f"#{i.id} {i.subject} {i.department} {i.stage}{due}{late}  立项 {i.opened_on.isoformat()}：{i.reason[:40]}"


def _supervise(args, db) -> int:
    from qjgb_desktop.services.progress import reports as progress
    from qjgb_desktop.services.supervision import items as svc

    cmd = args.supervise_command
    today = date.today()
    if cmd == "list":
        with db.sessions() as s:
            target_id = progress.target_id_for(s, args.measure, args.year) if args.measure and args.year else None
            items = svc.list_items(s, today, department=args.department, stage=args.stage, target_id=target_id,
                                   year=args.year, overdue_only=args.overdue, open_only=args.open)
            if args.measure and target_id is None:
                items = [i for i in items if i.measure_no == args.measure]
        if args.json:
            _dump([i.as_json() for i in items])
        else:
            for i in items:
                print(_item_line(i))
            if not items:
                print("没有督办事项。")
        return EXIT_OK
    user = current_user(args)
    day = args.date or today
    with db.sessions.begin() as s:
        if cmd == "open":
            if (args.measure is None) != (args.year is None):
                print("错误：按年度目标立项须同时给出 --measure 和 --year", file=sys.stderr)
                return EXIT_USAGE
            target_id = progress.target_id_for(s, args.measure, args.year) if args.measure else None
            items = [svc.open_item(s, user, day, target_id=target_id, department=args.department,
                                   reason=args.reason, origin="manual" if target_id is None else "target")]
        elif cmd == "auto":
            items = svc.open_from_follow_ups(s, user, day, department=args.department)
        elif cmd == "assign":
            items = [svc.assign(s, args.item, user, day, args.to, notice=args.notice, feedback_due=args.due)]
        elif cmd == "answer":
            items = [svc.answer(s, args.item, user, day, args.text, args.evidence)]
        elif cmd == "close":
            items = [svc.close(s, args.item, user, day, args.note)]
        else:
            items = [svc.continue_item(s, args.item, user, day, args.note, feedback_due=args.due)]
    # Printed only after the commit returned.
    if cmd == "auto":
        print(f"已立项 {len(items)} 项督办事项。" if items else "没有需要新立项的年度目标。")
    for i in items:
        print(("已" + {"open": "立项", "auto": "立项"}.get(cmd, i.stage) + "：") + _item_line(i))
    return EXIT_OK


def _calendar(args, db) -> int:
    from qjgb_desktop.domain.periods import PeriodError, parse_period, period_of
    from qjgb_desktop.services.settings.record import load_settings
    from qjgb_desktop.services.supervision import calendar as cal

    today = args.today or date.today()
    with db.sessions() as s:
        try:
            period = parse_period(args.period) if args.period else period_of(today, load_settings(s).scheme)
        except PeriodError as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return EXIT_USAGE
        subs = cal.submissions(s, period, today)
        soon = cal.due_soon(s, today)
        due = cal.due_date(load_settings(s), period)
    if args.json:
        _dump({"period": period.code, "due": due.isoformat(), "today": today.isoformat(),
               "departments": [{"department": x.department, "state": x.state, "expected": x.expected,
                                "on_time": x.on_time, "late": x.late, "missing": x.missing, "overdue": x.overdue}
                               for x in subs],
               "due_soon": [{"period": d.period.code, "due": d.due.isoformat(), "days_left": d.days_left,
                             "departments": [x.department for x in d.departments]} for d in soon]})
        return EXIT_OK
    print(f"{period.label} 报送截止 {due.isoformat()}（{'已过' if today > due else '未到'}）")
    for x in subs:
        flag = "（已逾期）" if x.overdue else ""
        print(f"{x.department}\t{x.state}{flag}\t应报 {x.expected}，按期 {x.on_time}，逾期 {x.late}，未报 {x.missing}")
    for d in soon:
        names = "、".join(x.department for x in d.departments) or "无"
        print(f"7 日内到期：{d.period.label}，{d.due.isoformat()}（还有 {d.days_left} 天），尚未报齐：{names}")
    return EXIT_OK


def _assess(args, db) -> int:
    from qjgb_desktop.services.supervision import assessment

    today = args.today or date.today()
    with db.sessions() as s:
        scores = assessment.assess(s, args.year, today)
        rule = assessment.rule_text(s)
    if args.department:
        scores = [x for x in scores if x.department == args.department]
        if not scores:
            print(f"错误：计划中没有名为“{args.department}”的部门", file=sys.stderr)
            return EXIT_USAGE
    if args.json:
        _dump({"year": args.year, "today": today.isoformat(), "rule": rule, "scores": [x.as_json() for x in scores]})
        return EXIT_OK
    group = None
    for x in scores:
        if x.group != group:
            group = x.group
            print(f"【{group}】")
        parts = "，".join(f"{c.label} {c.score:.1f}" if c.counted else f"{c.label} 不计" for c in x.components)
        print(f"{x.rank_label}\t{x.department}\t{x.total:.1f}\t{parts}" + (f"\t（{x.note}）" if x.note else ""))
        if args.department:
            for c in x.components:
                print(f"  {c.label}（权重 {c.weight:g}）：{c.basis}")
                for line in c.records:
                    print(f"    {line}")
    print(rule)
    print(assessment.worked_example())
    return EXIT_OK

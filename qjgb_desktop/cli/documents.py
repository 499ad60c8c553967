"""Command line for Word documents: `qjgb report` (进展情况报告) and `qjgb notice` (督办通知单).

Exit codes as elsewhere: 0 done, 1 the work failed (a file that cannot be written: main's error family), 2 bad
arguments (a period, year or department that does not exist, an --out that is not .docx). The success line is
printed only once the file is in place.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from qjgb_desktop.cli.common import EXIT_OK, EXIT_USAGE, current_user, iso_date, over_database, whole_number

COMMANDS = ("report", "notice")


def add_parsers(sub, common, parser_class) -> None:
    report = sub.add_parser("report", parents=[common], help="生成进展情况报告（Word，公文格式）")
    scope = report.add_mutually_exclusive_group(required=True)
    scope.add_argument("--period", help="填报周期，如 2026Q4 或 2026-11")
    scope.add_argument("--year", type=whole_number, help="年度，如 2026（含年度考核）")
    report.add_argument("--out", required=True, type=Path, help="输出的 .docx 文件")
    report.add_argument("--today", type=iso_date, help="按这一天统计（默认今天）")
    report.add_argument("--issuer", default="", help="落款单位（默认不写落款单位，只写日期）")

    notice = sub.add_parser("notice", parents=[common], help="生成督办通知单（Word，每个牵头部门一份）")
    who = notice.add_mutually_exclusive_group(required=True)
    who.add_argument("--department", metavar="NAME", help="一个部门")
    who.add_argument("--all", action="store_true", help="所有有需督办目标的牵头部门")
    who.add_argument("--list", action="store_true", help="列出已登记的通知单及其文号（发文登记）")
    notice.add_argument("--out", type=Path, help="输出文件夹（生成通知单时必填）")
    notice.add_argument("--today", type=iso_date, help="按这一天计算（默认今天）")
    notice.add_argument("--issuer", default="", help="落款单位（默认不写落款单位，只写日期）")
    notice.add_argument("--register", action="store_true",
                        help="登记发文并交办：每份通知单编上文号（如 督办〔2026〕3号）记入发文登记，这些部门尚未交办的"
                             "督办事项附上通知单（没有事项的目标先立项）；不加则生成文号空白的草稿")
    notice.add_argument("--year", type=whole_number, help="与 --list 合用：只列这一年的")
    notice.add_argument("--json", action="store_true", help="与 --list 合用：JSON 输出")


def run(args, open_db) -> int:
    if args.command == "report" and args.out.suffix.lower() != ".docx":
        print(f"错误：--out 应以 .docx 结尾，收到“{args.out}”", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "notice" and not args.list and args.out is None:
        print("错误：生成通知单须用 --out 指定输出文件夹", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "notice" and not args.list and args.out.exists() and not args.out.is_dir():
        print(f"错误：--out 应为文件夹，“{args.out}”是一个文件", file=sys.stderr)
        return EXIT_USAGE
    return over_database(args, open_db, _report if args.command == "report" else _notice)


def _report(args, db) -> int:
    from qjgb_desktop.services.documents.report import ReportError, build_progress_report

    try:
        with db.sessions() as s:
            summary = build_progress_report(s, args.out, period=args.period, year=args.year,
                                            today=args.today or date.today(), issuer=args.issuer)
    except ReportError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"已生成：{args.out}（{summary.scope}，统计截至 {summary.as_of.isoformat()}；{summary.measures} 项措施，"
          f"引用部门报送 {summary.reports} 份，{summary.silent} 项措施无报送；指标 {summary.indicators} 项，"
          f"图表 {summary.pictures} 幅，督办事项 {summary.supervision} 项"
          + (f"，考核 {summary.assessed} 个部门" if summary.assessed else "") + "）")
    return EXIT_OK


def _notice_list(args, db) -> int:
    import json

    from qjgb_desktop.services.supervision.items import list_notices

    with db.sessions() as s:
        notices = list_notices(s, args.year)
    if args.json:
        json.dump([n.as_json() for n in notices], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif not notices:
        print("发文登记中还没有通知单（用 qjgb notice --all --out 文件夹 --register 生成并登记）")
    else:
        for n in notices:
            print(f"{n.number}  {n.issued_on.isoformat()}  {n.department}  {n.file_name}  交办 {n.items} 项  {n.actor}")
    return EXIT_OK


def _notice(args, db) -> int:
    from qjgb_desktop.services.documents.notice import NoticeError, issue_notices, write_notices

    if args.list:
        return _notice_list(args, db)
    today = args.today or date.today()
    recorded, numbers = [], {}
    try:
        if args.register:

            with db.sessions.begin(purpose="登记督办通知单") as s:  # numbered, written and registered at once
                issued = issue_notices(s, args.out, actor=current_user(args), department=args.department,
                                       today=today, issuer=args.issuer)
            written, recorded, numbers = issued.files, issued.recorded, issued.numbers
        else:
            with db.sessions() as s:
                written = write_notices(s, args.out, department=args.department, today=today, issuer=args.issuer)
    except NoticeError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USAGE
    for path in written:
        print(f"已生成：{path}")
    if args.department and not written:
        print(f"{args.department} 截至 {today.isoformat()} 没有需要督办的牵头年度目标（滞后、逾期或未填报），未生成通知单。")
    elif not args.department:
        print(f"共生成 {len(written)} 份督办通知单到 {args.out}" if written else
              f"截至 {today.isoformat()} 没有需要督办的年度目标，未生成通知单。")
    if numbers:
        print(f"已登记发文 {len(numbers)} 份，交办 {len(recorded)} 项督办事项（附通知单）")
    elif written:
        print("这些是文号空白的草稿；加 --register 生成时编号并登记发文和交办")
    return EXIT_OK

"""Command line for Excel: `qjgb export`, `qjgb template`, `qjgb import`."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from qjgb_desktop.cli.common import EXIT_OK, EXIT_USAGE, current_user, iso_date, over_database, whole_number

COMMANDS = ("export", "template", "import")


def add_parsers(sub, common, parser_class) -> None:
    export = sub.add_parser("export", parents=[common], help="导出给领导看的 Excel（附表进度、指标、进展明细、督办清单）")
    export.add_argument("--out", required=True, type=Path, help="输出的 .xlsx 文件")
    export.add_argument("--year", type=whole_number, help="进展年度（默认：今天所在年度）")
    export.add_argument("--today", type=iso_date, help="按这一天计算（默认今天）")

    template = sub.add_parser("template", parents=[common], help="下发填报模板（每个部门一个 .xlsx）")
    who = template.add_mutually_exclusive_group(required=True)
    who.add_argument("--department", metavar="NAME", help="一个部门：--out 为 .xlsx 文件")
    who.add_argument("--all", action="store_true", help="所有有责任目标的部门：--out 为文件夹")
    template.add_argument("--period", required=True, help="填报周期，如 2025Q3")
    template.add_argument("--out", required=True, type=Path)

    imp = sub.add_parser("import", parents=[common], help="回收各部门交回的模板：检查、预览，全部无误时一次导入")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="只检查和预览，不写入")
    imp.add_argument("--period", help="本次回收的周期（如 2025Q3；默认为这批文件中最新的周期）：其他周期的模板须明确选择才导入")
    imp.add_argument("--accept-other-periods", action="store_true",
                     help="明确导入不是本次回收周期的模板（补录以前的周期）")
    imp.add_argument("--returns", type=Path, metavar="DIR",
                     help="有错误时，把每个有错误的文件加上“退回”工作表另存到此文件夹，便于退回部门修改")
    imp.add_argument("--json", action="store_true",
                     help="以 JSON 输出每个文件、每一行的结果（新增/修改/无变化/未填/错误）、变更字段（原→新）和问题")
    imp.add_argument("--today", type=iso_date, help=argparse_suppress())


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


def run(args, open_db) -> int:
    from qjgb_desktop.services.progress.reports import ProgressError

    command = {"export": _export, "template": _template, "import": _import}[args.command]
    return over_database(args, open_db, command, (ProgressError,))


def _export(args, db) -> int:
    if args.out.suffix.lower() != ".xlsx":
        print("错误：--out 应以 .xlsx 结尾", file=sys.stderr)
        return EXIT_USAGE
    from qjgb_desktop.services.collection.export import export_workbook

    with db.sessions() as s:
        try:
            counts = export_workbook(s, args.out, year=args.year, today=args.today or date.today())
        except ValueError as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return EXIT_USAGE
    print(f"已导出：{args.out}（" + "，".join(f"{k} {v} 行" for k, v in counts.items()) + "）")
    return EXIT_OK


def _template(args, db) -> int:
    from qjgb_desktop.services.collection.templates import write_template, write_templates
    from qjgb_desktop.services.plan.query import plan_tree

    with db.sessions() as s:
        if args.department:
            if args.out.suffix.lower() != ".xlsx":
                print("错误：--out 应以 .xlsx 结尾", file=sys.stderr)
                return EXIT_USAGE
            n = write_template(s, args.department, args.period, args.out)
            print(f"已生成：{args.out}（{n} 个年度目标）")
        else:
            paths = write_templates(s, plan_tree(s).departments, args.period, args.out)
            print(f"已生成 {len(paths)} 个部门的模板到 {args.out}")
    return EXIT_OK


def _import(args, db) -> int:
    from qjgb_desktop.services.collection.batch import check_batch
    from qjgb_desktop.services.collection.commit import commit
    from qjgb_desktop.services.collection.returns import ERROR, read_return

    today = getattr(args, "today", None) or date.today()
    with db.sessions() as s:
        previews = [read_return(s, f, today, args.period) for f in args.files]
    collecting = check_batch(previews, args.period)
    other = [p for p in previews if p.other_period and not p.superseded_by and not p.errors]
    ok = all(p.ok for p in previews) and (not other or args.accept_other_periods)
    report = {"files": [p.as_json() for p in previews], "collecting": collecting or None, "ok": ok,
              "committed": False}
    if not args.json:
        for p in previews:
            _print_preview(p)
        if other and not args.accept_other_periods:
            print(f"本次回收 {collecting} 周期；以下文件是其他周期的模板，须用 --accept-other-periods 明确导入：" +
                  "、".join(f"{p.file.name}（{p.period}）" for p in other), file=sys.stderr)
    if not ok:
        if args.returns:
            from qjgb_desktop.services.collection.commit import write_returns

            report["returns"] = []
            for p in previews:
                bad = [r for r in p.rows if r.kind == ERROR]
                if bad and not p.errors:
                    out = write_returns(p, bad, args.returns / f"{p.file.stem}-退回.xlsx")
                    report["returns"].append(str(out))
                    if not args.json:
                        print(f"已生成退回表：{out}")
        _emit_json(args, report)
        print("有错误：未导入任何内容。请修改后重新导入。", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run:
        _emit_json(args, report)
        if not args.json:
            print("（试运行：全部无误，未写入）")
        return EXIT_OK
    with db.sessions.begin() as s:
        summary = commit(s, previews, current_user(args), today, accept_other_periods=args.accept_other_periods)
    # only now, after the commit, is anything reported as imported
    report["committed"] = True
    report["summary"] = {"reports_added": summary.reports_added, "reports_corrected": summary.reports_corrected,
                         "values_added": summary.values_added, "skipped_files": summary.skipped_files,
                         "superseded": summary.superseded}
    _emit_json(args, report)
    if not args.json:
        print(f"已导入：新增报告 {summary.reports_added}，修订报告 {summary.reports_corrected}，"
              f"指标值 {summary.values_added}")
    return EXIT_OK


def _emit_json(args, report: dict) -> None:
    if args.json:
        import json

        print(json.dumps(report, ensure_ascii=False, indent=1))


def _print_preview(p) -> None:
    from qjgb_desktop.services.collection.returns import CHANGED, EMPTY, ERROR, NEW, UNCHANGED

    saved = f"，保存于 {p.saved_at:%Y-%m-%d %H:%M:%S}" if p.saved_at else ""
    print(f"{p.file.name}：{p.department or '?'} {p.period or ''}{saved}" +
          ("（此文件已导入过，不会重复导入）" if p.already_imported else "") +
          (f"（已被后保存的“{p.superseded_by}”取代，不导入）" if p.superseded_by else "") +
          (f"（不是本次回收的 {p.other_period} 周期）" if p.other_period and not p.superseded_by else ""))
    for e in p.errors:
        print(f"  错误：{e}")
    for r in p.rows:
        if r.kind in (EMPTY, UNCHANGED):
            continue
        print(f"  {r.sheet} 第{r.row}行 {r.label}：{r.kind}" + (f"（{r.reason}）" if r.reason else ""))
        for c in r.changes:
            print(f"      {c.summary(60, '（空）')}")
    print(f"  合计：新增 {p.count(NEW)}，修改 {p.count(CHANGED)}，无变化 {p.count(UNCHANGED)}，"
          f"未填 {p.count(EMPTY)}，错误 {p.count(ERROR) + len(p.errors)}")

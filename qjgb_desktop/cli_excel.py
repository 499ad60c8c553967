"""Command line for Excel: `qjgb export`."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from .cli_progress import iso_date

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
COMMANDS = ("export",)


def add_parsers(sub, common, parser_class) -> None:
    export = sub.add_parser("export", parents=[common], help="导出给领导看的 Excel（附表进度、指标、进展明细、督办清单）")
    export.add_argument("--out", required=True, type=Path, help="输出的 .xlsx 文件")
    export.add_argument("--year", type=int, help="进展年度（默认：今天所在年度）")
    export.add_argument("--today", type=iso_date, help="按这一天计算（默认今天）")


def run(args, open_db) -> int:
    if args.out.suffix.lower() != ".xlsx":
        print("错误：--out 应以 .xlsx 结尾", file=sys.stderr)
        return EXIT_USAGE
    from .services.excel_export import export_workbook

    db = open_db()
    try:
        with db.sessions() as s:
            try:
                counts = export_workbook(s, args.out, year=args.year, today=args.today or date.today())
            except ValueError as exc:
                print(f"错误：{exc}", file=sys.stderr)
                return EXIT_USAGE
            except OSError as exc:
                print(f"错误：无法写入 {args.out}：{exc.strerror or exc}", file=sys.stderr)
                return EXIT_FAIL
    finally:
        db.close()
    print(f"已导出：{args.out}（" + "，".join(f"{k} {v} 行" for k, v in counts.items()) + "）")
    return EXIT_OK

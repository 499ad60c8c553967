"""Command line for evidence: `qjgb evidence add|list|remove|purge|export` and `qjgb verify`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qjgb_desktop.cli.common import EXIT_FAIL, EXIT_OK, current_user, over_database, whole_number

COMMANDS = ("evidence", "verify")


def add_parsers(sub, common, parser_class) -> None:
    evidence = sub.add_parser("evidence", parents=[common], help="佐证材料：添加、列出、移除、清理、导出迎检材料")
    esub = evidence.add_subparsers(dest="evidence_command", metavar="子命令", required=True,
                                   parser_class=parser_class)
    add = esub.add_parser("add", parents=[common], help="把文件添加为某年度目标的佐证材料")
    add.add_argument("--measure", type=whole_number, required=True, metavar="N")
    add.add_argument("--year", type=whole_number, required=True, metavar="Y")
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add.add_argument("--report", type=whole_number, metavar="ID", help="同时关联到该进展报告")
    add.add_argument("--note", default="", help="说明")
    lst = esub.add_parser("list", parents=[common], help="列出佐证材料")
    lst.add_argument("--measure", type=whole_number, metavar="N")
    lst.add_argument("--removed", action="store_true", help="包括已移除的")
    lst.add_argument("--json", action="store_true")
    rm = esub.add_parser("remove", parents=[common], help="移除（保留记录，须写原因）")
    rm.add_argument("id", type=whole_number)
    rm.add_argument("--reason", required=True)
    esub.add_parser("purge", parents=[common], help="管理员：删除已不被使用的存储文件")
    export = esub.add_parser("export", parents=[common], help="导出迎检材料（文件夹或 .zip，含清单）")
    scope = export.add_mutually_exclusive_group(required=True)
    scope.add_argument("--measure", type=whole_number, metavar="N")
    scope.add_argument("--action", type=whole_number, metavar="N", help="改革任务序号 1–5")
    scope.add_argument("--department", metavar="NAME")
    export.add_argument("--out", type=Path, required=True, help="新文件夹，或以 .zip 结尾的文件")
    sub.add_parser("verify", parents=[common], help="重新计算每个存储文件的校验值，报告缺失、损坏和多余的文件；"
                   "顺带清理中断的复制留下的临时文件")


def run(args, open_db) -> int:
    from qjgb_desktop.services.progress.reports import ProgressError

    command = (lambda _args, db: _verify(db)) if args.command == "verify" else _evidence
    return over_database(args, open_db, command, (ProgressError,))


def _evidence(args, db) -> int:
    from qjgb_desktop.services.evidence import pack as ev_pack
    from qjgb_desktop.services.evidence import records as ev
    from qjgb_desktop.services.progress.reports import target_id_for

    cmd = args.evidence_command
    user = current_user(args)
    if cmd == "add":
        with db.sessions.begin() as s:
            target = target_id_for(s, args.measure, args.year)
            views = ev.attach(s, target, args.files, user, note=args.note, report_id=args.report)
        for v in views:
            print(f"已添加 #{v.id}：{v.original_name}（{v.size} 字节，sha256 {v.sha256[:12]}…）→ 措施{v.measure_no}·{v.year}年")
        return EXIT_OK
    if cmd == "list":
        with db.sessions() as s:
            items = ev.list_evidence(s, measure_no=args.measure, include_deleted=args.removed)
        if args.json:
            json.dump([v.as_json() for v in items], sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            for v in items:
                flag = f" [已移除：{v.delete_reason}]" if v.deleted else ""
                print(f"#{v.id} 措施{v.measure_no}·{v.year} {v.original_name} {v.size}字节 {v.created_by} "
                      f"{v.created_at:%Y-%m-%d}{flag}  {v.description}")
            if not items:
                print("没有佐证材料。")
        return EXIT_OK
    if cmd == "remove":
        with db.sessions.begin() as s:
            ev.remove(s, args.id, args.reason, user)
        print(f"已移除佐证材料 #{args.id}（记录和原因保留）")
        return EXIT_OK
    if cmd == "purge":
        with db.sessions.begin() as s:
            gone = ev.purge(s, user)
        print(f"已删除 {len(gone)} 个不再使用的存储文件")
        return EXIT_OK
    with db.sessions() as s:
        n = ev_pack.export_pack(s, args.out, measure_no=args.measure, action_no=args.action, department=args.department)
    print(f"已导出 {n} 个文件到 {args.out}（清单.csv 列出每个文件的 SHA-256）")
    return EXIT_OK


def _verify(db) -> int:
    from qjgb_desktop.services.evidence.records import verify

    with db.sessions() as s:
        report = verify(s)
    print(f"已检查 {report.checked} 个存储文件。")
    for label, items in (("缺失", report.missing), ("损坏（内容与记录的 SHA-256 不符）", report.corrupt),
                         ("多余（无记录且内容与名称不符）", report.orphaned)):
        if items:
            print(f"{label} {len(items)} 个：" + "；".join(items))
    # Leftovers of interrupted copies are not damage: reported apart, and never a reason to exit 1.
    if report.unrecorded:
        print(f"未登记的完整存储文件 {len(report.unrecorded)} 个：中断的添加（或恢复了较早的数据库）留下，不是损坏；"
              "管理员可用 qjgb evidence purge 清除。")
    if report.leftovers_cleaned:
        print(f"临时文件（中断的复制留下）{report.leftovers_cleaned} 个，已清理"
              f"（释放 {_size(report.leftover_bytes_cleaned)}）。")
    if report.leftovers:
        print(f"临时文件（中断的复制留下）{len(report.leftovers)} 个暂未清理：10 分钟内仍有写入（可能正有复制在进行）；"
              "不是损坏，稍后再运行 qjgb verify 或下次启动程序时会自动清理。")
    if report.ok:
        print("全部完好。")
        return EXIT_OK
    return EXIT_FAIL


def _size(n: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} 字节"

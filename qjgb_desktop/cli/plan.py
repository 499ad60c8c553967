"""Command line for the plan: `qjgb init` (data folder, database, the built-in plan) and `qjgb plan [--json]`,
`qjgb plan load FILE [--dry-run]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qjgb_desktop import paths
from qjgb_desktop.cli.common import EXIT_OK, Failure

COMMANDS = ("init", "plan")


def add_parsers(sub, common, parser_class) -> None:
    sub.add_parser("init", parents=[common], help="创建数据文件夹和数据库并载入内置计划，输出其位置")

    plan = sub.add_parser("plan", parents=[common], help="查看或更新行动计划")
    plan.add_argument("--json", action="store_true", help="以 JSON 输出数据库中的计划")
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="子命令", parser_class=parser_class)
    load = plan_sub.add_parser("load", parents=[common], help="载入修订后的计划文件（JSON），保留已有进展")
    load.add_argument("file", type=Path, help="计划文件，格式同 resources/plan/plan.json")
    load.add_argument("--dry-run", action="store_true", help="只列出将发生的变化，不写入")



def run(args, open_db) -> int:
    return _init(open_db) if args.command == "init" else _plan(args, open_db)


def _init(open_db) -> int:
    db = open_db()
    try:
        with db.sessions() as session:
            from qjgb_desktop.services.plan.query import plan_tree

            tree = plan_tree(session)
        summary = []
        if db.sessions.server:
            from qjgb_desktop.services.accounts.server import setup_summary

            with db.sessions() as session:
                summary = setup_summary(session)
    finally:
        db.close()
    print(f"数据文件夹：{paths.data_dir()}")
    print(f"数据库：{db.url}")
    schema = {"current": "已是最新", "created": "已创建", "secured": "已设置服务器权限"}.get(db.schema_action,
                                                                                   db.schema_action)
    print(f"数据库结构：{schema}")
    if summary:
        print("\n".join(summary))
    n_measures = sum(len(a.measures) for a in tree.actions)
    print(f"计划：{tree.title}（{tree.status}）{'已载入' if db.seeded else '已存在，未改动'}，"
          f"{len(tree.actions)} 项任务、{n_measures} 项措施、"
          f"{sum(len(m.targets) for a in tree.actions for m in a.measures)} 个年度目标")
    return EXIT_OK


def _plan(args, open_db) -> int:
    if args.plan_command == "load":
        return _plan_load(args, open_db)
    db = open_db()
    try:
        with db.sessions() as session:
            from qjgb_desktop.services.plan.query import plan_as_dict, plan_tree

            tree = plan_tree(session)
            if args.json:
                json.dump(plan_as_dict(tree), sys.stdout, ensure_ascii=False, indent=2)
                sys.stdout.write("\n")
                return EXIT_OK
    finally:
        db.close()
    print(f"{tree.title}（{tree.status}）")
    for a in tree.actions:
        print(f"（{a.numeral}）{a.title}")
        for m in a.measures:
            print(f"  {m.no}. {m.title}  牵头：{m.lead}  配合：{'、'.join(m.cooperating) or '无'}")
    return EXIT_OK


def _plan_load(args, open_db) -> int:
    from qjgb_desktop.services.plan.load import PlanRecordError, load_plan, read_plan_file

    try:
        record = read_plan_file(args.file)
    except PlanRecordError as exc:
        raise Failure(str(exc)) from exc
    db = open_db()
    try:
        with db.sessions.begin(purpose="载入计划", dry_run=args.dry_run) as session:
            actor = args.user if getattr(args, "account", None) else "qjgb plan load"  # the account, when logged in
            summary = load_plan(session, record, actor=actor, source=str(args.file))
    finally:
        db.close()
    verb = "将" if args.dry_run else "已"
    if summary.unchanged:
        print("计划与数据库中的一致，没有变化。")
    for label, items in (("新增", summary.added), ("修改", summary.changed), ("停用", summary.retired)):
        if items:
            print(f"{verb}{label} {len(items)} 项：{'；'.join(items)}")
    if args.dry_run:
        print("（试运行，未写入）")
    return EXIT_OK

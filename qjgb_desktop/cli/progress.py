"""Command line for progress: `qjgb progress …`, `qjgb indicator …`, `qjgb status`, `qjgb period …`, `qjgb admin`,
`qjgb settings`. Bad arguments, including a report that fails validation, exit with 2 and write nothing."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from qjgb_desktop.cli.common import EXIT_OK, current_user, iso_date, over_database, whole_number


def add_parsers(sub, common, parser_class) -> None:
    progress = sub.add_parser("progress", parents=[common], help="进展填报：新增、修订、删除、列出")
    psub = progress.add_subparsers(dest="progress_command", metavar="子命令", required=True,
                                   parser_class=parser_class)
    add = psub.add_parser("add", parents=[common], help="新增一条进展报告")
    _report_fields(add, required=True)
    correct = psub.add_parser("correct", parents=[common], help="修订一条报告（保留旧版本）")
    correct.add_argument("id", type=whole_number, help="报告编号（qjgb progress list 可查）")
    _report_fields(correct, required=False)
    delete = psub.add_parser("delete", parents=[common], help="删除一条报告（保留记录，须写原因）")
    delete.add_argument("id", type=whole_number)
    delete.add_argument("--reason", required=True, help="删除原因")
    lst = psub.add_parser("list", parents=[common], help="列出报告（最新在前）")
    lst.add_argument("--measure", type=whole_number, metavar="N")
    lst.add_argument("--history", action="store_true", help="包括被修订的旧版本和已删除的报告")
    lst.add_argument("--json", action="store_true")

    ind = sub.add_parser("indicator", parents=[common], help="指标实际值")
    isub = ind.add_subparsers(dest="indicator_command", metavar="子命令", required=True,
                              parser_class=parser_class)
    iset = isub.add_parser("set", parents=[common], help="录入指标实际值")
    iset.add_argument("--measure", type=whole_number, required=True, metavar="N")
    iset.add_argument("--name", required=True, help="指标名称（可写其中一部分）")
    iset.add_argument("--value", required=True, help="实际值，如 96.8")
    iset.add_argument("--date", type=iso_date, help="截至日期（默认今天）")
    iset.add_argument("--note", default="")
    ilist = isub.add_parser("list", parents=[common], help="列出指标的目标与实际值")
    ilist.add_argument("--measure", type=whole_number, metavar="N")
    ilist.add_argument("--json", action="store_true")

    status = sub.add_parser("status", parents=[common], help="红黄绿灯与汇总（任务、措施、部门）")
    status.add_argument("--json", action="store_true")
    status.add_argument("--today", type=iso_date, help="按这一天计算（默认今天）")

    period = sub.add_parser("period", parents=[common], help="关闭或重新开放填报周期")
    persub = period.add_subparsers(dest="period_command", metavar="子命令", required=True,
                                   parser_class=parser_class)
    close = persub.add_parser("close", parents=[common], help="关闭周期，锁定其中的报告")
    close.add_argument("period", help="如 2025Q3 或 2025-09")
    reopen = persub.add_parser("reopen", parents=[common], help="重新开放周期（管理员，须写原因）")
    reopen.add_argument("period")
    reopen.add_argument("--reason", required=True)
    persub.add_parser("list", parents=[common], help="列出已关闭的周期")

    chart = sub.add_parser("chart", parents=[common], help="生成图表（PNG、SVG 或 PDF，按文件扩展名）")
    chart.add_argument("--kind", required=True,
                       choices=["overview", "actions", "departments", "status", "activity", "lagging", "indicator"])
    chart.add_argument("--out", required=True, type=Path)
    chart.add_argument("--year", type=whole_number, help="年度（默认：今天所在年度）")
    chart.add_argument("--today", type=iso_date, help="按这一天计算（默认今天）")
    chart.add_argument("--measure", type=whole_number, metavar="N", help="指标图：措施序号")
    chart.add_argument("--indicator", metavar="NAME", help="指标图：指标名称（可写其中一部分）")

    audit = sub.add_parser("audit", parents=[common], help="查看留痕（谁、何时、改了什么、改前改后）")
    audit.add_argument("--limit", type=whole_number, default=50, help="最近多少条（默认 50）")
    audit.add_argument("--entity", help="只看某类记录，如 progress_report、closed_period、setting")
    audit.add_argument("--json", action="store_true")

    admin = sub.add_parser("admin", parents=[common], help="管理员")
    admin.add_argument("action", choices=["add", "list"])
    admin.add_argument("name", nargs="?")

    settings = sub.add_parser("settings", parents=[common], help="查看或修改预警阈值与填报周期方式")
    settings.add_argument("--green-margin", type=float, help="低于应完成进度多少个百分点以内仍为“正常”（默认 10）")
    settings.add_argument("--yellow-margin", type=float, help="低于应完成进度多少个百分点以内为“关注”（默认 25）")
    settings.add_argument("--scheme", choices=["quarterly", "monthly"], help="填报周期：quarterly 季度，monthly 月")
    settings.add_argument("--max-evidence-mb", type=float, help="单个佐证文件大小上限（MB，默认 500）")
    settings.add_argument("--due-days", type=int, help="报送期限：周期结束后多少天（默认 10）")
    settings.add_argument("--due-date", action="append", metavar="周期=日期", default=[],
                          help="某一周期另定的报送截止日期，如 2026Q4=2027-01-15；只写 2026Q4= 则恢复按天数计算（可重复）")
    settings.add_argument("--cooperating-duty", metavar="none|all|措施序号",
                          help="配合部门是否须自行报送进展：none 仅牵头部门（默认），all 全部配合部门，或措施序号如 3,7")
    settings.add_argument("--feedback-days", type=int, help="督办通知要求反馈的天数（默认 7）")
    settings.add_argument("--notice-prefix", metavar="代字", help="督办通知单文号的机关代字（默认 督办 → 督办〔2026〕1号）")
    settings.add_argument("--weight", action="append", metavar="项=权重", default=[],
                          help="考核权重：completion 完成度、timeliness 按时报送、evidence 佐证、supervision 督办办结，"
                               "如 completion=40（可重复）")


def _report_fields(p, required: bool) -> None:
    if required:
        p.add_argument("--measure", type=whole_number, required=True, metavar="N", help="改革措施序号 1–20")
        p.add_argument("--year", type=whole_number, required=True, metavar="Y", help="年度目标 2025/2026/2027")
    p.add_argument("--status", required=required, help="未启动 / 正常推进 / 滞后 / 已完成 / 暂缓")
    p.add_argument("--percent", required=required, help="完成度 0–100")
    p.add_argument("--period", help="填报周期，如 2025Q3（默认：填报日期所在周期）")
    p.add_argument("--date", type=iso_date, help="填报日期（默认今天）")
    p.add_argument("--department", help="填报部门（默认牵头部门）")
    p.add_argument("--reporter", help="填报人（默认上次的填报人或当前用户）")
    p.add_argument("--done", help="工作进展")
    p.add_argument("--problems", help="存在问题")
    p.add_argument("--next", dest="next_steps", help="下步计划")


COMMANDS = ("progress", "indicator", "status", "chart", "period", "audit", "admin", "settings")


def run(args, open_db) -> int:
    from qjgb_desktop.services.progress.reports import ProgressError
    from qjgb_desktop.services.settings.record import SettingError

    return over_database(args, open_db, _dispatch, (ProgressError, SettingError))


def _dispatch(args, db) -> int:
    handler = {
        "progress": _progress, "indicator": _indicator, "status": _status, "period": _period,
        "chart": _chart, "audit": _audit, "admin": _admin, "settings": _settings,
    }[args.command]
    return handler(args, db)


def _report_input(session, args, defaults=None, base=None):
    """A ReportInput from the arguments; what is not given comes from the corrected report or the defaults."""
    from qjgb_desktop.domain.periods import period_of
    from qjgb_desktop.domain.validation import ReportInput
    from qjgb_desktop.services.settings.record import load_settings

    source = base or defaults
    day = args.date or (base.report_date if base else date.today())
    if args.period:
        period = args.period
    elif base and not args.date:
        period = base.period
    else:
        period = period_of(day, load_settings(session).scheme).code

    def pick(name: str, fallback=""):
        given = getattr(args, name)
        return given if given is not None else getattr(base, name, fallback) if base else fallback

    return ReportInput(period=period, report_date=day,
                       department=args.department or source.department,
                       reporter=args.reporter or source.reporter,
                       status=pick("status"), percent=pick("percent", None), done=pick("done"),
                       problems=pick("problems"), next_steps=pick("next_steps"))


def _progress(args, db) -> int:
    from qjgb_desktop.services.progress import reports as svc

    user = current_user(args)
    cmd = args.progress_command
    if cmd == "list":
        with db.sessions() as s:
            items = svc.list_reports(s, measure_no=args.measure, include_history=args.history,
                                     include_deleted=args.history)
        if args.json:
            json.dump([r.as_json() for r in items], sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            for r in items:
                flags = ("" if r.is_current else f" [旧版本 r{r.revision}]") + (" [已删除]" if r.deleted else "")
                print(f"#{r.id} 措施{r.measure_no}·{r.year} {r.period} {r.report_date} {r.department} {r.reporter} "
                      f"{r.status} {r.percent}%{flags}  {r.done[:40]}")
            if not items:
                print("没有报告。")
        return EXIT_OK
    # The message is composed inside the transaction and printed only after the commit returned.
    with db.sessions.begin() as s:
        if cmd == "add":
            target_id = svc.target_id_for(s, args.measure, args.year)
            defaults = svc.form_defaults(s, target_id, args.date or date.today(), user)
            report = svc.add_report(s, target_id, _report_input(s, args, defaults=defaults), user, date.today())
            done = (f"已保存报告 #{report.id}：措施{report.measure_no}·{report.year}年 {report.period} "
                    f"{report.status} {report.percent}%")
        elif cmd == "correct":
            # read under the write lock: a concurrent correction or deletion has either happened or waits
            base = next((r for r in svc.report_history_of(s, args.id) if r.id == args.id), None)
            if base is None:
                raise svc.ProgressError(f"报告 {args.id} 不存在")
            report = svc.correct_report(s, args.id, _report_input(s, args, base=base), user, date.today())
            done = f"已修订：报告 #{args.id} → #{report.id}（第 {report.revision} 版），旧版本保留在历史中"
        elif cmd == "delete":
            svc.delete_report(s, args.id, args.reason, user)
            done = f"已删除报告 #{args.id}（记录和原因保留在历史中）"
    print(done)
    return EXIT_OK


def _indicator(args, db) -> int:
    from qjgb_desktop.services.progress import reports as svc

    if args.indicator_command == "set":
        from qjgb_desktop.store.models import IndicatorValue

        with db.sessions.begin() as s:
            ind = svc.find_indicator(s, args.measure, args.name)
            as_of = args.date or date.today()
            value_id = svc.set_indicator_value(s, ind.id, args.value, as_of, current_user(args), date.today(),
                                               note=args.note)
            value = s.get(IndicatorValue, value_id).value
            done = f"已录入：措施{args.measure}“{ind.name}” = {value:g}{ind.unit}（截至 {as_of}）"
        print(done)
        return EXIT_OK
    from qjgb_desktop.services.progress.indicators import indicator_rows

    with db.sessions() as s:
        rows = indicator_rows(s, measure_no=args.measure)
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
        return EXIT_OK
    for r in rows:
        latest = r["latest"]
        actual = f"{latest['value']:g}{r['unit']}（{latest['as_of']}）" if latest else "未录入"
        met = {True: "达标", False: "未达标", None: ""}[r["met"]]
        print(f"措施{r['measure']} {r['name']}：目标 {r['targets_text']}；实际 {actual} {met}")
    return EXIT_OK


def _status(args, db) -> int:
    from qjgb_desktop.services.progress.status import compute_status, follow_ups, status_as_json

    today = args.today or date.today()
    with db.sessions() as s:
        snap = compute_status(s, today)
    if args.json:
        json.dump(status_as_json(snap), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    plan = snap.plan[snap.year]
    print(f"{today}（{snap.period.label}）{snap.year}年度：完成 {plan.percent}%，{plan.state}；"
          f"红 {plan.red} · 黄 {plan.yellow} · 未填报 {plan.not_reported} · 已完成 {plan.completed}")
    for a in snap.tree.actions:
        r = snap.actions[(a.id, snap.year)]
        print(f"  （{a.numeral}）{a.title}：{r.percent}% {r.state}")
    print("督办：")
    for dept, items in follow_ups(snap).items():
        print(f"  {dept}：" + "；".join(
            f"措施{f.measure_no}·{f.year} {f.state}" + (f"（{f.days_since_report}天未报）" if f.days_since_report else "")
            + (f"（配合部门已报 {n} 份）" if (n := snap.targets[f.target_id].cooperating_this_period) else "")
            for f in items))
    return EXIT_OK


def _period(args, db) -> int:
    from qjgb_desktop.services.progress import reports as svc

    user = current_user(args)
    if args.period_command == "list":
        with db.sessions() as s:
            closed = sorted(svc.closed_periods(s))
        print("已关闭的周期：" + ("、".join(closed) if closed else "无"))
        return EXIT_OK
    with db.sessions.begin() as s:
        if args.period_command == "close":
            svc.close_period(s, args.period, user)
            done = f"已关闭填报周期 {args.period.upper()}，其中的报告已锁定"
        else:
            svc.reopen_period(s, args.period, args.reason, user)
            done = f"已重新开放填报周期 {args.period.upper()}（原因已记录）"
    print(done)
    return EXIT_OK


def _chart(args, db) -> int:
    from qjgb_desktop.domain.status import expected_percent
    from qjgb_desktop.services.charts import data as cd
    from qjgb_desktop.services.charts import figures as charts
    from qjgb_desktop.services.progress.status import compute_status

    if args.out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ProgressError_("--out 应以 .png、.svg 或 .pdf 结尾")
    today = args.today or date.today()
    with db.sessions() as s:
        snap = compute_status(s, today)
        years = snap.tree.years
        year = args.year or snap.year
        if year not in years:
            raise ProgressError_(f"年度应为 {years[0]}–{years[-1]}")
        fig = charts.new_figure(8, 4.5)
        if args.kind == "overview":
            charts.draw_overview(fig, cd.overview(snap, year))
        elif args.kind == "actions":
            charts.draw_bars(fig, cd.action_bars(snap, year), f"{year}年各改革任务完成度",
                             expected_percent(year, today))
        elif args.kind == "departments":
            charts.draw_bars(fig, cd.department_bars(snap, year), f"{year}年各牵头部门完成度",
                             expected_percent(year, today))
        elif args.kind == "status":
            charts.draw_distribution(fig, cd.status_distribution(snap, year), year)
        elif args.kind == "lagging":
            charts.draw_bars(fig, cd.most_lagging(snap, year), f"{year}年最滞后的十个目标", expected_percent(year, today))
        elif args.kind == "activity":
            charts.draw_activity(fig, cd.monthly_activity(s, date(years[0], 1, 1), min(today, date(years[-1], 12, 31))))
        else:
            if args.measure is None or not args.indicator:
                raise ProgressError_("指标图需要 --measure 和 --indicator")
            from qjgb_desktop.services.progress.indicators import indicator_rows
            from qjgb_desktop.services.progress.reports import find_indicator

            ind = find_indicator(s, args.measure, args.indicator)
            row = next(r for r in indicator_rows(s, args.measure, snap.tree) if r["indicator_id"] == ind.id)
            charts.draw_indicator(fig, cd.indicator_series(row, years))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    charts.save(fig, args.out)
    print(f"已生成：{args.out}")
    return EXIT_OK


def ProgressError_(message: str):
    from qjgb_desktop.services.progress.reports import ProgressError

    return ProgressError(message)


def _audit(args, db) -> int:
    from qjgb_desktop.services.accounts.audit import describe_change, list_events

    with db.sessions() as s:
        events = list_events(s, args.limit, args.entity)
    if args.json:
        json.dump(events, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
        return EXIT_OK
    for e in events:
        reason = f"（原因：{e['reason']}）" if e["reason"] else ""
        print(f"{e['at']} {e['actor']} {e['action']} {e['entity']}#{e['entity_id'] or ''}{reason}  "
              f"{describe_change(e['before'], e['after'])[:160]}")
    return EXIT_OK


def _admin(args, db) -> int:
    from qjgb_desktop.services.settings.record import SettingError, add_admin, load_settings

    if args.action == "add":
        if not args.name:
            raise SettingError("请给出管理员姓名：qjgb admin add 姓名")
        with db.sessions.begin() as s:
            add_admin(s, args.name, current_user(args))
        print(f"已添加管理员：{args.name}")
        return EXIT_OK
    with db.sessions() as s:
        admins = load_settings(s).admins
    print("管理员：" + ("、".join(admins) if admins else "尚未指定"))
    return EXIT_OK


def _settings(args, db) -> int:
    from qjgb_desktop.domain.periods import SCHEMES
    from qjgb_desktop.services.settings import record as svc
    from qjgb_desktop.services.settings.record import (
        SettingError,
        load_settings,
        set_max_evidence_mb,
        set_scheme,
        set_thresholds,
    )
    from qjgb_desktop.services.supervision.assessment import LABELS

    user = current_user(args)
    with db.sessions.begin() as s:
        current = load_settings(s)
        if args.green_margin is not None or args.yellow_margin is not None:
            set_thresholds(s, args.green_margin if args.green_margin is not None else current.thresholds.green_margin,
                           args.yellow_margin if args.yellow_margin is not None else current.thresholds.yellow_margin,
                           user)
        if args.scheme:
            set_scheme(s, args.scheme, user)
        if args.max_evidence_mb is not None:
            set_max_evidence_mb(s, args.max_evidence_mb, user)
        if args.due_days is not None:
            svc.set_due_days(s, args.due_days, user)
        for pair in args.due_date:
            code, _, day = pair.partition("=")
            try:
                when = date.fromisoformat(day.strip()) if day.strip() else None
            except ValueError:
                raise SettingError(f"报送截止日期应形如 2027-01-15，收到“{day}”") from None
            svc.set_due_override(s, code, when, user)
        if args.cooperating_duty is not None:
            svc.set_cooperating_duty(s, args.cooperating_duty, user)
        if args.feedback_days is not None:
            svc.set_feedback_days(s, args.feedback_days, user)
        if args.notice_prefix is not None:
            svc.set_notice_prefix(s, args.notice_prefix, user)
        if args.weight:
            weights = {}
            for pair in args.weight:
                key, _, value = pair.partition("=")
                try:
                    weights[key.strip()] = float(value)
                except ValueError:
                    raise SettingError(f"考核权重应形如 completion=40，收到“{pair}”") from None
            svc.set_weights(s, weights, user)
        now = load_settings(s)
    print(f"预警阈值：低于应完成进度 {now.thresholds.green_margin:g} 个百分点以内为正常，"
          f"{now.thresholds.yellow_margin:g} 个百分点以内为关注，更低为滞后")
    print(f"填报周期：{SCHEMES[now.scheme]}")
    print(f"佐证文件大小上限：{now.max_evidence_mb:g} MB")
    print("管理员：" + ("、".join(now.admins) if now.admins else "尚未指定"))
    overrides = "；另定：" + "，".join(f"{k} {v}" for k, v in now.due_overrides.items()) if now.due_overrides else ""
    print(f"报送期限：周期结束后 {now.due_days} 天{overrides}")
    duty = {"none": "仅牵头部门报送", "all": "牵头部门和全部配合部门都须报送"}.get(
        now.cooperating_duty if isinstance(now.cooperating_duty, str) else "",
        "牵头部门报送；措施 " + "、".join(map(str, now.cooperating_duty)) + " 的配合部门也须报送")
    print(f"报送义务：{duty}")
    print(f"督办反馈期限：{now.feedback_days} 天")
    print(f"督办通知单文号：{now.notice_prefix}〔年份〕序号号")
    print("考核权重：" + "、".join(f"{LABELS[k]} {v:g}" for k, v in now.weights.items()))
    return EXIT_OK

"""Plan-wide settings kept in the database (so every PC sharing a database agrees): the light thresholds, the
reporting period scheme and who may reopen a closed period (管理员). That name list counts only on a database
without accounts; with accounts, the roles of services/accounts/access.py decide, and only a 管理员 changes a setting."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.periods import SCHEMES
from qjgb_desktop.domain.status import Thresholds
from qjgb_desktop.domain.validation import clean_text
from qjgb_desktop.services.accounts.access import require

# AppSettings is imported from here as well
from qjgb_desktop.services.settings.values import AppSettings, settings_from_values  # noqa: F401 - re-exported
from qjgb_desktop.store.models import AuditEvent, Setting


class SettingError(ValueError):
    pass


def load_settings(session: Session) -> AppSettings:
    return settings_from_values({s.key: s.value for s in session.scalars(select(Setting))})


def _put(session: Session, key: str, value, actor: str) -> None:
    row = session.get(Setting, key)
    before = row.value if row else None
    if before == value:
        return
    actor = clean_text(actor, multiline=False).strip()
    require(session, actor, "settings.set")  # every setter comes here; an unchanged value writes nothing
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.add(AuditEvent(at=datetime.now(), actor=actor, action="setting.set", entity="setting", entity_id=None,
                           before={key: before}, after={key: value}))
    session.flush()


def set_thresholds(session: Session, green_margin: float, yellow_margin: float, actor: str) -> None:
    try:
        Thresholds(green_margin, yellow_margin)
    except ValueError as exc:
        raise SettingError(str(exc)) from exc
    _put(session, "thresholds", {"green_margin": green_margin, "yellow_margin": yellow_margin}, actor)


def set_scheme(session: Session, scheme: str, actor: str) -> None:
    if scheme not in SCHEMES:
        raise SettingError(f"填报周期方式应为 {'、'.join(SCHEMES)} 之一")
    _put(session, "period_scheme", scheme, actor)


def add_admin(session: Session, name: str, actor: str) -> None:
    """The first administrator can be named by anyone; after that only an administrator adds others."""
    name = clean_text(name, multiline=False).strip()
    actor = clean_text(actor, multiline=False).strip()
    if not name:
        raise SettingError("管理员姓名不能为空")
    admins = list(load_settings(session).admins)
    if require(session, actor, "settings.set") is None and admins and actor not in admins:
        raise SettingError(f"只有管理员（{'、'.join(admins)}）可以添加管理员")
    if name not in admins:
        _put(session, "admins", admins + [name], actor)


def set_max_evidence_mb(session: Session, megabytes: float, actor: str) -> None:
    if not 1 <= megabytes <= 100_000:
        raise SettingError("佐证文件大小上限应在 1 MB 到 100000 MB 之间")
    _put(session, "max_evidence_mb", megabytes, actor)


def set_due_days(session: Session, days: int, actor: str) -> None:
    if not 0 <= days <= 90:
        raise SettingError("报送期限应为周期结束后 0 到 90 天")
    _put(session, "due_days", int(days), actor)


def set_due_override(session: Session, period_code: str, day: date | None, actor: str) -> None:
    """A period whose reports are due on another day than the rule gives; None returns it to the rule."""
    from qjgb_desktop.domain.periods import PeriodError, parse_period

    try:
        period = parse_period(period_code)
    except PeriodError as exc:
        raise SettingError(str(exc)) from exc
    if day is not None and not period.start <= day <= date(period.end.year + 1, period.end.month, 28):
        raise SettingError(f"{period.label}的报送截止日期应在周期开始之后、一年之内")
    overrides = dict(load_settings(session).due_overrides)
    if day is None:
        overrides.pop(period.code, None)
    else:
        overrides[period.code] = day.isoformat()
    _put(session, "due_overrides", dict(sorted(overrides.items())), actor)


def set_feedback_days(session: Session, days: int, actor: str) -> None:
    if not 1 <= days <= 60:
        raise SettingError("督办反馈期限应为 1 到 60 天")
    _put(session, "feedback_days", int(days), actor)


def set_notice_prefix(session: Session, prefix: str, actor: str) -> None:
    """The 机关代字 of 督办通知单 numbers (督办 → 督办〔2026〕3号), e.g. the bureau's own 延教督."""
    prefix = clean_text(prefix, multiline=False).strip()
    if not prefix:
        raise SettingError("督办通知单文号前缀不能为空（如：督办、延教督）")
    if len(prefix) > 20:
        raise SettingError(f"督办通知单文号前缀最多 20 个字，收到 {len(prefix)} 个字")
    if any(c in prefix for c in "〔〕[]()（）") or prefix[-1].isdigit():
        raise SettingError("督办通知单文号前缀只写机关代字（如：延教督），年份和序号由程序加上")
    _put(session, "notice_prefix", prefix, actor)


def set_weights(session: Session, weights: dict[str, float], actor: str) -> None:
    from qjgb_desktop.services.settings.values import DEFAULT_WEIGHTS

    unknown = set(weights) - set(DEFAULT_WEIGHTS)
    if unknown:
        raise SettingError(f"没有这一考核项：{'、'.join(sorted(unknown))}")
    merged = {**load_settings(session).weights, **{k: float(v) for k, v in weights.items()}}
    if any(not 0 <= v <= 100 for v in merged.values()) or sum(merged.values()) <= 0:
        raise SettingError("考核权重应在 0 到 100 之间，且不能全为 0")
    _put(session, "assessment_weights", merged, actor)


def set_cooperating_duty(session: Session, duty: str, actor: str) -> None:
    """Who owes reports besides the lead: "none" (default), "all", or measure numbers like "3,7"."""
    from qjgb_desktop.services.plan.query import plan_tree

    text = clean_text(duty, multiline=False).strip().replace("，", ",").replace("、", ",")
    if text in ("none", "无", ""):
        value = "none"
    elif text in ("all", "全部"):
        value = "all"
    else:
        try:
            numbers = sorted({int(part) for part in text.split(",") if part.strip()})
        except ValueError:
            raise SettingError(f"配合部门报送义务应为 none、all 或措施序号（如 3,7），收到“{duty}”") from None
        tree = plan_tree(session)
        known = {m.no for m in tree.measures()} if tree else set()
        unknown = [n for n in numbers if n not in known]
        if unknown:
            raise SettingError(f"计划中没有措施 {'、'.join(map(str, unknown))}")
        value = numbers
    _put(session, "cooperating_duty", value, actor)

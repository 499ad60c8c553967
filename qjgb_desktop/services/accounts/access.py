"""账户与权限: which role may do what. The rules live here and nowhere else.

Accounts are optional. With no account in the database (a single PC, as before) `require` allows everything and
returns None; the services then keep their account-free checks (the 管理员 name list in settings). As soon as one
account exists (server mode; a single PC may use accounts too) every write names an account — the `actor` the
services receive is the logged-in account's name — and `require` refuses what the account's role may not do:

| 操作 (action)                                 | 管理员 | 督导 | 部门填报员            | 只读 |
|-----------------------------------------------|--------|------|-----------------------|------|
| 查看、导出、生成报告 (read)                    | ✓      | ✓    | ✓                     | ✓    |
| 进展报告 新增/修订/删除 (report.*)             | ✓      |      | 本部门牵头或配合的目标，以本部门名义 |      |
| 指标实际值 (indicator.set)                     | ✓      |      | 同上（按措施）        |      |
| 佐证材料 添加/移除 (evidence.attach/remove)    | ✓      |      | 同上                  |      |
| 督办 立项/交办/继续督办/办结                   | ✓      | ✓    |                       |      |
| 督办 反馈 (supervision.answer)                 | ✓      | ✓    | 交办给本部门的事项    |      |
| 关闭填报周期 (period.close)                    | ✓      | ✓    |                       |      |
| 导入部门交回的 Excel (excel.import)            | ✓      | ✓    |                       |      |
| 重新开放周期、清理佐证文件、设置、载入计划、账户、备份、恢复 | ✓ |  |                  |      |

The services call `require(session, actor, action, …)` at the start of each write, so the window and the command
line obey the same rules. A refusal is AccessDenied, a UserError: every entry point tells it in Chinese.

On a server these checks only say it first: the database enforces the same table with its own roles, privileges and
row-level security (store/server_security.py), and who acts is the login, never the `actor` a caller passes in
(services/accounts/server.py). On one PC's SQLite file accounts keep honest people apart but are no security
boundary: the file is on the PC.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.validation import clean_text
from qjgb_desktop.errors import UserError

ADMIN, SUPERVISOR, CLERK, READER = "管理员", "督导", "部门填报员", "只读"
ROLES = (ADMIN, SUPERVISOR, CLERK, READER)
WRONG_LOGIN = "账户或密码不正确。"  # the same for an unknown name and a wrong password

_EVERYONE = frozenset(ROLES)
_ADMIN = frozenset({ADMIN})
_SUPERVISION = frozenset({ADMIN, SUPERVISOR})
_ENTRY = frozenset({ADMIN, CLERK})

# action: (what it is called in a message, the roles that may do it)
ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "read": ("查看数据", _EVERYONE),
    "export": ("导出和生成报告", _EVERYONE),
    "account.password.own": ("修改自己的密码", _EVERYONE),
    "report.add": ("填报进展", _ENTRY),
    "report.correct": ("修订进展报告", _ENTRY),
    "report.delete": ("删除进展报告", _ENTRY),
    "indicator.set": ("录入指标实际值", _ENTRY),
    "evidence.attach": ("添加佐证材料", _ENTRY),
    "evidence.remove": ("移除佐证材料", _ENTRY),
    "supervision.open": ("督办立项", _SUPERVISION),
    "supervision.assign": ("督办交办", _SUPERVISION),
    "supervision.answer": ("记录督办反馈", frozenset({ADMIN, SUPERVISOR, CLERK})),
    "supervision.continue": ("继续督办", _SUPERVISION),
    "supervision.close": ("督办办结", _SUPERVISION),
    "period.close": ("关闭填报周期", _SUPERVISION),
    "excel.import": ("导入部门交回的 Excel 填报表", _SUPERVISION),
    "period.reopen": ("重新开放填报周期", _ADMIN),
    "evidence.purge": ("清理已移除的佐证文件", _ADMIN),
    "settings.set": ("修改设置", _ADMIN),
    "plan.load": ("载入或更新计划", _ADMIN),
    "account.manage": ("管理账户", _ADMIN),
    "backup": ("备份数据库", _ADMIN),
    "restore": ("从备份恢复数据库", _ADMIN),
}

# A 部门填报员 may do these only for targets (measures) where one of their departments leads or cooperates, and
# only in the name of one of their departments; 督办反馈 only for items addressed to one of their departments.
DEPARTMENT_BOUND = frozenset({"report.add", "report.correct", "report.delete", "indicator.set", "evidence.attach",
                              "evidence.remove", "supervision.answer"})

# What an allowed action covers when it writes through other services (an import adds and corrects reports and
# indicator values in the departments' names: the import is the 督导's to do, the rows are the departments').
COVERS: dict[str, frozenset[str]] = {
    "excel.import": frozenset({"report.add", "report.correct", "indicator.set"}),
}


class AccessDenied(UserError):
    """The logged-in account may not do this; the message names the account, its role and what was refused."""


@dataclass(frozen=True)
class AccountView:
    id: int
    name: str
    role: str
    departments: tuple[str, ...]
    disabled: bool
    created_at: datetime
    created_by: str
    password_changed_at: datetime | None
    must_change_password: bool = False  # a 管理员 set it: its owner changes it at the next login

    @property
    def label(self) -> str:
        """张敏（部门填报员：区体育局）"""
        bound = f"：{'、'.join(self.departments)}" if self.departments else ""
        return f"{self.name}（{self.role}{bound}）"

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "role": self.role, "departments": list(self.departments),
                "disabled": self.disabled, "created_at": self.created_at.isoformat(timespec="seconds"),
                "created_by": self.created_by,
                "password_changed_at": (self.password_changed_at.isoformat(timespec="seconds")
                                        if self.password_changed_at else None),
                "must_change_password": self.must_change_password}


def account_view(row) -> AccountView:
    return AccountView(row.id, row.name, row.role, tuple(row.departments or ()), bool(row.disabled), row.created_at,
                       row.created_by, row.password_changed_at, bool(row.must_change_password))


_EXIST, _BY_NAME, _COVER = "qjgb.accounts_exist", "qjgb.accounts", "qjgb.access_cover"


def accounts_exist(session: Session) -> bool:
    """Whether accounts are enforced: at least one account, enabled or not, is in the database. On a server: for
    every login but the DBA's (the login itself is the account)."""
    if on_server(session):
        return not identity(session).owner
    if _EXIST not in session.info:
        from qjgb_desktop.store.models import UserAccount

        session.info[_EXIST] = session.scalar(select(UserAccount.id).limit(1)) is not None
    return session.info[_EXIST]


def find_account(session: Session, name: str) -> AccountView | None:
    name = clean_text(name, multiline=False).strip()
    cache = session.info.setdefault(_BY_NAME, {})
    if name not in cache:
        from qjgb_desktop.store.models import UserAccount

        row = session.scalars(select(UserAccount).where(UserAccount.name == name)).first() if name else None
        cache[name] = account_view(row) if row is not None else None
    return cache[name]


def forget(session: Session) -> None:
    """After a change to the accounts: the next check reads them again."""
    session.info.pop(_EXIST, None)
    session.info.pop(_BY_NAME, None)
    forget_identity(session)


@contextmanager
def covering(session: Session, action: str):
    """Within: the writes `action` covers (COVERS) are allowed for whoever was allowed `action`."""
    stack = session.info.setdefault(_COVER, [])
    stack.append(action)
    try:
        yield
    finally:
        stack.pop()


def label(action: str) -> str:
    return ACTIONS[action][0]


def allowed_roles(action: str) -> tuple[str, ...]:
    return tuple(r for r in ROLES if r in ACTIONS[action][1])


def require(session: Session, actor: str, action: str, target_id: int | None = None,
            department: str | Iterable[str] | None = None, measure_id: int | None = None) -> AccountView | None:
    """Refuse (AccessDenied) unless `actor` may do `action`; for a 部门填报员 also on the target (or measure) and in
    the name of the department(s) given. Returns the account, or None when the database has no accounts (then
    everything is allowed here and the service applies its account-free rules)."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}")  # a bug, not the user's to fix
    if not accounts_exist(session):
        return None
    what = label(action)
    if on_server(session):  # the login is who acts, whatever name the caller passed
        ident = identity(session)
        name, account = ident.login, ident.account
    else:
        name = clean_text(actor, multiline=False).strip()
        account = find_account(session, name)
    if account is None:
        if not name:
            raise AccessDenied(f"尚未登录，不能{what}。请先用自己的账户登录。")
        raise AccessDenied(f"“{name}”不是本系统的账户，不能{what}。已启用账户管理：请用自己的账户登录后再操作。")
    if account.disabled:
        raise AccessDenied(f"账户“{account.name}”（{account.role}）已停用，不能{what}。如需使用，请与管理员联系。")
    if any(action in COVERS.get(c, ()) for c in session.info.get(_COVER, ())):
        return account
    if account.role not in ACTIONS[action][1]:
        raise AccessDenied(f"账户“{account.name}”（{account.role}）无权{what}；此操作限"
                           f"{'、'.join(allowed_roles(action))}。")
    if account.role == CLERK and action in DEPARTMENT_BOUND:
        _check_departments(session, account, what, target_id, measure_id, department)
    return account


_PLAN_FACTS = "qjgb.plan_facts"


def plan_facts(session: Session) -> dict:
    """Facts about the plan a session reads once (a check and the service it guards both need them); forgotten when
    a plan is loaded (forget_plan_facts)."""
    return session.info.setdefault(_PLAN_FACTS, {})


def forget_plan_facts(session: Session) -> None:
    session.info.pop(_PLAN_FACTS, None)


def responsible_departments(session: Session, measure_id: int) -> dict[str, int]:
    """A measure's lead and cooperating departments, name → id, lead first as the plan lists them."""
    from qjgb_desktop.store.models import Department, MeasureDepartment

    cache = plan_facts(session)
    key = ("responsible", measure_id)
    if key not in cache:
        cache[key] = dict(session.execute(
            select(Department.name, Department.id).join(MeasureDepartment, MeasureDepartment.department_id == Department.id)
            .where(MeasureDepartment.measure_id == measure_id).order_by(MeasureDepartment.position)).all())
    return cache[key]


def _check_departments(session: Session, account: AccountView, what: str, target_id: int | None,
                       measure_id: int | None, department) -> None:
    from qjgb_desktop.store.models import Measure, YearlyTarget

    mine = set(account.departments)
    who = f"账户“{account.name}”（{account.role}：{'、'.join(account.departments) or '未绑定部门'}）"
    target = session.get(YearlyTarget, target_id) if target_id is not None else None
    if target is not None:
        measure_id = target.measure_id
    if measure_id is not None:
        responsible = list(responsible_departments(session, measure_id))
        if not mine & set(responsible):
            if target is not None:
                subject = f"措施{target.measure.no}·{target.year}年目标"
            else:
                measure = session.get(Measure, measure_id)
                subject = f"措施{measure.no}" if measure is not None else f"措施 #{measure_id}"
            raise AccessDenied(f"{who}无权为{subject}{what}：该措施的牵头和配合部门（{'、'.join(responsible)}）"
                               "中没有本账户的部门。")
    names = [department] if isinstance(department, str) else list(department or ())
    for dept in names:
        dept = clean_text(dept, multiline=False).strip()
        if dept not in mine:
            raise AccessDenied(f"{who}不能以“{dept}”的名义{what}，只能以本账户的部门"
                               f"（{'、'.join(account.departments) or '无'}）{what}。")


# -- server mode: the login is who acts ------------------------------------------------------------------------

_IDENTITY = "qjgb.server_identity"


@dataclass(frozen=True)
class Identity:
    login: str
    owner: bool  # the DBA: may do everything, works account-free
    account: object | None  # access.AccountView of the login, None for the DBA or a login that is no account


def on_server(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


_SECURED: weakref.WeakSet = weakref.WeakSet()  # engines whose database has the server's security installed (it stays)


def identity(session: Session) -> Identity:
    """Who this session's login is: one query per session (the security's presence is asked once per engine)."""
    if _IDENTITY not in session.info:
        from sqlalchemy import literal, literal_column, text

        from qjgb_desktop.store.models import UserAccount

        bind = session.get_bind()
        if bind not in _SECURED:
            if session.scalar(text("SELECT to_regprocedure('public.qjgb_is_owner()')")) is None:
                login = session.scalar(text("SELECT session_user"))  # not set up yet: only the DBA gets this far
                session.info[_IDENTITY] = Identity(login, True, None)
                return session.info[_IDENTITY]
            _SECURED.add(bind)
        login_ = literal_column("session_user")
        one = select(literal(1).label("one")).subquery()
        login, owner, row = session.execute(
            select(login_, literal_column("public.qjgb_is_owner()"), UserAccount).select_from(one)
            .outerjoin(UserAccount, UserAccount.name == login_)).one()
        session.info[_IDENTITY] = Identity(login, bool(owner), account_view(row) if row is not None else None)
    return session.info[_IDENTITY]


def forget_identity(session: Session) -> None:
    session.info.pop(_IDENTITY, None)

"""登录账户: add, list, change the password of, disable and enable accounts; log in.

Accounts are optional (see services/accounts/access.py): with none in the database the program runs account-free, as
on a single PC; the first account, which anyone may create, must be a 管理员, and from then on accounts are enforced and
only a 管理员 manages them. Accounts are never deleted, only disabled, so every audit entry keeps naming a known
account. Passwords are kept as argon2 hashes only; neither a password nor a hash ever reaches the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.validation import clean_text
from qjgb_desktop.errors import UserError
from qjgb_desktop.services.accounts import access, server
from qjgb_desktop.services.accounts.access import ADMIN, CLERK, ROLES, WRONG_LOGIN, AccountView, account_view
from qjgb_desktop.store.models import AuditEvent, Department, UserAccount

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_NAME = 100
RESERVED_NAMES = {"system"}  # the built-in plan's loader in the audit log

# The argon2 hasher; created when first needed (argon2-cffi stays off the window's start-up path). Tests replace
# it with a cheaper one; a hash made with other parameters is re-made at the next successful login.
HASHER = None


def hasher():
    global HASHER
    if HASHER is None:
        from argon2 import PasswordHasher

        HASHER = PasswordHasher()
    return HASHER


class AccountError(UserError):
    """A request about accounts the user can fix (name taken, password too short, unknown role …)."""


class LoginFailed(UserError):
    """Unknown account, wrong password, or a disabled account."""


def _audit(session: Session, actor: str, action: str, row: UserAccount, before: dict | None, after: dict | None,
           reason: str = "") -> None:
    session.add(AuditEvent(at=datetime.now(), actor=actor, action=action, entity="user_account", entity_id=row.id,
                           before=before, after=after, reason=reason))


def _public(row: UserAccount) -> dict:
    """What the audit log may say about an account (never the password or its hash)."""
    return {"name": row.name, "role": row.role, "departments": list(row.departments or []),
            "disabled": bool(row.disabled)}


def _check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"密码最多 {MAX_PASSWORD} 个字符")
    if not password.strip():
        raise AccountError("密码不能全是空格")
    return password


def _clean_name(name: str) -> str:
    name = clean_text(name, multiline=False).strip()
    if not name:
        raise AccountError("账户名不能为空")
    if len(name) > MAX_NAME:
        raise AccountError(f"账户名最多 {MAX_NAME} 个字")
    return name


def _row(session: Session, name: str) -> UserAccount:
    clean = clean_text(name, multiline=False).strip()
    row = session.scalars(select(UserAccount).where(UserAccount.name == clean)).first() if clean else None
    if row is None:
        raise AccountError(f"没有名为“{clean or name}”的账户")
    return row


def _departments(session: Session, role: str, departments: Iterable[str]) -> list[str]:
    wanted = []
    for d in departments or ():
        d = clean_text(d, multiline=False).strip()
        if d and d not in wanted:
            wanted.append(d)
    if role != CLERK:
        if wanted:
            raise AccountError(f"只有部门填报员绑定部门；{role}可查看全部部门，不绑定部门")
        return []
    if not wanted:
        raise AccountError("部门填报员须绑定至少一个部门")
    known = set(session.scalars(select(Department.name).where(Department.name.in_(wanted))))
    unknown = [d for d in wanted if d not in known]
    if unknown:
        raise AccountError(f"计划中没有这些部门：{'、'.join(unknown)}（部门名称须与计划中的责任部门一致）")
    return wanted


def add_account(session: Session, actor: str, name: str, password: str, role: str,
                departments: Iterable[str] = ()) -> AccountView:
    """A new account. The first one may be created by anyone and must be a 管理员; after that only a 管理员 adds
    accounts (access.require: with no account yet it allows everything)."""
    actor = clean_text(actor, multiline=False).strip()
    on_server = access.on_server(session)
    first = (session.scalar(select(UserAccount.id).limit(1)) is None if on_server
             else not access.accounts_exist(session))
    access.require(session, actor, "account.manage")
    name = _clean_name(name)
    if name.lower() in RESERVED_NAMES:
        raise AccountError(f"“{name}”是系统保留的名称，请换一个账户名")
    if role not in ROLES:
        raise AccountError(f"角色应为 {'、'.join(ROLES)} 之一，收到“{role}”")
    if first and role != ADMIN:
        raise AccountError("第一个账户必须是管理员（之后由管理员添加其他账户）")
    depts = _departments(session, role, departments)
    _check_password(password)
    if session.scalar(select(UserAccount.id).where(UserAccount.name == name)) is not None:
        raise AccountError(f"账户“{name}”已存在（账户不删除；已停用的账户可重新启用）")
    if on_server:  # a login role of the account's name, made by the server's own function
        if len(name.encode("utf-8")) > 63:
            raise AccountError("服务器模式的账户名最多 63 个字节（约 21 个汉字）")
        server.add(session, name, password, role, depts, AccountError)
        access.forget(session)
        return account_view(_row(session, name))
    now = datetime.now()
    row = UserAccount(name=name, password_hash=hasher().hash(password), role=role, departments=depts,
                      disabled=False, created_at=now, created_by=actor or name, password_changed_at=now)
    session.add(row)
    session.flush()
    _audit(session, actor or name, "account.add", row, None, _public(row),
           reason="第一个账户：此后启用账户登录" if first else "")
    session.flush()
    access.forget(session)
    return account_view(row)


def list_accounts(session: Session) -> list[AccountView]:
    return [account_view(r) for r in session.scalars(select(UserAccount).order_by(UserAccount.id))]


def change_password(session: Session, actor: str, name: str, new_password: str) -> AccountView:
    """An account changes its own password; a 管理员 may set anyone's."""
    actor = clean_text(actor, multiline=False).strip()
    row = _row(session, name)
    if access.on_server(session):
        own = access.identity(session).login == row.name
        access.require(session, actor, "account.password.own" if own else "account.manage")
        _check_password(new_password)
        server.set_password(session, row.name, new_password, AccountError)
        access.forget(session)
        return account_view(_row(session, row.name))
    own = access.accounts_exist(session) and actor == row.name
    access.require(session, actor, "account.password.own" if own else "account.manage")
    _check_password(new_password)
    row.password_hash = hasher().hash(new_password)
    row.password_changed_at = datetime.now()
    _audit(session, actor, "account.password", row, None, {"name": row.name},
           reason="本人修改" if own else "管理员重设")
    session.flush()
    access.forget(session)
    return account_view(row)


def change_own_password(session: Session, name: str, current_password: str, new_password: str) -> AccountView:
    """The logged-in account changes its own password, proving it knows the current one (a PC left unlocked must
    not let a passer-by lock its owner out). A wrong current password changes nothing."""
    try:
        if access.on_server(session):
            if not server.check_password(session, name, current_password):
                raise LoginFailed(WRONG_LOGIN)
            account = account_view(_row(session, name))
        else:
            account = authenticate(session, name, current_password, rehash=False)
    except LoginFailed:
        raise AccountError("当前密码不正确，密码未修改") from None
    if new_password == current_password:
        raise AccountError("新密码与当前密码相同，请换一个")
    return change_password(session, account.name, account.name, new_password)


def update_account(session: Session, actor: str, name: str, role: str | None = None,
                   departments: Iterable[str] | None = None, reason: str = "") -> AccountView:
    """A 管理员 changes an account's role or its departments (a liaison moves to another office). The role stays
    when `role` is None, the departments when `departments` is None (a 部门填报员 keeps theirs; another role has
    none). The last enabled 管理员 keeps that role. Nothing changed is refused, so the audit log holds only changes."""
    actor = clean_text(actor, multiline=False).strip()
    access.require(session, actor, "account.manage")
    row = _row(session, name)
    new_role = row.role if role is None else role
    if new_role not in ROLES:
        raise AccountError(f"角色应为 {'、'.join(ROLES)} 之一，收到“{new_role}”")
    if departments is None:
        departments = row.departments if new_role == CLERK and row.role == CLERK else ()
    depts = _departments(session, new_role, departments)
    if row.role == ADMIN and new_role != ADMIN and not row.disabled and _enabled_admins(session) <= 1:
        raise AccountError(f"“{row.name}”是唯一启用的管理员账户，不能改为{new_role}；请先添加另一个管理员账户")
    before = _public(row)
    if new_role == row.role and depts == list(row.departments or []):
        raise AccountError(f"账户“{row.name}”的角色和部门没有变化")
    if access.on_server(session):
        server.update(session, row.name, new_role, depts, clean_text(reason).strip(), AccountError)
        access.forget(session)
        return account_view(_row(session, row.name))
    row.role, row.departments = new_role, depts
    _audit(session, actor, "account.update", row, before, _public(row), clean_text(reason).strip())
    session.flush()
    access.forget(session)
    return account_view(row)


def _enabled_admins(session: Session) -> int:
    return len(session.scalars(select(UserAccount.id).where(UserAccount.role == ADMIN,
                                                            UserAccount.disabled.is_(False))).all())


def set_disabled(session: Session, actor: str, name: str, disabled: bool, reason: str = "") -> AccountView:
    """Disable (the account can no longer log in; its name stays in every record) or enable again."""
    actor = clean_text(actor, multiline=False).strip()
    access.require(session, actor, "account.manage")
    row = _row(session, name)
    reason = clean_text(reason).strip()
    if bool(row.disabled) == disabled:
        raise AccountError(f"账户“{row.name}”已经{'停用' if disabled else '启用'}")
    if disabled and row.role == ADMIN and _enabled_admins(session) <= 1:
        raise AccountError(f"“{row.name}”是唯一启用的管理员账户，不能停用；请先添加另一个管理员账户")
    if access.on_server(session):
        server.set_disabled(session, row.name, disabled, reason, AccountError)
        access.forget(session)
        return account_view(_row(session, row.name))
    before = _public(row)
    row.disabled = disabled
    _audit(session, actor, "account.disable" if disabled else "account.enable", row, before, _public(row), reason)
    session.flush()
    access.forget(session)
    return account_view(row)


def disable_account(session: Session, actor: str, name: str, reason: str = "") -> AccountView:
    return set_disabled(session, actor, name, True, reason)


def enable_account(session: Session, actor: str, name: str, reason: str = "") -> AccountView:
    return set_disabled(session, actor, name, False, reason)


# -- logging in ----------------------------------------------------------------------------------------------

_DUMMY_HASH: dict[int, str] = {}


def _burn(password: str) -> None:
    """As much work for an unknown name as for a wrong password: the time does not tell which names exist."""
    from argon2.exceptions import Argon2Error

    h = hasher()
    if id(h) not in _DUMMY_HASH:
        _DUMMY_HASH[id(h)] = h.hash("qjgb-no-such-account")
    try:
        h.verify(_DUMMY_HASH[id(h)], password)
    except Argon2Error:
        pass


def authenticate(session: Session, name: str, password: str, rehash: bool = True) -> AccountView:
    """The account, or LoginFailed with the same message for an unknown name and a wrong password; a disabled
    account is refused (said only to whoever knows its password). With `rehash`, a hash made with other
    parameters than the current ones is re-made in this session (the caller commits)."""
    from argon2.exceptions import Argon2Error

    clean = clean_text(name, multiline=False).strip()
    row = session.scalars(select(UserAccount).where(UserAccount.name == clean)).first() if clean else None
    if row is None or not isinstance(password, str):
        _burn(password if isinstance(password, str) else "")
        raise LoginFailed(WRONG_LOGIN)
    try:
        hasher().verify(row.password_hash, password)
    except Argon2Error:
        raise LoginFailed(WRONG_LOGIN) from None
    if row.disabled:
        raise LoginFailed(f"账户“{row.name}”已停用，不能登录。如需使用，请与管理员联系。")
    if rehash and hasher().check_needs_rehash(row.password_hash):
        row.password_hash = hasher().hash(password)
        _audit(session, row.name, "account.rehash", row, None, {"name": row.name}, reason="登录时按当前参数重新计算密码散列")
        session.flush()
    return account_view(row)


def needs_rehash(session: Session, name: str) -> bool:
    row = session.scalars(select(UserAccount).where(UserAccount.name == name)).first()
    return row is not None and hasher().check_needs_rehash(row.password_hash)


def login(sessions, name: str, password: str) -> AccountView:
    """Log in through a Sessions factory: checked in a read session (no write lock for every command); only a hash
    made with older parameters is re-made, in a short write of its own."""
    with sessions() as s:
        account = authenticate(s, name, password, rehash=False)
        stale = needs_rehash(s, account.name)
    if stale:
        with sessions.begin(purpose="登录") as s:
            account = authenticate(s, account.name, password, rehash=True)
    return account

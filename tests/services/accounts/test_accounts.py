"""Accounts and roles: account-free until the first account, then every write checked against the account's role
(services/accounts/access.py), on SQLite and on PostgreSQL; passwords as argon2 hashes; the command line's login."""

import io
import json
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.accounts import access, accounts
from qjgb_desktop.services.accounts.access import ADMIN, CLERK, READER, SUPERVISOR, AccessDenied
from qjgb_desktop.services.evidence import records as ev
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.settings import record as st
from qjgb_desktop.services.supervision import items as sup
from qjgb_desktop.store.models import AuditEvent, ProgressReport, UserAccount

TODAY = date(2026, 7, 2)
PW = "correct-horse-1"
pytestmark = pytest.mark.usefixtures("cheap_hashes")


def report(**changes):
    base = dict(period="2026Q3", report_date=date(2026, 7, 1), department="区教委", reporter="张三",
                status="正常推进", percent=50, done="推进学历提升计划")
    base.update(changes)
    return ReportInput(**base)


def write(db, fn):
    with db.sessions.begin() as s:
        return fn(s)


def add_account(db, actor, name, role, departments=(), password=PW):
    return write(db, lambda s: accounts.add_account(s, actor, name, password, role, departments))


def target(db, measure, year=2026):
    with db.sessions() as s:
        return svc.target_id_for(s, measure, year)


# -- account-free, and the first account ---------------------------------------------------------------------

def test_without_accounts_everything_works_as_before(db):
    t13 = target(db, 13)
    with db.sessions() as s:
        assert not access.accounts_exist(s)
        assert access.require(s, "随便谁", "plan.load") is None
    r = write(db, lambda s: svc.add_report(s, t13, report(), "王老师", TODAY))
    write(db, lambda s: svc.close_period(s, "2026Q3", "王老师"))
    # the 管理员 name list keeps its meaning on a PC without accounts
    with pytest.raises(svc.ProgressError, match="只有管理员"):
        write(db, lambda s: svc.reopen_period(s, "2026Q3", "补报", "王老师"))
    write(db, lambda s: st.add_admin(s, "王老师", "王老师"))
    write(db, lambda s: svc.reopen_period(s, "2026Q3", "补报", "王老师"))
    assert r.id


def test_the_first_account_must_be_an_administrator_and_anyone_may_create_it(db):
    for role in (SUPERVISOR, CLERK, READER):
        with pytest.raises(accounts.AccountError, match="第一个账户必须是管理员"):
            add_account(db, "王老师", "李四", role, ["区教委"] if role == CLERK else ())
    first = add_account(db, "王老师", "张敏", ADMIN)
    assert (first.name, first.role, first.created_by, first.disabled) == ("张敏", ADMIN, "王老师", False)
    with db.sessions() as s:
        assert access.accounts_exist(s)
    # from now on only a 管理员 manages accounts
    with pytest.raises(AccessDenied, match="王老师"):
        add_account(db, "王老师", "李四", READER)
    add_account(db, "张敏", "督导乙", SUPERVISOR)
    with pytest.raises(AccessDenied) as refused:
        add_account(db, "督导乙", "李四", READER)
    assert "督导乙" in str(refused.value) and "督导" in str(refused.value) and "管理账户" in str(refused.value)
    with db.sessions() as s:
        assert [a.name for a in accounts.list_accounts(s)] == ["张敏", "督导乙"]


def test_names_roles_departments_and_passwords_are_checked(db):
    add_account(db, "王老师", "张敏", ADMIN)
    cases = [
        (dict(name="  ", role=READER), "账户名不能为空"),
        (dict(name="李四", role="局长"), "角色应为"),
        (dict(name="李四", role=READER, password="short"), "至少 8"),
        (dict(name="李四", role=CLERK), "至少一个部门"),
        (dict(name="李四", role=CLERK, departments=["没有这个局"]), "没有这些部门"),
        (dict(name="李四", role=READER, departments=["区教委"]), "只有部门填报员绑定部门"),
        (dict(name="张敏", role=READER), "已存在"),
        (dict(name="system", role=READER), "保留"),
    ]
    for kwargs, message in cases:
        kwargs = {"password": PW, "departments": (), **kwargs}
        with pytest.raises(accounts.AccountError, match=message):
            add_account(db, "张敏", kwargs["name"], kwargs["role"], kwargs["departments"], kwargs["password"])
    # names are cleaned like every other name
    clerk = add_account(db, "张敏", "李\u202e四\t", CLERK, [" 区体育局 ", "区体育局"])
    assert (clerk.name, clerk.departments) == ("李四", ("区体育局",))


def test_passwords_are_argon2_hashes_and_logins_say_the_same_for_unknown_names_and_wrong_passwords(db):
    add_account(db, "王老师", "张敏", ADMIN)
    with db.sessions() as s:
        stored = s.scalars(select(UserAccount.password_hash)).one()
    assert stored.startswith("$argon2id$") and PW not in stored
    assert accounts.login(db.sessions, "张敏", PW).name == "张敏"
    assert accounts.login(db.sessions, " 张敏 ", PW).role == ADMIN
    with pytest.raises(accounts.LoginFailed) as wrong:
        accounts.login(db.sessions, "张敏", PW + "x")
    with pytest.raises(accounts.LoginFailed) as unknown:
        accounts.login(db.sessions, "没有此人", PW)
    assert str(wrong.value) == str(unknown.value) == accounts.WRONG_LOGIN


def test_a_hash_made_with_older_parameters_is_remade_at_login(db, monkeypatch):
    from argon2 import PasswordHasher

    add_account(db, "王老师", "张敏", ADMIN)
    with db.sessions() as s:
        old = s.scalars(select(UserAccount.password_hash)).one()
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=2, memory_cost=128, parallelism=1))
    accounts.login(db.sessions, "张敏", PW)
    with db.sessions() as s:
        new = s.scalars(select(UserAccount.password_hash)).one()
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "account.rehash")).one()
    assert new != old and "m=128,t=2" in new and event.actor == "张敏"
    assert accounts.login(db.sessions, "张敏", PW).name == "张敏"


def test_disabled_accounts_cannot_log_in_nor_write_and_the_last_administrator_stays(db):
    t13 = target(db, 13)
    add_account(db, "王老师", "张敏", ADMIN)
    add_account(db, "张敏", "填报员丙", CLERK, ["区教委"])
    with pytest.raises(accounts.AccountError, match="唯一启用的管理员"):
        write(db, lambda s: accounts.disable_account(s, "张敏", "张敏"))
    write(db, lambda s: accounts.disable_account(s, "张敏", "填报员丙", "调岗"))
    with pytest.raises(accounts.LoginFailed, match="已停用"):
        accounts.login(db.sessions, "填报员丙", PW)
    with pytest.raises(accounts.LoginFailed, match="账户或密码不正确"):  # said only to who knows the password
        accounts.login(db.sessions, "填报员丙", "wrong-password")
    with pytest.raises(AccessDenied, match="已停用"):
        write(db, lambda s: svc.add_report(s, t13, report(), "填报员丙", TODAY))
    with pytest.raises(accounts.AccountError, match="已经停用"):
        write(db, lambda s: accounts.disable_account(s, "张敏", "填报员丙"))
    write(db, lambda s: accounts.enable_account(s, "张敏", "填报员丙"))
    write(db, lambda s: svc.add_report(s, t13, report(), "填报员丙", TODAY))
    with db.sessions() as s:  # never deleted
        assert len(accounts.list_accounts(s)) == 2


def test_passwords_are_changed_by_their_owner_or_an_administrator(db):
    add_account(db, "王老师", "张敏", ADMIN)
    add_account(db, "张敏", "督导乙", SUPERVISOR)
    add_account(db, "张敏", "只读丁", READER)
    write(db, lambda s: accounts.change_password(s, "督导乙", "督导乙", "new-password-2"))
    with pytest.raises(accounts.LoginFailed):
        accounts.login(db.sessions, "督导乙", PW)
    assert accounts.login(db.sessions, "督导乙", "new-password-2").name == "督导乙"
    with pytest.raises(AccessDenied, match="只读丁"):
        write(db, lambda s: accounts.change_password(s, "只读丁", "督导乙", "new-password-3"))
    write(db, lambda s: accounts.change_password(s, "张敏", "只读丁", "reset-password-4"))
    assert accounts.login(db.sessions, "只读丁", "reset-password-4").name == "只读丁"
    with pytest.raises(accounts.AccountError, match="至少 8"):
        write(db, lambda s: accounts.change_password(s, "张敏", "只读丁", "1234567"))


def test_an_account_changes_its_own_password_only_with_the_current_one(db):
    add_account(db, "王老师", "张敏", ADMIN)
    add_account(db, "张敏", "督导乙", SUPERVISOR)
    with pytest.raises(accounts.AccountError, match="当前密码不正确"):
        write(db, lambda s: accounts.change_own_password(s, "督导乙", "wrong-password", "new-password-2"))
    with pytest.raises(accounts.AccountError, match="与当前密码相同"):
        write(db, lambda s: accounts.change_own_password(s, "督导乙", PW, PW))
    with pytest.raises(accounts.AccountError, match="至少 8"):
        write(db, lambda s: accounts.change_own_password(s, "督导乙", PW, "short"))
    assert accounts.login(db.sessions, "督导乙", PW).name == "督导乙"  # every refusal changed nothing
    write(db, lambda s: accounts.change_own_password(s, "督导乙", PW, "new-password-2"))
    assert accounts.login(db.sessions, "督导乙", "new-password-2").name == "督导乙"
    with db.sessions() as s:
        entry = s.scalars(select(AuditEvent).where(AuditEvent.action == "account.password")).one()
        assert (entry.actor, entry.reason) == ("督导乙", "本人修改")


def test_an_administrator_changes_roles_and_departments_and_the_last_administrator_stays(db):
    t13 = target(db, 13)
    add_account(db, "王老师", "张敏", ADMIN)
    add_account(db, "张敏", "填报员丙", CLERK, ["区教委"])
    with pytest.raises(AccessDenied, match="填报员丙"):
        write(db, lambda s: accounts.update_account(s, "填报员丙", "填报员丙", ADMIN))
    with pytest.raises(accounts.AccountError, match="唯一启用的管理员"):
        write(db, lambda s: accounts.update_account(s, "张敏", "张敏", READER))
    with pytest.raises(accounts.AccountError, match="计划中没有这些部门：不存在科"):
        write(db, lambda s: accounts.update_account(s, "张敏", "填报员丙", departments=["不存在科"]))
    with pytest.raises(accounts.AccountError, match="没有变化"):
        write(db, lambda s: accounts.update_account(s, "张敏", "填报员丙", CLERK, ["区教委"]))
    with pytest.raises(accounts.AccountError, match="只有部门填报员绑定部门"):
        write(db, lambda s: accounts.update_account(s, "张敏", "填报员丙", READER, ["区教委"]))
    # moved to another office: the new department's targets only, from the next write on
    view = write(db, lambda s: accounts.update_account(s, "张敏", "填报员丙", departments=["区体育局"], reason="调岗"))
    assert (view.role, view.departments) == (CLERK, ("区体育局",))
    with pytest.raises(AccessDenied):
        write(db, lambda s: svc.add_report(s, t13, report(), "填报员丙", TODAY))
    view = write(db, lambda s: accounts.update_account(s, "张敏", "填报员丙", READER))
    assert (view.role, view.departments) == (READER, ())  # another role has no departments
    write(db, lambda s: accounts.update_account(s, "张敏", "填报员丙", ADMIN))
    write(db, lambda s: accounts.update_account(s, "填报员丙", "张敏", SUPERVISOR))  # another 管理员 exists now
    with db.sessions() as s:
        entries = s.scalars(select(AuditEvent).where(AuditEvent.action == "account.update")
                            .order_by(AuditEvent.id)).all()
        assert [(e.actor, e.before["role"], e.after["role"], e.after["departments"]) for e in entries] == [
            ("张敏", CLERK, CLERK, ["区体育局"]), ("张敏", CLERK, READER, []), ("张敏", READER, ADMIN, []),
            ("填报员丙", ADMIN, SUPERVISOR, [])]
        assert entries[0].reason == "调岗"


def test_the_audit_names_the_account_and_never_holds_a_password(db):
    t13 = target(db, 13)
    add_account(db, "王老师", "张敏", ADMIN)
    add_account(db, "张敏", "填报员丙", CLERK, ["区教委"])
    write(db, lambda s: accounts.change_password(s, "张敏", "填报员丙", "second-secret-5"))
    write(db, lambda s: accounts.disable_account(s, "张敏", "填报员丙"))
    write(db, lambda s: accounts.enable_account(s, "张敏", "填报员丙"))
    r = write(db, lambda s: svc.add_report(s, t13, report(), "填报员丙", TODAY))
    write(db, lambda s: svc.close_period(s, "2026Q2", "张敏"))
    with db.sessions() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.notlike("plan%"))).all()
        hashes = s.scalars(select(UserAccount.password_hash)).all()
        created_by = s.get(ProgressReport, r.id).created_by
    assert [e.action for e in events] == ["account.add", "account.add", "account.password", "account.disable",
                                          "account.enable", "report.add", "period.close"]
    assert [e.actor for e in events] == ["王老师", "张敏", "张敏", "张敏", "张敏", "填报员丙", "张敏"]
    assert created_by == "填报员丙"
    dumped = json.dumps([[e.before, e.after, e.reason] for e in events], ensure_ascii=False)
    for secret in (PW, "second-secret-5", "argon2", *hashes):
        assert secret not in dumped


# -- every write, every role -----------------------------------------------------------------------------------

@pytest.fixture
def record(db, tmp_path):
    """What the writes below act on, made before any account exists; then one account per role."""
    from qjgb_desktop.services.collection.returns import NEW, ImportPreview, RowResult

    scan = tmp_path / "批复.pdf"
    scan.write_bytes(b"%PDF-1.4 approval" * 40)
    notice = tmp_path / "通知单.docx"
    notice.write_bytes(b"notice")
    t13, t3 = target(db, 13), target(db, 3)
    day0 = date(2026, 7, 1)

    def prepare(s):
        r = svc.add_report(s, t13, report(), "准备", TODAY)
        svc.close_period(s, "2025Q4", "准备")
        e = ev.attach(s, t13, [scan], "准备")[0]
        ind = svc.find_indicator(s, 13, "专任教师本科及以上学历占比")
        a = sup.open_item(s, "准备", day0, department="区教委", reason="会议安排")
        b = sup.open_item(s, "准备", day0, department="区教委", reason="材料不全")
        sup.assign(s, b.id, "准备", day0, "区教委 李科长")
        c = sup.open_item(s, "准备", day0, department="区教委", reason="进度偏慢")
        sup.assign(s, c.id, "准备", day0, "区教委 李科长")
        sup.answer(s, c.id, "准备", day0, "已整改")
        d = sup.open_item(s, "准备", day0, department="区体育局", reason="冰雪运动")
        sup.assign(s, d.id, "准备", day0, "区体育局")
        return dict(report=r.id, evidence=e.id, indicator=ind.id, a=a.id, b=b.id, c=c.id, d=d.id)
    ids = write(db, prepare)
    add_account(db, "准备", "管理员甲", ADMIN)
    add_account(db, "管理员甲", "督导乙", SUPERVISOR)
    add_account(db, "管理员甲", "填报员丙", CLERK, ["区教委"])
    add_account(db, "管理员甲", "只读丁", READER)
    add_account(db, "管理员甲", "停用戊", READER)
    write(db, lambda s: accounts.disable_account(s, "管理员甲", "停用戊"))

    def preview():
        row = RowResult("进展", 5, NEW, "措施13·2026", target_id=t13, report=report(percent=70))
        return ImportPreview(file=Path("区教委-2026Q3.xlsx"), sha256="a" * 64, department="区教委", period="2026Q3",
                             rows=[row])
    return dict(ids, t13=t13, t3=t3, scan=scan, notice=notice, preview=preview)


ROLE_ACCOUNTS = {ADMIN: "管理员甲", SUPERVISOR: "督导乙", CLERK: "填报员丙", READER: "只读丁"}
ENTRY, SUPERVISION, ADMIN_ONLY = {ADMIN, CLERK}, {ADMIN, SUPERVISOR}, {ADMIN}


def write_cases(r):
    from qjgb_desktop.services.collection.commit import commit
    from qjgb_desktop.services.plan.load import builtin_plan_record, load_plan

    day = TODAY
    return [
        ("进展 新增", ENTRY, lambda s, a: svc.add_report(s, r["t13"], report(), a, TODAY)),
        ("进展 修订", ENTRY, lambda s, a: svc.correct_report(s, r["report"], report(percent=60), a, TODAY)),
        ("进展 删除", ENTRY, lambda s, a: svc.delete_report(s, r["report"], "重复", a)),
        ("指标值", ENTRY, lambda s, a: svc.set_indicator_value(s, r["indicator"], "97", date(2026, 6, 30), a, TODAY)),
        ("关闭周期", SUPERVISION, lambda s, a: svc.close_period(s, "2026Q2", a)),
        ("重新开放周期", ADMIN_ONLY, lambda s, a: svc.reopen_period(s, "2025Q4", "补报", a)),
        ("添加佐证", ENTRY, lambda s, a: ev.attach(s, r["t13"], [r["scan"]], a)),
        ("移除佐证", ENTRY, lambda s, a: ev.remove(s, r["evidence"], "传错了", a)),
        ("清理佐证", ADMIN_ONLY, lambda s, a: ev.purge(s, a)),
        ("预警阈值", ADMIN_ONLY, lambda s, a: st.set_thresholds(s, 12, 30, a)),
        ("填报周期方式", ADMIN_ONLY, lambda s, a: st.set_scheme(s, "monthly", a)),
        ("佐证上限", ADMIN_ONLY, lambda s, a: st.set_max_evidence_mb(s, 300, a)),
        ("报送期限", ADMIN_ONLY, lambda s, a: st.set_due_days(s, 15, a)),
        ("另定截止日", ADMIN_ONLY, lambda s, a: st.set_due_override(s, "2026Q4", date(2027, 1, 15), a)),
        ("反馈期限", ADMIN_ONLY, lambda s, a: st.set_feedback_days(s, 9, a)),
        ("考核权重", ADMIN_ONLY, lambda s, a: st.set_weights(s, {"completion": 50}, a)),
        ("添加管理员名单", ADMIN_ONLY, lambda s, a: st.add_admin(s, "某人", a)),
        ("载入计划", ADMIN_ONLY, lambda s, a: load_plan(s, builtin_plan_record(), a)),
        ("导入交回的 Excel", SUPERVISION, lambda s, a: commit(s, [r["preview"]()], a, TODAY)),
        ("督办立项", SUPERVISION, lambda s, a: sup.open_item(s, a, day, target_id=r["t3"], reason="x")),
        ("滞后目标全部立项", SUPERVISION, lambda s, a: sup.open_from_follow_ups(s, a, day)),
        ("督办交办", SUPERVISION, lambda s, a: sup.assign(s, r["a"], a, day, "区教委 李科长")),
        ("通知单交办", SUPERVISION, lambda s, a: sup.assign_notices(s, a, day, {"区教委": r["notice"]})),
        ("督办反馈", {ADMIN, SUPERVISOR, CLERK}, lambda s, a: sup.answer(s, r["b"], a, day, "已整改")),
        ("继续督办", SUPERVISION, lambda s, a: sup.continue_item(s, r["c"], a, day, "还不够")),
        ("督办办结", SUPERVISION, lambda s, a: sup.close(s, r["c"], a, day, "办结")),
        ("添加账户", ADMIN_ONLY, lambda s, a: accounts.add_account(s, a, "新人", PW, READER)),
        ("停用账户", ADMIN_ONLY, lambda s, a: accounts.disable_account(s, a, "只读丁" if a != "只读丁" else "督导乙")),
        ("启用账户", ADMIN_ONLY, lambda s, a: accounts.enable_account(s, a, "停用戊")),
        ("重设他人密码", ADMIN_ONLY, lambda s, a: accounts.change_password(s, a, "停用戊", "reset-pass-9")),
    ]


def test_every_write_checks_the_role(db, record):
    """The permission table, through the services, for every role and write; each try is rolled back."""
    wrong = []
    for what, allowed, fn in write_cases(record):
        for role, name in ROLE_ACCOUNTS.items():
            try:
                with db.sessions.begin(dry_run=True) as s:
                    fn(s, name)
            except AccessDenied as exc:
                if role in allowed:
                    wrong.append(f"{what}：{role} 应可以，却被拒绝：{exc}")
                elif name not in str(exc) or role not in str(exc):
                    wrong.append(f"{what}：拒绝的说明没有写明账户和角色：{exc}")
            except Exception as exc:  # noqa: BLE001 - any other failure is a broken case, listed with the others
                wrong.append(f"{what}：{role} 出错 {type(exc).__name__}: {exc}")
            else:
                if role not in allowed:
                    wrong.append(f"{what}：{role} 不应可以，却成功了")
    assert not wrong, "\n".join(wrong)


def test_a_refusal_names_the_account_its_role_and_what_was_refused(db, record):
    with pytest.raises(AccessDenied) as exc:
        write(db, lambda s: svc.close_period(s, "2026Q2", "只读丁"))
    assert str(exc.value) == "账户“只读丁”（只读）无权关闭填报周期；此操作限管理员、督导。"
    for actor, says in (("", "尚未登录"), ("王老师", "不是本系统的账户"), ("停用戊", "已停用")):
        with pytest.raises(AccessDenied, match=says):
            write(db, lambda s, actor=actor: svc.close_period(s, "2026Q2", actor))


def test_a_department_clerk_works_only_for_their_departments(db):
    """区体育局 cooperates on measure 3 and is absent from measure 13."""
    t3, t13 = target(db, 3), target(db, 13)

    def prepare(s):
        item = sup.open_item(s, "准备", date(2026, 7, 1), department="区教委", reason="x")
        sup.assign(s, item.id, "准备", date(2026, 7, 1), "区教委")
        own = sup.open_item(s, "准备", date(2026, 7, 1), department="区体育局", reason="x")
        sup.assign(s, own.id, "准备", date(2026, 7, 1), "区体育局")
        return item.id, own.id
    others, own = write(db, prepare)
    add_account(db, "准备", "管理员甲", ADMIN)
    add_account(db, "管理员甲", "体育局刘", CLERK, ["区体育局"])

    mine = write(db, lambda s: svc.add_report(s, t3, report(department="区体育局", done="冰雪进校园"), "体育局刘", TODAY))
    assert (mine.department, mine.created_by) == ("区体育局", "体育局刘")
    with pytest.raises(AccessDenied) as absent:
        write(db, lambda s: svc.add_report(s, t13, report(department="区体育局"), "体育局刘", TODAY))
    assert "措施13" in str(absent.value) and "区体育局" in str(absent.value)
    with pytest.raises(AccessDenied, match="不能以“区教委”的名义"):
        write(db, lambda s: svc.add_report(s, t3, report(department="区教委"), "体育局刘", TODAY))
    lead = write(db, lambda s: svc.add_report(s, t3, report(department="区教委"), "管理员甲", TODAY))
    with pytest.raises(AccessDenied, match="区教委"):  # another department's report is not theirs to correct
        write(db, lambda s: svc.correct_report(s, lead.id, report(department="区体育局"), "体育局刘", TODAY))
    with pytest.raises(AccessDenied):
        write(db, lambda s: svc.delete_report(s, lead.id, "x", "体育局刘"))
    write(db, lambda s: svc.correct_report(s, mine.id, report(department="区体育局", percent=70), "体育局刘", TODAY))

    with db.sessions() as s:
        ind3 = svc.find_indicator(s, 3, "冰雪运动普及人数").id
        ind13 = svc.find_indicator(s, 13, "专任教师本科及以上学历占比").id
    write(db, lambda s: svc.set_indicator_value(s, ind3, "5000", date(2026, 6, 30), "体育局刘", TODAY))
    with pytest.raises(AccessDenied, match="措施13"):
        write(db, lambda s: svc.set_indicator_value(s, ind13, "97", date(2026, 6, 30), "体育局刘", TODAY))

    with pytest.raises(AccessDenied):
        write(db, lambda s: sup.answer(s, others, "体育局刘", date(2026, 7, 2), "不是我们的"))
    write(db, lambda s: sup.answer(s, own, "体育局刘", date(2026, 7, 2), "已安排"))
    with pytest.raises(AccessDenied, match="督办办结"):
        write(db, lambda s: sup.close(s, own, "体育局刘", date(2026, 7, 2)))


def test_an_import_is_the_supervisors_and_writes_the_departments_rows(db, record):
    from qjgb_desktop.services.collection.commit import commit

    summary = write(db, lambda s: commit(s, [record["preview"]()], "督导乙", TODAY))
    assert summary.reports_added + summary.reports_corrected == 1
    with db.sessions() as s:
        assert s.scalars(select(AuditEvent.actor).order_by(AuditEvent.id.desc()).limit(1)).one() == "督导乙"
    with pytest.raises(AccessDenied):  # the cover ends with the import
        write(db, lambda s: svc.add_report(s, record["t13"], report(), "督导乙", TODAY))


def test_the_builtin_plan_is_still_seeded_into_an_empty_database(db):
    from qjgb_desktop.services.plan.load import builtin_plan_record, load_plan

    add_account(db, "王老师", "张敏", ADMIN)
    with pytest.raises(AccessDenied, match="“system”不是本系统的账户"):  # a plan exists: no longer a seeding
        write(db, lambda s: load_plan(s, builtin_plan_record(), "system"))


# -- the command line -------------------------------------------------------------------------------------------

def test_cli_roles_are_the_services_roles():
    from qjgb_desktop.cli import accounts as cli_accounts

    assert cli_accounts.ROLES == access.ROLES


@pytest.fixture
def stdin(monkeypatch):
    def feed(text):
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    feed("")
    return feed


def test_cli_accounts_and_the_login_of_every_command(cli, stdin, monkeypatch, tmp_path, capsys):
    from qjgb_desktop.cli import accounts as cli_accounts

    monkeypatch.delenv("QJGB_PASSWORD", raising=False)
    monkeypatch.delenv("QJGB_USER", raising=False)
    # a password is never an argument
    assert cli("user", "add", "张敏", "--role", "管理员", "--password", PW)[0] == 2
    assert "尚无账户" in cli("user", "list")[1]
    stdin("abc\n")
    code, _out, err = cli("user", "add", "张敏", "--role", "管理员", "--password-stdin")
    assert code == 2 and "至少 8" in err
    stdin(f"{PW}\n")
    code, _out, err = cli("user", "add", "李四", "--role", "只读", "--password-stdin")
    assert code == 2 and "第一个账户必须是管理员" in err
    stdin(f"{PW}\n")
    code, out, err = cli("user", "add", "张敏", "--role", "管理员", "--password-stdin")
    assert code == 0 and "已添加账户：张敏（管理员）" in out and "QJGB_PASSWORD" in out, err

    # from now on every command logs in, reading ones too
    code, out, err = cli("status", user="张敏")
    assert code == 1 and "QJGB_PASSWORD" in err and "未执行任何操作" in err and out == ""
    monkeypatch.setenv("QJGB_PASSWORD", "wrong-password")
    code, out, err = cli("status", user="张敏")
    assert code == 1 and "账户或密码不正确" in err and out == ""
    monkeypatch.setenv("QJGB_PASSWORD", PW)
    code, out, err = cli("status", user="没有此人")
    assert code == 1 and "账户或密码不正确" in err
    assert cli("status", user="张敏")[0] == 0
    from qjgb_desktop.cli.entry import main

    assert main(["status"]) == 1 and "--user" in capsys.readouterr().err
    monkeypatch.setenv("QJGB_USER", "张敏")
    assert main(["status"]) == 0
    monkeypatch.delenv("QJGB_USER")

    # a password prompt in a terminal
    monkeypatch.delenv("QJGB_PASSWORD")
    monkeypatch.setattr(cli_accounts, "_terminal", lambda: True)
    monkeypatch.setattr(cli_accounts.getpass, "getpass", lambda prompt="": PW)
    assert cli("status", user="张敏")[0] == 0
    answers = iter([PW, "another-one-2"])  # the login, then a new password typed twice, differently
    monkeypatch.setattr(cli_accounts.getpass, "getpass", lambda prompt="": next(answers, "x"))
    code, _out, err = cli("user", "add", "督导乙", "--role", "督导", user="张敏")
    assert code == 2 and "不一致" in err
    monkeypatch.setattr(cli_accounts, "_terminal", lambda: False)
    monkeypatch.setenv("QJGB_PASSWORD", PW)

    stdin(f"{PW}\n")
    assert cli("user", "add", "只读丁", "--role", "只读", "--password-stdin", user="张敏")[0] == 0
    stdin(f"{PW}\n")
    code, out, _err = cli("user", "add", "填报员丙", "--role", "部门填报员", "--department", "区教委",
                          "--password-stdin", user="张敏")
    assert code == 0 and "填报员丙（部门填报员：区教委）" in out
    code, _out, err = cli("user", "set", "填报员丙", user="张敏")
    assert code == 2 and "--role 或 --department" in err
    code, out, err = cli("user", "set", "填报员丙", "--department", "区教委", "--department", "区体育局",
                         "--reason", "兼管体育", user="张敏")
    assert code == 0 and "填报员丙（部门填报员：区教委、区体育局）" in out, err
    code, _out, err = cli("user", "set", "张敏", "--role", "只读", user="只读丁")
    assert code == 1 and "无权管理账户" in err
    code, out, _err = cli("user", "list", "--json", user="只读丁")
    listed = json.loads(out)
    assert [(a["name"], a["role"], a["departments"]) for a in listed] == [
        ("张敏", "管理员", []), ("只读丁", "只读", []), ("填报员丙", "部门填报员", ["区教委", "区体育局"])]
    assert PW not in out and "password_hash" not in out and "argon2" not in out

    # the roles, through the same services
    add = ("progress", "add", "--measure", 13, "--year", 2026, "--status", "正常推进", "--percent", 40,
           "--date", "2026-07-01")
    code, out, err = cli(*add, user="只读丁")
    assert code == 1 and "只读丁" in err and "只读" in err and "无权填报进展" in err and out == ""
    code, out, err = cli(*add, user="填报员丙")
    assert code == 0 and "已保存报告" in out, err
    code, out, _err = cli("audit", "--json", "--limit", 1, user="只读丁")
    assert json.loads(out)[0]["actor"] == "填报员丙"
    code, _out, err = cli("period", "close", "2026Q2", user="填报员丙")
    assert code == 1 and "无权关闭填报周期" in err

    # backup and restore: 管理员 only
    code, _out, err = cli("backup", "--out", tmp_path / "b.sqlite3", user="只读丁")
    assert code == 1 and "无权备份数据库" in err and not (tmp_path / "b.sqlite3").exists()
    assert cli("backup", "--out", tmp_path / "b.sqlite3", user="张敏")[0] == 0
    code, _out, err = cli("restore", tmp_path / "b.sqlite3", user="填报员丙")
    assert code == 1 and "无权从备份恢复数据库" in err
    monkeypatch.setenv("QJGB_PASSWORD", "wrong-password")
    code, _out, err = cli("restore", tmp_path / "b.sqlite3", user="张敏")
    assert code == 1 and "账户或密码不正确" in err
    monkeypatch.setenv("QJGB_PASSWORD", PW)

    # passwords and disabling
    stdin("new-password-7\n")
    assert cli("user", "passwd", "只读丁", "--password-stdin", user="只读丁")[0] == 0
    assert cli("status", user="只读丁")[0] == 1
    monkeypatch.setenv("QJGB_PASSWORD", "new-password-7")
    assert cli("status", user="只读丁")[0] == 0
    monkeypatch.setenv("QJGB_PASSWORD", PW)
    code, _out, err = cli("user", "disable", "只读丁", user="填报员丙")
    assert code == 1 and "无权管理账户" in err
    code, out, _err = cli("user", "disable", "只读丁", "--reason", "离职", user="张敏")
    assert code == 0 and "已停用" in out
    monkeypatch.setenv("QJGB_PASSWORD", "new-password-7")
    code, _out, err = cli("status", user="只读丁")
    assert code == 1 and "已停用" in err
    monkeypatch.setenv("QJGB_PASSWORD", PW)
    assert cli("user", "enable", "只读丁", user="张敏")[0] == 0
    code, _out, err = cli("user", "disable", "张敏", user="张敏")
    assert code == 2 and "唯一启用的管理员" in err

    code, out, _err = cli("audit", "--json", "--entity", "user_account", "--limit", 20, user="张敏")
    events = json.loads(out)
    assert {e["actor"] for e in events} == {"王老师", "张敏", "只读丁"}  # the first account by whoever ran it
    assert PW not in out and "new-password-7" not in out and "argon2" not in out


"""Server mode: PostgreSQL itself enforces the accounts and roles (store/server_security.py).

Each attack is made as a department liaison would on his own PC: his own login, straight to the database with psycopg,
no program code in between. The server must refuse it, or (for a name he claims) record the truth instead.
"""

import io
import json
import sys
import threading
from datetime import date, datetime

import psycopg
import pytest
from sqlalchemy.engine import make_url

from qjgb_desktop.domain.validation import ReportInput
from qjgb_desktop.services.accounts import accounts
from qjgb_desktop.services.accounts.access import ADMIN, CLERK, READER, SUPERVISOR
from qjgb_desktop.services.progress import reports as svc
from qjgb_desktop.services.safety.database import open_database

PW = {"管理员甲": "admin-pass-1", "督导乙": "super-pass-1", "张敏": "clerk-pass-1", "李强": "clerk-pass-2",
      "只读丁": "reader-pass-1"}
ROLES = {"管理员甲": (ADMIN, ()), "督导乙": (SUPERVISOR, ()), "张敏": (CLERK, ("区体育局",)),
         "李强": (CLERK, ("区委教育工委",)), "只读丁": (READER, ())}


@pytest.fixture
def server(server_url, pg_cluster, data_dir):
    """A server database with the five accounts above, made by the DBA through the program."""
    dba = open_database(server_url)
    with dba.sessions.begin() as s:
        for name, (role, depts) in ROLES.items():
            accounts.add_account(s, "DBA", name, PW[name], role, depts)
    yield dba
    dba.close()


def login(server, name, password=None):
    u = make_url(server.url)
    return psycopg.connect(host=u.host, port=u.port, dbname=u.database, user=name,
                           password=PW[name] if password is None else password, autocommit=True)


def refused(conn, sql, params=None):
    """The statement fails with a privilege error (the server says no) and changes nothing."""
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    assert info.value.sqlstate in ("42501", "42000"), (sql, info.value.sqlstate, str(info.value))
    return info.value


def ids(server, sql, params=None):
    with server.engine.connect() as conn:
        from sqlalchemy import text

        return conn.execute(text(sql), params or {}).all()


def target_of(server, measure, year=2026):
    with server.sessions() as s:
        return svc.target_id_for(s, measure, year)


def department_id(server, name):
    return ids(server, "SELECT id FROM department WHERE name = :n", {"n": name})[0][0]


def lead_report(server, measure=17, department="区委教育工委"):
    """A report the DBA saved for a department: the row another department will try to change."""
    t = target_of(server, measure)
    with server.sessions.begin() as s:
        r = svc.add_report(s, t, ReportInput(period="2026Q3", report_date=date(2026, 7, 1), department=department,
                                              reporter="王", status="正常推进", percent=40, done="已部署"), "DBA",
                           date(2026, 7, 2))
    return r.id, t


INSERT_REPORT = ("INSERT INTO progress_report (revision, is_current, yearly_target_id, period, report_date, "
                 "department_id, reporter, status, percent, done, problems, next_steps, created_at, created_by, "
                 "deleted, deleted_by, delete_reason) VALUES (1, true, %s, '2026Q3', '2026-07-02', %s, '张敏', "
                 "'已完成', 100, '伪造', '', '', now(), %s, false, '', '') RETURNING id, created_by")


def test_a_liaison_cannot_write_for_another_department_nor_outside_his_measures(server):
    report_id, t17 = lead_report(server)  # measure 17: 区委教育工委 leads, 区体育局 is not responsible
    sports, committee = department_id(server, "区体育局"), department_id(server, "区委教育工委")
    with login(server, "张敏") as c:
        refused(c, INSERT_REPORT, (t17, committee, "管理员甲"))  # in 区委教育工委's name
        refused(c, INSERT_REPORT, (t17, sports, "张敏"))  # his own name, but not his measure
        # another department's report: neither changed, nor soft-deleted, nor deleted
        assert c.execute("UPDATE progress_report SET percent = 0, deleted = true WHERE id = %s",
                         (report_id,)).rowcount == 0
        refused(c, "DELETE FROM progress_report WHERE id = %s", (report_id,))
        refused(c, "UPDATE yearly_target SET text = '改' WHERE id = %s", (t17,))
        refused(c, "INSERT INTO setting (key, value) VALUES ('x', '1')")
        refused(c, "CREATE TABLE mine (id int)")
    assert ids(server, "SELECT percent, deleted FROM progress_report WHERE id = :i", {"i": report_id}) == [(40, False)]


def test_a_liaison_cannot_make_himself_administrator_nor_touch_other_accounts(server):
    with login(server, "张敏") as c:
        refused(c, "UPDATE user_account SET role = '管理员' WHERE name = '张敏'")
        refused(c, 'GRANT qjgb_template_admin TO "张敏"')
        refused(c, 'SET ROLE qjgb_template_owner')
        refused(c, 'ALTER ROLE "管理员甲" PASSWORD \'taken-over-1\'')
        refused(c, 'CREATE ROLE "后门" LOGIN PASSWORD \'backdoor-1\'')
        verifier = c.pgconn.encrypt_password(b"taken-over-1", "管理员甲".encode(), b"scram-sha-256").decode()
        refused(c, "SELECT qjgb_account_password('管理员甲', %s)", (verifier,))
        refused(c, "SELECT qjgb_account_add('后门', %s, '管理员', '[]')", (verifier,))
        refused(c, "SELECT qjgb_account_update('张敏', '管理员', '[]', '')")
        refused(c, "SELECT qjgb_account_disable('管理员甲', true, '')")
        refused(c, "INSERT INTO user_account (name, role, departments, disabled, created_at, created_by, "
                   "must_change_password) VALUES ('后门', '管理员', '[]', false, now(), 'x', false)")
    # the administrator still logs in with his own password, and nobody else became one
    with login(server, "管理员甲") as c:
        assert c.execute("SELECT count(*) FROM user_account WHERE role = '管理员'").fetchone()[0] == 1
    with pytest.raises(psycopg.OperationalError):
        login(server, "后门", "backdoor-1")
    assert ids(server, "SELECT role FROM user_account WHERE name = '张敏'") == [(CLERK,)]


def test_nobody_but_the_owner_rewrites_or_deletes_the_audit_and_authors_cannot_be_forged(server):
    t13 = target_of(server, 3)  # measure 3: 区体育局 cooperates
    sports = department_id(server, "区体育局")
    for name in ("张敏", "管理员甲", "督导乙"):
        with login(server, name) as c:
            refused(c, "DELETE FROM audit_event")
            refused(c, "UPDATE audit_event SET actor = 'x'")
            refused(c, "TRUNCATE audit_event")
            refused(c, "DELETE FROM row_audit")
    with login(server, "张敏") as c:
        refused(c, "SELECT * FROM row_audit")
        # what he may do, he may not do in another's name: the server writes his login instead
        row = c.execute(INSERT_REPORT, (t13, sports, "管理员甲")).fetchone()
        assert row[1] == "张敏"
        c.execute("INSERT INTO audit_event (at, actor, action, entity, reason) "
                  "VALUES (now(), '管理员甲', 'report.add', 'progress_report', '')")
        c.execute("UPDATE progress_report SET deleted = true, deleted_by = '管理员甲' WHERE id = %s", (row[0],))
    assert ids(server, "SELECT created_by, deleted_by FROM progress_report WHERE id = :i", {"i": row[0]}) == \
        [("张敏", "张敏")]
    assert ids(server, "SELECT actor FROM audit_event ORDER BY id DESC LIMIT 1") == [("张敏",)]
    trail = ids(server, "SELECT login, tbl, op FROM row_audit WHERE row_key = :k ORDER BY id", {"k": str(row[0])})
    assert trail == [("张敏", "progress_report", "INSERT"), ("张敏", "progress_report", "UPDATE")]


def test_roles_get_exactly_their_privileges(server):
    report_id, _t = lead_report(server)
    with login(server, "只读丁") as c:
        assert c.execute("SELECT count(*) FROM yearly_target").fetchone()[0] == 60
        refused(c, "UPDATE progress_report SET percent = 1 WHERE id = %s", (report_id,))
        refused(c, "INSERT INTO closed_period (plan_id, period, closed_at, closed_by) VALUES (1, '2026Q1', now(), 'x')")
    with login(server, "督导乙") as c:
        c.execute("INSERT INTO closed_period (plan_id, period, closed_at, closed_by) VALUES (1, '2026Q1', now(), 'x')")
        refused(c, "DELETE FROM closed_period")  # reopening is the 管理员's
        refused(c, "UPDATE setting SET value = '1'")
        refused(c, "UPDATE measure SET title = 'x'")
    with login(server, "管理员甲") as c:
        c.execute("DELETE FROM closed_period WHERE period = '2026Q1'")
        c.execute("UPDATE progress_report SET percent = 45 WHERE id = %s", (report_id,))
    assert [r[0] for r in ids(server, "SELECT login FROM row_audit WHERE tbl = 'closed_period' ORDER BY id")] == \
        ["督导乙", "管理员甲"]


def test_a_liaison_answers_only_his_own_supervision_items_and_cannot_close_them(server):
    from qjgb_desktop.services.supervision import items as sup

    t13, t17 = target_of(server, 3), target_of(server, 17)
    with server.sessions.begin() as s:
        mine = sup.open_item(s, "DBA", date(2026, 7, 1), department="区体育局", reason="滞后", target_id=t13).id
        theirs = sup.open_item(s, "DBA", date(2026, 7, 1), department="区委教育工委", reason="滞后",
                               target_id=t17).id
        for item in (mine, theirs):
            sup.assign(s, item, "DBA", date(2026, 7, 2), to_whom="联络员", feedback_due=date(2026, 7, 20))
    step = ("INSERT INTO supervision_step (item_id, kind, day, at, actor, to_whom, notice_file, notice_sha256, "
            "answer, evidence_ids, note, notice_no) VALUES (%s, %s, '2026-07-03', now(), '张敏', '', '', '', "
            "'已整改', '[]', '', '')")
    with login(server, "张敏") as c:
        refused(c, step, (theirs, "反馈"))
        refused(c, step, (mine, "办结"))
        c.execute(step, (mine, "反馈"))
        refused(c, "UPDATE supervision_item SET stage = '办结' WHERE id = %s", (mine,))
        refused(c, "UPDATE supervision_item SET reason = 'x' WHERE id = %s", (mine,))
        assert c.execute("UPDATE supervision_item SET stage = '反馈' WHERE id = %s", (theirs,)).rowcount == 0
    assert ids(server, "SELECT stage FROM supervision_item WHERE id = :i", {"i": theirs}) == [("交办",)]


def test_a_wrong_password_and_a_disabled_account_are_refused_by_the_server(server):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        login(server, "张敏", "not-his-password")
    with server.sessions.begin() as s:
        accounts.disable_account(s, "DBA", "张敏", "离职")
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        login(server, "张敏")
    with server.sessions.begin() as s:
        accounts.enable_account(s, "DBA", "张敏")
    login(server, "张敏").close()


def test_accounts_are_login_roles_with_scram_passwords_and_none_is_kept_by_the_program(server, pg_cluster):
    with pg_cluster._admin() as c:
        rows = c.execute("SELECT rolname, rolpassword, rolcanlogin FROM pg_authid WHERE rolname = ANY(%s)",
                         (list(PW),)).fetchall()
    assert {r[0] for r in rows} == set(PW)
    assert all(r[1].startswith("SCRAM-SHA-256$") and r[2] for r in rows)
    assert ids(server, "SELECT count(*) FROM user_account WHERE password_hash IS NOT NULL") == [(0,)]


def test_the_programs_own_writes_as_a_liaison_name_the_login(server, monkeypatch, capsys):
    from qjgb_desktop.cli.entry import main

    monkeypatch.setenv("QJGB_DATABASE_URL", make_url(server.url)._replace(username=None, password=None)
                       .render_as_string(hide_password=False))
    monkeypatch.setenv("QJGB_PASSWORD", PW["张敏"])
    add = ["progress", "add", "--measure", 3, "--year", 2026, "--status", "正常推进", "--percent", 40,
           "--date", "2026-07-01", "--department", "区体育局"]
    # the name he gives as operator is not who the records name: the login is
    assert main(["--user", "张敏", *map(str, add)]) == 0, capsys.readouterr()
    capsys.readouterr()
    assert ids(server, "SELECT created_by FROM progress_report ORDER BY id DESC LIMIT 1") == [("张敏",)]
    assert ids(server, "SELECT actor FROM audit_event ORDER BY id DESC LIMIT 1") == [("张敏",)]
    # the program refuses first, in Chinese; the server would too
    code = main(["--user", "张敏", *map(str, add[:-1]), "区委教育工委"])
    err = capsys.readouterr().err
    assert code == 1 and "区委教育工委" in err
    monkeypatch.setenv("QJGB_PASSWORD", PW["只读丁"])
    assert main(["--user", "只读丁", *map(str, add)]) == 1
    assert "无权填报进展" in capsys.readouterr().err


def test_cli_on_a_server_logs_in_as_the_account_and_never_prints_a_password(server, server_url, monkeypatch, capsys,
                                                                           data_dir):
    from qjgb_desktop.cli.entry import main

    dba_url = server_url
    pc_url = make_url(dba_url)._replace(username=None, password=None).render_as_string(hide_password=False)
    from pg_server import DBA_PASSWORD

    monkeypatch.setenv("QJGB_DATABASE_URL", pc_url)
    monkeypatch.delenv("QJGB_PASSWORD", raising=False)
    assert main(["status"]) == 1
    assert "--user" in capsys.readouterr().err
    assert main(["--user", "张敏", "status"]) == 1  # no password anywhere, no terminal
    assert "QJGB_PASSWORD" in capsys.readouterr().err
    monkeypatch.setenv("QJGB_PASSWORD", "wrong-password-9")
    assert main(["--user", "张敏", "status"]) == 1
    err = capsys.readouterr().err
    assert "账户或密码不正确" in err and "wrong-password-9" not in err
    failures = (data_dir / "logs" / "login-failures.log").read_text(encoding="utf-8")
    assert "张敏\twrong" in failures and "wrong-password-9" not in failures
    monkeypatch.setenv("QJGB_PASSWORD", PW["管理员甲"])
    monkeypatch.setattr(sys, "stdin", io.StringIO("new-liaison-1\n"))
    assert main(["--user", "管理员甲", "user", "add", "赵六", "--role", "部门填报员", "--department", "区体育局",
                 "--password-stdin"]) == 0
    # a password the 管理员 set must be changed by its owner before anything else
    monkeypatch.setattr(sys, "stdin", io.StringIO("reset-by-admin-1\n"))
    assert main(["--user", "管理员甲", "user", "passwd", "赵六", "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["--user", "管理员甲", "user", "list"]) == 0
    assert "赵六（部门填报员：区体育局）  启用（待本人改密码）" in capsys.readouterr().out
    monkeypatch.setenv("QJGB_PASSWORD", "reset-by-admin-1")
    assert main(["--user", "赵六", "status"]) == 1
    assert "须先改成只有您知道的密码" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("only-mine-123\n"))
    assert main(["--user", "赵六", "user", "passwd", "赵六", "--password-stdin"]) == 0
    monkeypatch.setenv("QJGB_PASSWORD", "only-mine-123")
    assert main(["--user", "赵六", "status"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["--user", "赵六", "user", "list", "--json"]) == 0
    assert {a["name"]: a["must_change_password"] for a in json.loads(capsys.readouterr().out)}["赵六"] is False
    # the DBA's URL with its password, given as --db: used, never shown
    capsys.readouterr()
    monkeypatch.delenv("QJGB_DATABASE_URL")
    assert main(["--db", dba_url, "init"]) == 0
    out, err = capsys.readouterr()
    assert DBA_PASSWORD not in out + err and "qjgb_dba@" in out
    wrong = dba_url.replace(DBA_PASSWORD, "Not-The-Pw-55")
    assert main(["--db", wrong, "init"]) == 1
    out, err = capsys.readouterr()
    assert "Not-The-Pw-55" not in out + err and "账户或密码不正确" in err
    for line in (data_dir / "logs").glob("*.log"):
        text = line.read_text(encoding="utf-8")
        assert DBA_PASSWORD not in text and "Not-The-Pw-55" not in text and "only-mine-123" not in text


def test_a_password_in_every_pcs_config_is_refused(data_dir, server_url, monkeypatch):
    from qjgb_desktop import paths
    monkeypatch.delenv("QJGB_DATABASE_URL")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.toml").write_text(f'database_url = "{server_url}"\n', encoding="utf-8")
    from pg_server import DBA_PASSWORD

    with pytest.raises(paths.ConfigError, match="含有密码") as info:
        paths.database_url()
    assert DBA_PASSWORD not in str(info.value)


def test_two_pcs_setting_up_one_empty_database_at_once_get_one_result(pg_cluster, data_dir):
    url = pg_cluster.empty_database()
    results, errors = [], []

    def init():
        try:
            db = open_database(url)
            results.append((db.schema_action, db.seeded))
            db.close()
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)
    threads = [threading.Thread(target=init) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(a for a, _ in results) == ["created", "current", "current"]
    assert sorted(s for _, s in results) == [False, False, True]
    pg_cluster.drop(url)


def test_an_account_cannot_set_up_or_migrate_a_database(server, pg_cluster, data_dir):
    from qjgb_desktop.store.schema import SchemaError

    url = pg_cluster.empty_database()
    with pg_cluster._admin() as c:
        c.execute(f'GRANT CONNECT ON DATABASE "{url.rsplit("/", 1)[1]}" TO qjgb_template_clerk')
    u = make_url(url)._replace(username="张敏", password=PW["张敏"]).render_as_string(hide_password=False)
    with pytest.raises(SchemaError, match="须由数据库管理员完成") as info:
        open_database(u)
    assert PW["张敏"] not in str(info.value)
    pg_cluster.drop(url)


def test_an_existing_server_database_is_converted_and_its_accounts_must_get_new_passwords(pg_cluster, data_dir,
                                                                                         cheap_hashes):
    """A database from before (accounts with the program's own hashes, tables owned by the one shared login):
    `init` as its owner gives it the server's roles; each account becomes a login without a password."""
    from sqlalchemy import text

    from qjgb_desktop.store.engine import make_engine
    from qjgb_desktop.store.schema import alembic_config

    url = pg_cluster.empty_database()
    engine = make_engine(url)
    from alembic import command

    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009_rule_of_truth")
        conn.execute(text("INSERT INTO department (name, aliases) VALUES ('区体育局', '[]')"))
        conn.execute(text("INSERT INTO user_account (name, password_hash, role, departments, disabled, created_at, "
                          "created_by) VALUES ('老管理员', '$argon2id$v=19$m=65536,t=3,p=4$x$y', '管理员', '[]', false, "
                          ":t, 'x'), ('老填报员', '$argon2id$v=19$m=65536,t=3,p=4$x$y', '部门填报员', '[\"区体育局\"]', "
                          "false, :t, 'x')"), {"t": datetime(2026, 1, 5)})
    engine.dispose()
    db = open_database(url)
    assert db.schema_action == "migrated from 0009_rule_of_truth"
    assert ids(db, "SELECT name, password_hash, must_change_password FROM user_account ORDER BY id") == [
        ("老管理员", None, True), ("老填报员", None, True)]
    assert ids(db, "SELECT tableowner FROM pg_tables WHERE tablename = 'progress_report'") == [
        (make_url(url).database + "_owner",)]
    # no password yet: nobody logs in as them until the DBA (then the 管理员) sets one
    with pytest.raises(psycopg.OperationalError):
        login(db, "老管理员", "anything-at-all")
    with db.sessions.begin() as s:
        accounts.change_password(s, "DBA", "老管理员", "fresh-admin-1")
    with login(db, "老管理员", "fresh-admin-1") as c:
        assert c.execute("SELECT must_change_password FROM user_account WHERE name = '老管理员'").fetchone()[0]
    db.close()
    pg_cluster.drop(url)


def test_accounts_service_checks_match_the_servers(server):
    """The program's own refusal comes first, with a clear message; the account functions say the same."""
    from qjgb_desktop.services.accounts.access import AccessDenied

    clerk_url = make_url(server.url)._replace(username="张敏", password=PW["张敏"])
    db = open_database(clerk_url.render_as_string(hide_password=False))
    try:
        with pytest.raises(AccessDenied, match="无权管理账户"):
            with db.sessions.begin() as s:
                accounts.add_account(s, "管理员甲", "后门", "backdoor-pass-1", ADMIN)  # the name he passes is ignored
        with db.sessions.begin() as s:
            accounts.change_password(s, "whoever", "张敏", "clerk-new-pass-2")  # his own: allowed
        assert ids(db, "SELECT must_change_password FROM user_account WHERE name = '张敏'") == [(False,)]
    finally:
        db.close()
    login(server, "张敏", "clerk-new-pass-2").close()


def test_the_servers_account_functions_keep_the_last_administrator_and_name_what_changed(server):
    """Called straight, past the program's own checks: the server says the same."""
    with login(server, "管理员甲") as c:
        for sql in ("SELECT qjgb_account_disable('管理员甲', true, '')",
                    "SELECT qjgb_account_update('管理员甲', '督导', '[]', '')"):
            with pytest.raises(psycopg.Error, match="唯一启用的管理员账户，不能(停用|改为督导)") as info:
                c.execute(sql)
            assert info.value.sqlstate == "22023"
        with pytest.raises(psycopg.Error, match="没有名为“无此人”的账户"):
            c.execute("SELECT qjgb_account_disable('无此人', true, '')")
        c.execute("SELECT qjgb_account_update('李强', '部门填报员', '[\"区体育局\"]', '兼管体育')")
    after = ids(server, "SELECT actor, before, after, reason FROM audit_event WHERE action = 'account.update'")
    assert [(a, b["departments"], c_["departments"], r) for a, b, c_, r in after] == [
        ("管理员甲", ["区委教育工委"], ["区体育局"], "兼管体育")]
    assert all("password" not in json_ for row in after for json_ in (str(row[1]), str(row[2])))

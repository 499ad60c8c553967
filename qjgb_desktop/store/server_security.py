"""Server mode: PostgreSQL itself enforces the accounts and roles (the program's own checks only say it first).

`prepare` and `install` run in the transaction that creates or migrates the schema, as the DBA (a login that may
create roles: superuser, or CREATEROLE and owner of the database), under the schema advisory lock (store/schema.py):

- the tables belong to the non-login role `<p>_owner`; the DBA is made a member of it (and so is the only login that
  bypasses row-level security);
- four non-login group roles hold exactly their privileges: `<p>_admin` (管理员), `<p>_supervisor` (督导),
  `<p>_clerk` (部门填报员), `<p>_reader` (只读); an account is a login role of the account's own name in one of them;
- row-level security limits a 部门填报员's writes (reports, indicator values, evidence, 督办反馈) to targets where one
  of their departments leads or cooperates, and in that department's name;
- triggers stamp the author columns (created_by, deleted_by, actor, …) and the audit log's actor with
  `session_user` for every login but the owner's, and write every row a login changes into `row_audit`;
  nobody but the owner may update or delete either log;
- accounts are created, changed and disabled only through SECURITY DEFINER functions that check the caller is a
  管理员 (or the owner); a password reaches the server only as a SCRAM-SHA-256 verifier made on the client.

`<p>` is the database's name when it is a plain lower-case identifier, else `qjgb_` and a hash of it; once installed
it is read back from the owner of the tables, so a copy of the database (CREATE DATABASE … TEMPLATE) keeps its roles.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import Connection, text

from qjgb_desktop.store import server_functions

VERSION = server_functions.VERSION
GROUPS = {"管理员": "admin", "督导": "supervisor", "部门填报员": "clerk", "只读": "reader"}
SCRAM = re.compile(r"^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$")

# Tables a login writes to, by group: (privileges, table). The rest of the privileges are SELECT for every group.
ENTRY_TABLES = ("progress_report", "indicator_value", "evidence")  # a clerk's rows, row-level security decides
_WRITES = {
    "supervisor": [("INSERT, UPDATE", t) for t in ("progress_report", "indicator_value", "import_batch",
                                                    "supervision_item", "supervision_step", "notice_record")]
                  + [("INSERT", "closed_period"), ("INSERT", "audit_event")],
    "clerk": [("INSERT, UPDATE", t) for t in ENTRY_TABLES]
             + [("INSERT", "evidence_file"), ("INSERT", "stored_blob"), ("INSERT, DELETE", "blob_chunk"),
                ("UPDATE (stage)", "supervision_item"), ("INSERT, UPDATE (evidence_ids)", "supervision_step"),
                ("INSERT", "audit_event")],
    "reader": [],
}
# 管理员: everything but the logs, the accounts and the schema's own tables.
_NOT_ADMIN = {"audit_event", "row_audit", "user_account", "alembic_version"}
# Tables with row-level security: who may write which rows is decided per row.
RLS_TABLES = ("progress_report", "indicator_value", "evidence", "blob_chunk", "supervision_item", "supervision_step")
# The author columns stamped with the login: table → (column set at insert and kept at update, soft-deleted?)
AUTHORS = {
    "progress_report": ("created_by", True), "indicator_value": ("created_by", True),
    "evidence": ("created_by", True), "import_batch": ("imported_by", False), "closed_period": ("closed_by", False),
    "supervision_item": ("created_by", False), "supervision_step": ("actor", False), "notice_record": ("actor", False),
    "audit_event": ("actor", False),
}
INTERNAL_FUNCTIONS = ("qjgb_sync_role(text)", "qjgb_audit_account(text, public.user_account, jsonb, text)",
                      "qjgb_check_departments(text, json)", "qjgb_account_row(text)",
                      "qjgb_keep_last_admin(public.user_account, text)")
NOT_ROW_AUDITED = {"audit_event", "row_audit", "blob_chunk", "alembic_version"}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def new_prefix(database: str) -> str:
    if re.fullmatch(r"[a-z][a-z0-9_]{0,39}", database):
        return database
    return "qjgb_" + hashlib.sha1(database.encode("utf-8")).hexdigest()[:10]


def installed_prefix(conn: Connection) -> str | None:
    """The prefix of the roles of an installed database (from the owner of its tables), else None."""
    owner = conn.scalar(text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'plan'"))
    if owner and owner.endswith("_owner") and installed_version(conn):
        return owner[: -len("_owner")]
    return None


def installed_version(conn: Connection) -> int:
    if conn.scalar(text("SELECT to_regprocedure('public.qjgb_security_version()')")) is None:
        return 0
    return int(conn.scalar(text("SELECT public.qjgb_security_version()")))


class Roles:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.owner = f"{prefix}_owner"
        self.groups = {kind: f"{prefix}_{kind}" for kind in GROUPS.values()}

    def group_of(self, role: str) -> str:
        return self.groups[GROUPS[role]]

    @property
    def all(self) -> list[str]:
        return [self.owner, *self.groups.values()]


def roles(conn: Connection) -> Roles | None:
    prefix = installed_prefix(conn)
    return Roles(prefix) if prefix else None


def session_is_owner(conn: Connection, r: Roles | None = None) -> bool:
    """Whether this connection's login may administer the database (the DBA: a member of the owner role)."""
    r = r or roles(conn)
    if r is None:  # nothing installed yet: whoever may create it is the DBA
        return True
    return bool(conn.scalar(text("SELECT pg_has_role(session_user, :owner, 'MEMBER')"), {"owner": r.owner}))


def may_install(conn: Connection) -> str | None:
    """Why this login cannot set the database up (None when it can): the DBA needs CREATEROLE and the database."""
    row = conn.execute(text(
        "SELECT r.rolsuper, r.rolcreaterole, pg_has_role(session_user, d.datdba, 'MEMBER') "
        "FROM pg_roles r, pg_database d WHERE r.rolname = session_user AND d.datname = current_database()")).first()
    if row is None:
        return "无法读取当前登录的权限"
    superuser, createrole, owns_db = row
    if superuser:
        return None
    if not createrole:
        return "当前登录没有 CREATEROLE 权限（建立角色需要它）"
    if not owns_db:
        return "当前登录不是该数据库的所有者（CREATE DATABASE … OWNER 该登录）"
    return None


def prepare(conn: Connection) -> Roles:
    """Before the migrations: the roles, the DBA's membership of the owner, the schema's privileges, and every
    existing table handed to the owner. Leaves the connection acting as the owner (SET ROLE), so what the migrations
    create belongs to it. The groups are created by the owner itself, which may then grant them (PostgreSQL 16 gives
    a CREATEROLE role that right only over the roles it created)."""
    database = conn.scalar(text("SELECT current_database()"))
    r = roles(conn) or Roles(new_prefix(database))

    def create_missing(names, extra=""):
        for name in names:
            if conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}) is None:
                conn.execute(text(f"CREATE ROLE {_ident(name)} NOLOGIN{extra}"))
    create_missing([r.owner], " CREATEROLE")
    if not conn.scalar(text("SELECT pg_has_role(session_user, :o, 'MEMBER')"), {"o": r.owner}):
        conn.execute(text(f"GRANT {_ident(r.owner)} TO SESSION_USER"))
    conn.execute(text(f"SET LOCAL ROLE {_ident(r.owner)}"))
    create_missing(r.groups.values())
    conn.execute(text("RESET ROLE"))
    db = _ident(database)
    conn.execute(text(f"REVOKE ALL ON DATABASE {db} FROM PUBLIC"))
    conn.execute(text(f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {', '.join(map(_ident, r.all))}"))
    conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {_ident(r.owner)}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {', '.join(map(_ident, r.groups.values()))}"))
    for kind, name in conn.execute(text(
            "SELECT 'TABLE', c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> :o "
            "UNION ALL SELECT 'SEQUENCE', c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> :o "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))"),
            {"o": r.owner}).all():
        conn.execute(text(f"ALTER {kind} public.{_ident(name)} OWNER TO {_ident(r.owner)}"))
    for (name,) in conn.execute(text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname LIKE 'qjgb\\_%' AND pg_get_userbyid(p.proowner) <> :o"),
            {"o": r.owner}).all():
        conn.execute(text(f"ALTER FUNCTION {name} OWNER TO {_ident(r.owner)}"))
    conn.execute(text(f"SET LOCAL ROLE {_ident(r.owner)}"))
    return r


def install(conn: Connection, r: Roles) -> dict:
    """After the migrations, acting as the owner: privileges, policies, triggers, the account functions, and the
    accounts of a database from before this design turned into login roles. Idempotent. Returns what it did."""
    tables = [t for (t,) in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))]
    groups = r.groups
    everyone = ", ".join(_ident(g) for g in groups.values())
    for t in tables:
        conn.execute(text(f"REVOKE ALL ON public.{_ident(t)} FROM PUBLIC, {everyone}"))
    conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {everyone}"))
    conn.execute(text(f"REVOKE SELECT ON public.row_audit FROM {everyone}"))
    conn.execute(text(f"GRANT SELECT ON public.row_audit TO {_ident(groups['admin'])}"))
    conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {everyone}"))
    admin_tables = [t for t in tables if t not in _NOT_ADMIN]
    for t in admin_tables:
        conn.execute(text(f"GRANT INSERT, UPDATE, DELETE ON public.{_ident(t)} TO {_ident(groups['admin'])}"))
    conn.execute(text(f"GRANT INSERT ON public.audit_event TO {_ident(groups['admin'])}"))
    for kind, grants in _WRITES.items():
        for privileges, t in grants:
            conn.execute(text(f"GRANT {privileges} ON public.{_ident(t)} TO {_ident(groups[kind])}"))
    conn.connection.dbapi_connection.execute(server_functions.sql(r))  # several statements, %-signs: as they are
    conn.execute(text("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC"))
    conn.execute(text(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {everyone}"))
    for internal in INTERNAL_FUNCTIONS:  # called only by the functions above, as the owner
        conn.execute(text(f"REVOKE EXECUTE ON FUNCTION public.{internal} FROM {everyone}"))
    _policies(conn, r)
    _triggers(conn, tables)
    converted = convert_accounts(conn, r)
    return {"prefix": r.prefix, "owner": r.owner, "groups": dict(groups), "converted": converted}


def _policies(conn: Connection, r: Roles) -> None:
    g = {k: _ident(v) for k, v in r.groups.items()}
    trusted = f"{g['admin']}, {g['supervisor']}"
    everyone = ", ".join(g.values())
    clerk = g["clerk"]
    rules = {
        "progress_report": [("INSERT", None, "public.qjgb_may_write_target(yearly_target_id, department_id)"),
                            ("UPDATE", "public.qjgb_may_write_target(yearly_target_id, department_id)",
                             "public.qjgb_may_write_target(yearly_target_id, department_id)")],
        "indicator_value": [("INSERT", None, "public.qjgb_may_write_indicator(indicator_id, department_id)"),
                            ("UPDATE", "public.qjgb_may_write_indicator(indicator_id, department_id)",
                             "public.qjgb_may_write_indicator(indicator_id, department_id)")],
        "evidence": [("INSERT", None, "public.qjgb_may_write_target(yearly_target_id, NULL)"),
                     ("UPDATE", "public.qjgb_may_write_target(yearly_target_id, NULL)",
                      "public.qjgb_may_write_target(yearly_target_id, NULL)")],
        "blob_chunk": [("INSERT", None, "true"),
                       ("DELETE", "NOT EXISTS (SELECT 1 FROM public.stored_blob s "
                                  "WHERE s.upload_id = blob_chunk.upload_id)", None)],
        "supervision_item": [("UPDATE", "public.qjgb_mine(department_id)",
                              "public.qjgb_mine(department_id) AND stage = '反馈'")],
        "supervision_step": [("INSERT", None, "kind = '反馈' AND public.qjgb_mine_item(item_id)"),
                             ("UPDATE", "kind = '反馈' AND actor = session_user AND public.qjgb_mine_item(item_id)",
                              "kind = '反馈' AND public.qjgb_mine_item(item_id)")],
    }
    for t in RLS_TABLES:
        table = f"public.{_ident(t)}"
        for (name,) in conn.execute(text("SELECT policyname FROM pg_policies WHERE schemaname = 'public' "
                                         "AND tablename = :t"), {"t": t}).all():
            conn.execute(text(f"DROP POLICY {_ident(name)} ON {table}"))
        conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        conn.execute(text(f"CREATE POLICY qjgb_read ON {table} FOR SELECT TO {everyone} USING (true)"))
        conn.execute(text(f"CREATE POLICY qjgb_trusted ON {table} FOR ALL TO {trusted} USING (true) "
                          "WITH CHECK (true)"))
        for i, (command, using, check) in enumerate(rules[t]):
            sql = f"CREATE POLICY qjgb_clerk_{i} ON {table} FOR {command} TO {clerk}"
            if using:
                sql += f" USING ({using})"
            if check:
                sql += f" WITH CHECK ({check})"
            conn.execute(text(sql))


def _triggers(conn: Connection, tables: list[str]) -> None:
    for t, (column, soft) in AUTHORS.items():
        table = f"public.{_ident(t)}"
        conn.execute(text(f"DROP TRIGGER IF EXISTS qjgb_stamp ON {table}"))
        conn.execute(text(f"CREATE TRIGGER qjgb_stamp BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
                          f"EXECUTE FUNCTION public.qjgb_stamp('{column}', '{'soft' if soft else ''}')"))
    for t in ("audit_event", "row_audit"):
        table = f"public.{_ident(t)}"
        conn.execute(text(f"DROP TRIGGER IF EXISTS qjgb_append_only ON {table}"))
        conn.execute(text(f"CREATE TRIGGER qjgb_append_only BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW "
                          "EXECUTE FUNCTION public.qjgb_append_only()"))
    for t in tables:
        if t in NOT_ROW_AUDITED:
            continue
        table = f"public.{_ident(t)}"
        conn.execute(text(f"DROP TRIGGER IF EXISTS qjgb_row_audit ON {table}"))
        conn.execute(text(f"CREATE TRIGGER qjgb_row_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                          "FOR EACH ROW EXECUTE FUNCTION public.qjgb_row_audit()"))


def convert_accounts(conn: Connection, r: Roles | None = None) -> list[str]:
    """Accounts kept with the program's own password hashes (before this design) become login roles without a
    password: a 管理员 (or the DBA) sets a new one, and the account must change it at its first login. Every
    account's group membership and LOGIN follow its row."""
    r = r or roles(conn)
    converted = []
    for name, _role, disabled, has_hash in conn.execute(text(
            "SELECT name, role, disabled, password_hash IS NOT NULL FROM public.user_account ORDER BY id")).all():
        exists = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
        if exists is None:
            conn.execute(text(f"CREATE ROLE {_ident(name)} {'NOLOGIN' if disabled else 'LOGIN'}"))
            conn.execute(text("UPDATE public.user_account SET password_hash = NULL, must_change_password = true "
                              "WHERE name = :n"), {"n": name})
            converted.append(name)
        elif exists[0] or not conn.scalar(text(
                "SELECT bool_or(pg_has_role(:n, g, 'MEMBER')) FROM unnest(CAST(:gs AS text[])) g"),
                {"n": name, "gs": list(r.groups.values())}):
            if has_hash:
                raise RuntimeError(f"服务器上已有名为“{name}”的登录角色，但它不是本数据库的账户（可能属于另一个数据库"
                                   "或是数据库管理员的角色）。请先改名其中一个，再运行 init。")
        conn.execute(text("SELECT public.qjgb_sync_role(:n)"), {"n": name})
    return converted

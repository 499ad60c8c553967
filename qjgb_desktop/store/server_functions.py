"""Server mode: the SQL of the database's own functions (store/server_security.py installs them): helpers for the
row-level security policies, the triggers that stamp authors and keep the audit append-only, and the SECURITY DEFINER
functions through which alone accounts are created, changed and disabled. `sql(roles)` fills in the role names."""

from __future__ import annotations

VERSION = 2


def sql(r) -> str:
    """The SQL of the functions: helpers for the policies, the triggers, and the account functions."""
    q = {"owner": r.owner.replace("'", "''"), **{k: v.replace("'", "''") for k, v in r.groups.items()}}
    return _FUNCTIONS.replace("@VERSION@", str(VERSION)).replace("@OWNER@", q["owner"]) \
        .replace("@ADMIN@", q["admin"]).replace("@SUPERVISOR@", q["supervisor"]) \
        .replace("@CLERK@", q["clerk"]).replace("@READER@", q["reader"])


_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION public.qjgb_security_version() RETURNS int LANGUAGE sql IMMUTABLE
AS $$ SELECT @VERSION@ $$;

CREATE OR REPLACE FUNCTION public.qjgb_is_owner() RETURNS boolean LANGUAGE sql STABLE
AS $$ SELECT pg_has_role(session_user, '@OWNER@', 'MEMBER') $$;

CREATE OR REPLACE FUNCTION public.qjgb_group(role text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE role WHEN '管理员' THEN '@ADMIN@' WHEN '督导' THEN '@SUPERVISOR@'
                       WHEN '部门填报员' THEN '@CLERK@' WHEN '只读' THEN '@READER@' END $$;

CREATE OR REPLACE FUNCTION public.qjgb_my_departments() RETURNS SETOF integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT d.id FROM public.user_account u
      CROSS JOIN LATERAL json_array_elements_text(CAST(u.departments AS json)) AS n(name)
      JOIN public.department d ON d.name = n.name
      WHERE u.name = session_user AND NOT u.disabled AND u.role = '部门填报员' $$;

CREATE OR REPLACE FUNCTION public.qjgb_mine(department integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT department IN (SELECT public.qjgb_my_departments()) $$;

CREATE OR REPLACE FUNCTION public.qjgb_mine_item(item integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT EXISTS (SELECT 1 FROM public.supervision_item i WHERE i.id = item
                     AND i.department_id IN (SELECT public.qjgb_my_departments())) $$;

-- A clerk may write for a measure where the department (or, without one, any of theirs) leads or cooperates,
-- and only in the name of one of their own departments.
CREATE OR REPLACE FUNCTION public.qjgb_may_write_measure(measure integer, department integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT EXISTS (SELECT 1 FROM public.measure_department md
                     WHERE md.measure_id = measure
                       AND md.department_id IN (SELECT public.qjgb_my_departments())
                       AND (department IS NULL OR md.department_id = department)) $$;

CREATE OR REPLACE FUNCTION public.qjgb_may_write_target(target integer, department integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT public.qjgb_may_write_measure((SELECT t.measure_id FROM public.yearly_target t WHERE t.id = target),
                                           department) $$;

CREATE OR REPLACE FUNCTION public.qjgb_may_write_indicator(indicator integer, department integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT public.qjgb_may_write_measure((SELECT i.measure_id FROM public.indicator i WHERE i.id = indicator),
                                           department) $$;

-- The author of a row is whoever logged in: set at insert, kept at update, the deleter stamped at a soft delete.
-- The owner's sessions (the DBA: init, migrate-to, restore) keep the names they copy.
CREATE OR REPLACE FUNCTION public.qjgb_stamp() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    col text := TG_ARGV[0];
    changes jsonb := '{}'::jsonb;
BEGIN
    IF public.qjgb_is_owner() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        changes := jsonb_build_object(col, session_user::text);
    ELSE
        changes := jsonb_build_object(col, to_jsonb(OLD) -> col);
        IF TG_ARGV[1] = 'soft' THEN
            changes := changes || jsonb_build_object('created_at', to_jsonb(OLD) -> 'created_at');
            IF (to_jsonb(NEW) ->> 'deleted')::boolean AND NOT (to_jsonb(OLD) ->> 'deleted')::boolean THEN
                changes := changes || jsonb_build_object('deleted_by', session_user::text);
            ELSE
                changes := changes || jsonb_build_object('deleted_by', to_jsonb(OLD) -> 'deleted_by');
            END IF;
        END IF;
    END IF;
    NEW := jsonb_populate_record(NEW, changes);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.qjgb_append_only() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    IF public.qjgb_is_owner() THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION '留痕记录只能追加，不能修改或删除' USING ERRCODE = '42501';
END $$;

CREATE OR REPLACE FUNCTION public.qjgb_row_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    IF public.qjgb_is_owner() THEN
        RETURN NULL;
    END IF;
    INSERT INTO public.row_audit (at, login, tbl, op, row_key, before, after)
    VALUES (localtimestamp, session_user, TG_TABLE_NAME, TG_OP,
            COALESCE(to_jsonb(NEW), to_jsonb(OLD)) ->> CASE WHEN TG_TABLE_NAME IN ('setting') THEN 'key'
                                                             WHEN TG_TABLE_NAME = 'stored_blob' THEN 'sha256'
                                                             ELSE 'id' END,
            CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_json(OLD) END,
            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_json(NEW) END);
    RETURN NULL;
END $$;

-- Accounts --------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.qjgb_require_admin() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    IF public.qjgb_is_owner() THEN
        RETURN;
    END IF;
    IF NOT pg_has_role(session_user, '@ADMIN@', 'MEMBER') OR NOT EXISTS (
            SELECT 1 FROM public.user_account WHERE name = session_user AND role = '管理员' AND NOT disabled) THEN
        RAISE EXCEPTION '账户“%”无权管理账户；此操作限管理员。', session_user USING ERRCODE = '42501';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION public.qjgb_check_verifier(verifier text) RETURNS void LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF verifier IS NULL OR verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION '密码须以 SCRAM-SHA-256 验证串提交（由程序在本机计算），不接受明文' USING ERRCODE = '22023';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION public.qjgb_check_departments(role text, departments json) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    unknown text;
    n integer := json_array_length(COALESCE(departments, '[]'::json));
BEGIN
    IF public.qjgb_group(role) IS NULL THEN
        RAISE EXCEPTION '角色应为 管理员、督导、部门填报员、只读 之一，收到“%”', role USING ERRCODE = '22023';
    END IF;
    IF role = '部门填报员' AND n = 0 THEN
        RAISE EXCEPTION '部门填报员须绑定至少一个部门' USING ERRCODE = '22023';
    END IF;
    IF role <> '部门填报员' AND n > 0 THEN
        RAISE EXCEPTION '只有部门填报员绑定部门' USING ERRCODE = '22023';
    END IF;
    SELECT string_agg(x, '、') INTO unknown FROM json_array_elements_text(COALESCE(departments, '[]'::json)) x
     WHERE NOT EXISTS (SELECT 1 FROM public.department d WHERE d.name = x);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION '计划中没有这些部门：%', unknown USING ERRCODE = '22023';
    END IF;
END $$;

-- An account's row (locked for the change at hand), or the refusal that there is none.
CREATE OR REPLACE FUNCTION public.qjgb_account_row(account text) RETURNS public.user_account
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    acc public.user_account;
BEGIN
    SELECT * INTO acc FROM public.user_account WHERE name = account FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '没有名为“%”的账户', account USING ERRCODE = '22023';
    END IF;
    RETURN acc;
END $$;

-- What the audit says of an account: never a password.
CREATE OR REPLACE FUNCTION public.qjgb_account_json(acc public.user_account) RETURNS jsonb LANGUAGE sql IMMUTABLE
AS $$ SELECT jsonb_build_object('name', (acc).name, 'role', (acc).role, 'departments', (acc).departments,
                                'disabled', (acc).disabled) $$;

-- The last enabled 管理员 stays one: `what` is the change refused (停用, 改为督导 …).
CREATE OR REPLACE FUNCTION public.qjgb_keep_last_admin(acc public.user_account, what text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    IF acc.role = '管理员' AND NOT acc.disabled AND (SELECT count(*) FROM public.user_account u
            WHERE u.role = '管理员' AND NOT u.disabled) <= 1 THEN
        RAISE EXCEPTION '“%”是唯一启用的管理员账户，不能%', acc.name, what USING ERRCODE = '22023';
    END IF;
END $$;

-- The login role of an account follows its row: exactly one group, LOGIN unless disabled.
CREATE OR REPLACE FUNCTION public.qjgb_sync_role(account text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    acc public.user_account := public.qjgb_account_row(account);
    g text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = account AND (rolsuper OR pg_has_role(rolname, '@OWNER@', 'MEMBER')))
    THEN
        RAISE EXCEPTION '“%”是数据库管理员的登录角色，不能作为账户', account USING ERRCODE = '42501';
    END IF;
    FOREACH g IN ARRAY ARRAY['@ADMIN@', '@SUPERVISOR@', '@CLERK@', '@READER@'] LOOP
        IF g <> public.qjgb_group(acc.role) AND EXISTS (
                SELECT 1 FROM pg_auth_members m WHERE m.roleid = to_regrole(quote_ident(g))
                   AND m.member = to_regrole(quote_ident(account))) THEN
            EXECUTE format('REVOKE %I FROM %I', g, account);
        END IF;
    END LOOP;
    EXECUTE format('GRANT %I TO %I', public.qjgb_group(acc.role), account);
    EXECUTE format('ALTER ROLE %I %s', account, CASE WHEN acc.disabled THEN 'NOLOGIN' ELSE 'LOGIN' END);
END $$;

CREATE OR REPLACE FUNCTION public.qjgb_audit_account(action text, acc public.user_account, before jsonb,
                                                     reason text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ INSERT INTO public.audit_event (at, actor, action, entity, entity_id, before, after, reason)
      VALUES (localtimestamp, session_user, action, 'user_account', (acc).id, CAST(before AS json),
              CAST(public.qjgb_account_json(acc) AS json), COALESCE(reason, '')) $$;

CREATE OR REPLACE FUNCTION public.qjgb_account_add(account text, verifier text, role text, departments json)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    acc public.user_account;
BEGIN
    PERFORM public.qjgb_require_admin();
    PERFORM public.qjgb_check_verifier(verifier);
    PERFORM public.qjgb_check_departments(role, departments);
    IF account IS NULL OR btrim(account) = '' OR length(account) > 63 THEN
        RAISE EXCEPTION '账户名不能为空，且不超过 63 个字符' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM public.user_account WHERE name = account) THEN
        RAISE EXCEPTION '账户“%”已存在（账户不删除；已停用的账户可重新启用）', account USING ERRCODE = '23505';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = account) THEN
        RAISE EXCEPTION '服务器上已有名为“%”的登录角色（属于其他数据库或数据库管理员），请换一个账户名', account
            USING ERRCODE = '23505';
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', account, verifier);
    INSERT INTO public.user_account (name, password_hash, role, departments, disabled, created_at, created_by,
                                     password_changed_at, must_change_password)
    VALUES (account, NULL, role, COALESCE(departments, '[]'::json), false, localtimestamp, session_user,
            localtimestamp, false)
    RETURNING * INTO acc;
    PERFORM public.qjgb_sync_role(account);
    PERFORM public.qjgb_audit_account('account.add', acc, NULL, '');
    RETURN acc.id;
END $$;

CREATE OR REPLACE FUNCTION public.qjgb_account_password(account text, verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    acc public.user_account;
    own boolean := account = session_user;
BEGIN
    IF NOT own THEN
        PERFORM public.qjgb_require_admin();
    END IF;
    PERFORM public.qjgb_check_verifier(verifier);
    acc := public.qjgb_account_row(account);
    PERFORM public.qjgb_sync_role(account);
    EXECUTE format('ALTER ROLE %I PASSWORD %L', account, verifier);
    UPDATE public.user_account SET password_changed_at = localtimestamp, must_change_password = NOT own
     WHERE id = acc.id RETURNING * INTO acc;
    INSERT INTO public.audit_event (at, actor, action, entity, entity_id, before, after, reason)
    VALUES (localtimestamp, session_user, 'account.password', 'user_account', acc.id, NULL,
            json_build_object('name', acc.name), CASE WHEN own THEN '本人修改' ELSE '管理员重设' END);
END $$;

CREATE OR REPLACE FUNCTION public.qjgb_account_update(account text, role text, departments json, reason text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    acc public.user_account;
    before jsonb;
BEGIN
    PERFORM public.qjgb_require_admin();
    PERFORM public.qjgb_check_departments(role, departments);
    acc := public.qjgb_account_row(account);
    IF role <> '管理员' THEN
        PERFORM public.qjgb_keep_last_admin(acc, '改为' || role);
    END IF;
    before := public.qjgb_account_json(acc);
    UPDATE public.user_account SET role = qjgb_account_update.role,
                                   departments = COALESCE(qjgb_account_update.departments, '[]'::json)
     WHERE id = acc.id RETURNING * INTO acc;
    PERFORM public.qjgb_sync_role(account);
    PERFORM public.qjgb_audit_account('account.update', acc, before, reason);
END $$;

CREATE OR REPLACE FUNCTION public.qjgb_account_disable(account text, disable boolean, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    acc public.user_account;
    before jsonb;
BEGIN
    PERFORM public.qjgb_require_admin();
    acc := public.qjgb_account_row(account);
    IF disable THEN
        PERFORM public.qjgb_keep_last_admin(acc, '停用');
    END IF;
    before := public.qjgb_account_json(acc);
    UPDATE public.user_account SET disabled = disable WHERE id = acc.id RETURNING * INTO acc;
    PERFORM public.qjgb_sync_role(account);
    PERFORM public.qjgb_audit_account(CASE WHEN disable THEN 'account.disable' ELSE 'account.enable' END,
                                      acc, before, reason);
END $$;
"""

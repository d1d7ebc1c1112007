"""dbkit on a Supabase-shaped database (tests/fixtures/supabase_*.sql), applied and verified as the
non-superuser ``postgres``: Supabase's own auth objects are checked only for what the modules need
and raise no warning; rollback --all leaves them untouched; re-apply verifies the same.
"""

from __future__ import annotations

import json

import psycopg

from helpers import run_dbkit

SUPABASE_OBJECTS = """
select 'schema auth owner ' || pg_get_userbyid(nspowner) from pg_namespace where nspname = 'auth'
union all select 'table auth.users rls ' || relrowsecurity::text from pg_class where oid = 'auth.users'::regclass
union all select 'index ' || indexrelid::regclass::text from pg_index where indrelid = 'auth.users'::regclass
union all select 'function ' || p.oid::regprocedure::text || ' ' || md5(prosrc) from pg_proc p
 where pronamespace = 'auth'::regnamespace
union all select 'role ' || rolname || ' ' || rolbypassrls::text || rolcanlogin::text || rolinherit::text
  from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
order by 1
"""


def _objects(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [row[0] for row in conn.execute(SUPABASE_OBJECTS).fetchall()]


def _verify(url: str) -> dict[str, dict[str, str]]:
    result = run_dbkit("verify", "--format", "json", url=url)
    assert result.exit_code in (0, 1), result.output
    return {c["id"]: c for c in json.loads(result.stdout)["checks"]}


def _about_supabase(checks: dict[str, dict[str, str]]) -> dict[str, str]:
    """Failed or warned checks that concern Supabase's own objects (schema auth, the API roles)."""
    return {i: c["message"] for i, c in checks.items() if c["status"] in ("fail", "warn")
            and (".auth." in i or "auth." in c["target"] or i.startswith("platform.prerequisite"))}


def _bad(checks: dict[str, dict[str, str]]) -> dict[str, str]:
    return {i: c["message"] for i, c in checks.items() if c["status"] in ("fail", "warn")}


def test_supabase_objects_are_checked_for_what_the_modules_need_and_raise_nothing(supabase_url: str) -> None:
    before = _objects(supabase_url)
    applied = run_dbkit("apply", url=supabase_url)
    assert applied.exit_code == 0, applied.output
    assert _objects(supabase_url) == before  # Supabase's objects untouched
    checks = _verify(supabase_url)
    assert _about_supabase(checks) == {}
    assert [i for i, c in checks.items() if c["kind"] == "drift"] == []
    needed = {i for i, c in checks.items() if c["kind"] == "prerequisite" and c["status"] == "pass"}
    assert {"platform.prerequisite.schema.auth", "platform.prerequisite.table.auth.users",
            "platform.prerequisite.column.auth.users.id", "platform.prerequisite.constraint.auth.users.users_pkey",
            "platform.prerequisite.function.auth.uid()", "platform.prerequisite.role.service_role"} <= needed
    for behaviour in ("platform.auth_uid_reads_jwt_claims", "platform.auth_uid_reads_legacy_claim_sub",
                      "platform.auth_uid_null_without_claims"):
        assert checks[behaviour]["status"] == "pass", checks[behaviour]["message"]
    assert "authenticator" in checks["automations.listen.automation_trigger"]["actual"]


def test_verify_passes_on_supabase(supabase_url: str) -> None:
    """Every module revokes before it grants, so Supabase's default privileges leave nothing extra."""
    assert run_dbkit("apply", url=supabase_url).exit_code == 0
    checks = _verify(supabase_url)
    assert _bad(checks) == {}
    defaults = [c for c in checks.values() if c["kind"] == "default_privileges"]
    assert defaults and all("granted" in c["actual"] and "anon" in c["actual"] for c in defaults)


def test_on_supabase_a_grant_the_sql_does_not_make_fails_with_its_revoke(supabase_url: str) -> None:
    assert run_dbkit("apply", url=supabase_url).exit_code == 0
    with psycopg.connect(supabase_url, autocommit=True) as conn:
        conn.execute("grant truncate on public.leads to anon")
        conn.execute("create table public.app_own (id int)")  # gets ALL through the defaults; not dbkit's
    assert _bad(_verify(supabase_url)) == {"automations.privileges.public.leads": (
        "anon may TRUNCATE on table public.leads, which the SQL does not grant: given by "
        "`GRANT TRUNCATE ON TABLE public.leads TO anon`, removed by `REVOKE TRUNCATE ON TABLE public.leads FROM anon`")}


def test_rollback_all_keeps_supabase_objects_and_reapply_verifies_the_same(supabase_url: str) -> None:
    before = _objects(supabase_url)
    assert run_dbkit("apply", url=supabase_url).exit_code == 0
    first = _bad(_verify(supabase_url))
    rolled = run_dbkit("rollback", "--all", "--force", url=supabase_url)
    assert rolled.exit_code == 0, rolled.output
    assert _objects(supabase_url) == before
    assert run_dbkit("apply", url=supabase_url).exit_code == 0
    again = _verify(supabase_url)
    assert _about_supabase(again) == {}
    assert _bad(again) == first == {}

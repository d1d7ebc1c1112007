"""The platform module: a Supabase-compatible auth shim that never clobbers a real one."""

from __future__ import annotations

import json

import psycopg
import pytest

from dbkit.ephemeral import Server
from dbkit.identity import Identity, act_as
from helpers import run_dbkit
from supabase_privileges import effective_privileges, prepared_templates  # noqa: F401

SUPABASE_LIKE = """
create schema auth;
create table auth.users (id uuid primary key, email text, raw_app_meta_data jsonb);
create function auth.uid() returns uuid language sql stable
    as $$ select '11111111-1111-1111-1111-111111111111'::uuid $$;
create function auth.role() returns text language sql stable as $$ select 'supabase'::text $$;
insert into auth.users (id, email) values ('11111111-1111-1111-1111-111111111111', 'real@example.com');
do $$ begin
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
end $$;
grant select on auth.users to service_role;
"""


def test_existing_auth_schema_survives_apply_and_rollback(empty_url: str) -> None:
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute(SUPABASE_LIKE)

    assert run_dbkit("apply", "--module", "platform", url=empty_url).exit_code == 0
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select auth.uid()::text, auth.role()").fetchone() == (
            "11111111-1111-1111-1111-111111111111", "supabase")
        # auth.jwt() did not exist, so the shim added it
        assert conn.execute("select to_regprocedure('auth.jwt()') is not null").fetchone() == (True,)
        # Supabase's auth.users keeps its own grants (0002 revokes only on the shim's table)
        assert conn.execute("select has_table_privilege('service_role', 'auth.users', 'SELECT')").fetchone() == (True,)

    rolled = run_dbkit("rollback", "--module", "platform", "--all", url=empty_url)
    assert rolled.exit_code == 0, rolled.output
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select auth.uid()::text, auth.role()").fetchone() == (
            "11111111-1111-1111-1111-111111111111", "supabase")
        assert conn.execute("select count(*) from auth.users").fetchone() == (1,)
        assert conn.execute("select to_regprocedure('auth.jwt()')").fetchone() == (None,)


def test_auth_uid_reads_request_jwt_claims_then_claim_sub(migrated_url: str) -> None:
    # Raw set_config on purpose: this tests the shim's reading of each claims form alone, which
    # act_as (it sets both forms at once) cannot isolate.
    with psycopg.connect(migrated_url) as conn:
        conn.execute("""select set_config('request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true)""")
        assert conn.execute("select auth.uid()::text, auth.role()").fetchone() == (
            "22222222-2222-2222-2222-222222222222", "authenticated")
        conn.rollback()
        conn.execute("select set_config('request.jwt.claim.sub', '33333333-3333-3333-3333-333333333333', true)")
        assert conn.execute("select auth.uid()::text").fetchone() == ("33333333-3333-3333-3333-333333333333",)
        conn.rollback()
        assert conn.execute("select auth.uid()").fetchone() == (None,)


def test_roles_have_the_attributes_the_policies_assume(migrated_url: str) -> None:
    # NOLOGIN (reached only through SET ROLE), NOINHERIT, and BYPASSRLS for service_role only:
    # the service-role-only tables have RLS on and no policy.
    with psycopg.connect(migrated_url) as conn:
        rows = conn.execute(
            "select rolname, rolcanlogin, rolinherit, rolbypassrls, rolsuper from pg_roles "
            "where rolname in ('anon', 'authenticated', 'service_role') order by 1"
        ).fetchall()
    assert rows == [("anon", False, False, False, False), ("authenticated", False, False, False, False),
                    ("service_role", False, False, True, False)]


def test_auth_uid_is_the_subject_for_each_claims_setting_as_the_api_roles(migrated_url: str) -> None:
    subject = "44444444-4444-4444-4444-444444444444"
    with psycopg.connect(migrated_url) as conn:
        for role in ("anon", "authenticated", "service_role"):
            for setting, value in (("request.jwt.claims", json.dumps({"sub": subject, "role": role})),
                                   ("request.jwt.claim.sub", subject)):
                # Raw SET LOCAL ROLE and one claims form at a time on purpose: the test is about
                # the shim reading each form under each role; act_as sets both forms together.
                with conn.transaction(force_rollback=True):
                    conn.execute(f"set local role {role}")
                    conn.execute("select set_config(%s, %s, true)", (setting, value))
                    assert conn.execute("select auth.uid()::text").fetchone() == (subject,), (role, setting)


def test_shared_trigger_functions_fire_but_no_api_role_may_execute_them(migrated_url: str) -> None:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        allowed = conn.execute(
            "select p, r from unnest(array['public.update_updated_at_column()', 'public.update_last_updated_column()']) p "
            "cross join unnest(array['anon', 'authenticated', 'service_role']) r "
            "where has_function_privilege(r, p::regprocedure, 'EXECUTE')").fetchall()
        assert allowed == []
        # Fired by a write of service_role, which holds no EXECUTE on the function.
        conn.execute("insert into alm_reporting.daily_summary (summary_date, last_updated) values ('1900-01-01', '2000-01-01')")
        with conn.transaction(force_rollback=True):
            act_as(conn.cursor(), Identity("service_role"))
            row = conn.execute("update alm_reporting.daily_summary set closing_nav = 1 where summary_date = '1900-01-01' "
                               "returning last_updated > '2000-01-02'").fetchone()
        assert row == (True,)


def test_quiet_hours_helper_is_for_signed_in_users_and_the_executor(migrated_url: str) -> None:
    call = "select public.is_within_quiet_hours('2026-03-01 23:30+00', '22:00', '07:00', 'UTC')"
    with psycopg.connect(migrated_url) as conn:
        for role, ok in (("anon", False), ("authenticated", True), ("service_role", True)):
            with conn.transaction(force_rollback=True):
                act_as(conn.cursor(), Identity(role))
                if ok:
                    assert conn.execute(call).fetchone() == (True,)
                else:
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        conn.execute(call)


@pytest.mark.parametrize(
    ("at", "start", "end", "zone", "quiet"),
    [
        ("2026-03-01 23:30+00", "22:00", "07:00", "UTC", True),
        ("2026-03-01 06:59+00", "22:00", "07:00", "UTC", True),
        ("2026-03-01 07:00+00", "22:00", "07:00", "UTC", False),
        ("2026-03-01 12:00+00", "22:00", "07:00", "UTC", False),
        ("2026-03-01 13:00+00", "12:00", "14:00", "UTC", True),
        ("2026-03-01 14:00+00", "12:00", "14:00", "UTC", False),
        # 21:30 UTC is 22:30 in Paris (UTC+1 in March before DST): inside 22:00-07:00 local
        ("2026-03-01 21:30+00", "22:00", "07:00", "Europe/Paris", True),
        ("2026-03-01 12:00+00", "08:00", "08:00", "UTC", False),
    ],
)
def test_quiet_hours_window_including_across_midnight(
    migrated_url: str, at: str, start: str, end: str, zone: str, quiet: bool
) -> None:
    with psycopg.connect(migrated_url) as conn:
        row = conn.execute("select public.is_within_quiet_hours(%s::timestamptz, %s::time, %s::time, %s)",
                           (at, start, end, zone)).fetchone()
    assert row == (quiet,)


def test_quiet_hours_without_window_is_never_quiet(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        assert conn.execute("select public.is_within_quiet_hours(now(), null, '07:00')").fetchone() == (False,)


@pytest.mark.parametrize("preparation", ["supabase", "database_wide"])
def test_shim_auth_users_stays_out_of_api_reach_whatever_the_default_privileges(
        server: Server, prepared_templates: dict[str, str], preparation: str) -> None:
    privileges = effective_privileges(server.url(prepared_templates[preparation]))
    auth = {k: v for k, v in privileges.items() if k.startswith(("relation auth.users ", "column auth.users."))}
    assert len(auth) == 12
    assert {k: v for k, v in auth.items() if v != "-"} == {}

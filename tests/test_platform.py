"""The platform module: a Supabase-compatible auth shim that never clobbers a real one."""

from __future__ import annotations

import psycopg
import pytest

from helpers import run_dbkit

SUPABASE_LIKE = """
create schema auth;
create table auth.users (id uuid primary key, email text, raw_app_meta_data jsonb);
create function auth.uid() returns uuid language sql stable
    as $$ select '11111111-1111-1111-1111-111111111111'::uuid $$;
create function auth.role() returns text language sql stable as $$ select 'supabase'::text $$;
insert into auth.users (id, email) values ('11111111-1111-1111-1111-111111111111', 'real@example.com');
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

    rolled = run_dbkit("rollback", "--module", "platform", "--all", url=empty_url)
    assert rolled.exit_code == 0, rolled.output
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select auth.uid()::text, auth.role()").fetchone() == (
            "11111111-1111-1111-1111-111111111111", "supabase")
        assert conn.execute("select count(*) from auth.users").fetchone() == (1,)
        assert conn.execute("select to_regprocedure('auth.jwt()')").fetchone() == (None,)


def test_auth_uid_reads_request_jwt_claims_then_claim_sub(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        conn.execute("""select set_config('request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true)""")
        assert conn.execute("select auth.uid()::text, auth.role()").fetchone() == (
            "22222222-2222-2222-2222-222222222222", "authenticated")
        conn.rollback()
        conn.execute("select set_config('request.jwt.claim.sub', '33333333-3333-3333-3333-333333333333', true)")
        assert conn.execute("select auth.uid()::text").fetchone() == ("33333333-3333-3333-3333-333333333333",)
        conn.rollback()
        assert conn.execute("select auth.uid()").fetchone() == (None,)


def test_roles_exist_and_service_role_bypasses_rls(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        rows = conn.execute(
            "select rolname, rolcanlogin, rolbypassrls from pg_roles "
            "where rolname in ('anon', 'authenticated', 'service_role') order by 1"
        ).fetchall()
    assert rows == [("anon", False, False), ("authenticated", False, False), ("service_role", False, True)]


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

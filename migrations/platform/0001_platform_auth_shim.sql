-- Platform: a Supabase-compatible auth shim and the shared trigger functions.
-- Source: design.md §2 (module `platform`); every seed document's RLS relies on
-- auth.uid() and the roles anon / authenticated / service_role.
--
-- Everything in the auth shim is created only where absent, so on a real Supabase
-- database the existing auth schema, auth.users, auth.uid()/role()/jwt() and the
-- roles are left untouched. What this migration creates carries the comment marker
-- 'dbkit:platform-shim'; the rollback drops only objects that carry it.
-- Roles are cluster-wide and may be used by other databases: they are created where
-- absent and never dropped (docs/decisions.md, "platform roles").

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
        comment on role anon is 'dbkit:platform-shim';
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
        comment on role authenticated is 'dbkit:platform-shim';
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
        comment on role service_role is 'dbkit:platform-shim';
    end if;
end
$$;

do $$
begin
    if to_regnamespace('auth') is null then
        create schema auth;
        comment on schema auth is 'dbkit:platform-shim';
        grant usage on schema auth to anon, authenticated, service_role;
    end if;
end
$$;

do $$
begin
    if to_regclass('auth.users') is null then
        create table auth.users (
            id uuid primary key,
            email text unique,
            created_at timestamptz not null default now()
        );
        comment on table auth.users is 'dbkit:platform-shim';
    end if;
end
$$;

-- auth.uid(): the caller's user id from the JWT claims PostgREST puts in the session.
do $$
begin
    if to_regprocedure('auth.uid()') is null then
        create function auth.uid() returns uuid
            language sql stable
            as $fn$
                select coalesce(
                    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub',
                    nullif(current_setting('request.jwt.claim.sub', true), '')
                )::uuid
            $fn$;
        comment on function auth.uid() is 'dbkit:platform-shim';
        grant execute on function auth.uid() to anon, authenticated, service_role;
    end if;
end
$$;

do $$
begin
    if to_regprocedure('auth.role()') is null then
        create function auth.role() returns text
            language sql stable
            as $fn$
                select coalesce(
                    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role',
                    nullif(current_setting('request.jwt.claim.role', true), '')
                )::text
            $fn$;
        comment on function auth.role() is 'dbkit:platform-shim';
        grant execute on function auth.role() to anon, authenticated, service_role;
    end if;
end
$$;

do $$
begin
    if to_regprocedure('auth.jwt()') is null then
        create function auth.jwt() returns jsonb
            language sql stable
            as $fn$
                select coalesce(
                    nullif(current_setting('request.jwt.claims', true), ''),
                    nullif(current_setting('request.jwt.claim', true), '')
                )::jsonb
            $fn$;
        comment on function auth.jwt() is 'dbkit:platform-shim';
        grant execute on function auth.jwt() to anon, authenticated, service_role;
    end if;
end
$$;

-- Shared helpers used by every module's tables and notification logic.
-- include: sql/functions/public.update_updated_at_column.sql
-- include: sql/functions/public.update_last_updated_column.sql
-- include: sql/functions/public.is_within_quiet_hours.sql

-- 0002_platform_auth_users_privileges: the shim's auth.users is out of every API role's reach,
-- whatever default privileges the database has.
-- Source: design §2 (platform: auth shim); issue 13 ("revoke before grant").
-- 0001 created auth.users without grants, which on plain PostgreSQL means the owner only; but
-- under database-wide default privileges (`alter default privileges grant all on tables to
-- anon, authenticated, service_role`, without IN SCHEMA) anon could read and rewrite every
-- user's email. Now: REVOKE ALL from PUBLIC and the three API roles, nothing granted. The
-- modules only reference auth.users(id) from tables the migration role owns, which needs no
-- privilege of the API roles.
-- Only the shim's own table is touched (comment 'dbkit:platform-shim'); Supabase's auth.users
-- and its grants are Supabase's.
-- Depends on: 0001_platform_auth_shim (previous migration of this module).

do $$
begin
    if to_regclass('auth.users') is not null
       and obj_description(to_regclass('auth.users'), 'pg_class') = 'dbkit:platform-shim' then
        revoke all on table auth.users from public, anon, authenticated, service_role;
    end if;
end
$$;

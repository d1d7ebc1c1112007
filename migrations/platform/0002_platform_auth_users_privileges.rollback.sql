-- Rollback of 0002_platform_auth_users_privileges: the shim's auth.users as 0001 left it, which
-- is no privilege for PUBLIC or the API roles; so this states the same revoke. Privileges that
-- only default privileges had added are not given back: a rollback does not re-open a hole
-- (docs/decisions.md, "Revoke before grant"). Supabase's auth.users is never touched.

do $$
begin
    if to_regclass('auth.users') is not null
       and obj_description(to_regclass('auth.users'), 'pg_class') = 'dbkit:platform-shim' then
        revoke all on table auth.users from public, anon, authenticated, service_role;
    end if;
end
$$;

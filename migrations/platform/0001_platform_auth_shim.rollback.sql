-- Rollback of 0001_platform_auth_shim: drop the shared helpers, then only those auth
-- shim objects this migration created (they carry the comment 'dbkit:platform-shim');
-- a Supabase database's own auth schema and functions are never touched.
-- Roles are left in place: they are cluster-wide (docs/decisions.md, "platform roles").

drop function public.is_within_quiet_hours(timestamptz, time, time, text);
drop function public.update_last_updated_column();
drop function public.update_updated_at_column();

do $$
declare
    fn text;
begin
    foreach fn in array array['auth.jwt()', 'auth.role()', 'auth.uid()'] loop
        if to_regprocedure(fn) is not null
           and obj_description(to_regprocedure(fn), 'pg_proc') = 'dbkit:platform-shim' then
            execute format('drop function %s', fn);
        end if;
    end loop;
    if to_regclass('auth.users') is not null
       and obj_description(to_regclass('auth.users'), 'pg_class') = 'dbkit:platform-shim' then
        drop table auth.users;
    end if;
    if to_regnamespace('auth') is not null
       and obj_description(to_regnamespace('auth'), 'pg_namespace') = 'dbkit:platform-shim' then
        drop schema auth;
    end if;
end
$$;

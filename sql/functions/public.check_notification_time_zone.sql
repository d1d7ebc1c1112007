-- public.check_notification_time_zone(): trigger function that rejects a
-- notification_preferences row whose time_zone PostgreSQL does not recognise (SQLSTATE
-- 22023), so the quiet-hours check can never fail at send time.
-- Source: seed 000 "notification_preferences" (quiet_hours); decision in
-- docs/decisions.md. Depends on: nothing.
-- Included by 0005_wealth_notifications. EXECUTE revoked from PUBLIC and the API roles: a trigger
-- function fires without it and is never called directly.
create or replace function public.check_notification_time_zone()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    -- timezone() raises 22023 "time zone ... not recognized" for an unknown name.
    perform pg_catalog.timezone(new.time_zone, pg_catalog.now());
    return new;
end;
$$;
comment on function public.check_notification_time_zone() is
'BEFORE INSERT/UPDATE trigger on notification_preferences: rejects an unknown time_zone (22023).';
revoke all on function public.check_notification_time_zone() from public, anon, authenticated, service_role;

-- public.is_within_quiet_hours(at, start, end, time_zone): is `at` inside the quiet window?
-- Source: seed 003 (notification_settings.quiet_hours_start/end, should_send_notification)
-- and seed 001 (notification preferences with quiet hours). One definition shared by the
-- wealth_automation and strategy_execution modules.
-- Semantics: the wall-clock time of `at` in `time_zone` is compared with [start, end);
-- a window whose start is after its end crosses midnight (22:00-07:00 covers 23:30 and
-- 06:59, not 07:00). No window (either bound null, or start = end) means never quiet.
-- EXECUTE: authenticated (public.should_send_notification is SECURITY INVOKER and callable by
-- signed-in users) and service_role; revoked from PUBLIC and anon first, so Supabase's default
-- privileges add nothing.
create or replace function public.is_within_quiet_hours(
    p_at timestamptz,
    p_start time,
    p_end time,
    p_time_zone text default 'UTC'
)
returns boolean
language sql
stable
set search_path = ''
as $$
    select case
        when p_start is null or p_end is null or p_start = p_end then false
        when p_start < p_end then
            (p_at at time zone coalesce(p_time_zone, 'UTC'))::time >= p_start
            and (p_at at time zone coalesce(p_time_zone, 'UTC'))::time < p_end
        else
            (p_at at time zone coalesce(p_time_zone, 'UTC'))::time >= p_start
            or (p_at at time zone coalesce(p_time_zone, 'UTC'))::time < p_end
    end
$$;

comment on function public.is_within_quiet_hours(timestamptz, time, time, text) is
'True when the wall-clock time of p_at in p_time_zone lies in [p_start, p_end); windows may cross midnight.';
revoke all on function public.is_within_quiet_hours(timestamptz, time, time, text)
from public, anon, authenticated, service_role;
grant execute on function public.is_within_quiet_hours(timestamptz, time, time, text) to authenticated, service_role;

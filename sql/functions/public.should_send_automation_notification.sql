-- public.should_send_automation_notification(uuid, text, text, timestamptz): may the
-- automation module notify p_user_id about p_event on p_channel at p_at?
-- Source: seed 000 "notification_preferences" (event, channels, quiet_hours, enabled); seed
-- 001 "Test notification delivery / Test notification preferences". The quiet-hours test is
-- the platform's public.is_within_quiet_hours(), shared with the strategy module's
-- public.should_send_notification(), so the two cannot disagree about midnight.
-- Rules: no preference row -> true (defaults: every channel, no quiet hours); disabled ->
-- false; channel not chosen -> false; inside quiet hours -> false for Email, SMS and Push,
-- while In-App (silent, read later) is still delivered.
-- Depends on: public.notification_preferences, public.is_within_quiet_hours (platform).
-- Included by 0005_wealth_notifications.
create or replace function public.should_send_automation_notification(
    p_user_id uuid,
    p_event text,
    p_channel text,
    p_at timestamp with time zone default now()
)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
declare
    v_pref record;
begin
    if p_channel is null or p_channel not in ('Email', 'SMS', 'Push', 'In-App') then
        raise exception 'unknown notification channel %', p_channel using errcode = '22023';
    end if;
    select np.enabled, np.channels, np.quiet_hours_start, np.quiet_hours_end, np.time_zone
    into v_pref
    from public.notification_preferences as np
    where np.user_id = p_user_id and np.event = p_event;
    if not found then
        return true;
    end if;
    if not v_pref.enabled or not (p_channel = any(v_pref.channels)) then
        return false;
    end if;
    if p_channel <> 'In-App' and public.is_within_quiet_hours(
        p_at, v_pref.quiet_hours_start, v_pref.quiet_hours_end, v_pref.time_zone
    ) then
        return false;
    end if;
    return true;
end;
$$;
comment on function public.should_send_automation_notification(uuid, text, text, timestamp with time zone) is
'Preference check for automation notifications: enabled, channel chosen, and (except In-App) outside quiet hours via public.is_within_quiet_hours().';
revoke all on function public.should_send_automation_notification(uuid, text, text, timestamp with time zone)
from public, anon, authenticated, service_role;
grant execute on function public.should_send_automation_notification(uuid, text, text, timestamp with time zone)
to service_role;

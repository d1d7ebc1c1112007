-- public.should_send_notification(p_user_id, p_notification_type, p_at): whether a
-- notification of that type may be sent to that user at p_at (default now()).
--   * no notification_settings row for (user, type): true (the table's defaults: enabled,
--     no quiet hours; users opt out, they do not opt in);
--   * enabled = false: false;
--   * quiet_hours_enabled and p_at inside [quiet_hours_start, quiet_hours_end) in UTC: false
--     (public.is_within_quiet_hours, which handles windows crossing midnight such as
--     22:00-07:00 and treats a missing bound or start = end as "no quiet hours");
--   * otherwise true.
-- An unknown notification type raises invalid_parameter_value (22023) instead of silently
-- answering true.
-- Source: seed 003 §1.3 "Helper Functions".
-- SECURITY INVOKER (the seed's helper needs no elevated rights): as authenticated, RLS limits
-- it to the caller's own settings; the executor calls it as service_role.
-- Included by: migrations/strategy_execution/0005_strategy_notification_settings.sql

create or replace function public.should_send_notification(
    p_user_id uuid,
    p_notification_type text,
    p_at timestamptz default now()
)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
declare
    v_setting public.notification_settings;
begin
    if p_notification_type is null or p_notification_type not in (
        'strategy_started', 'strategy_paused', 'strategy_stopped', 'strategy_error',
        'watchlist_updated', 'execution_completed', 'execution_failed'
    ) then
        raise exception 'unknown notification type: %', p_notification_type
            using errcode = 'invalid_parameter_value';
    end if;

    select ns.* into v_setting
    from public.notification_settings as ns
    where ns.user_id = p_user_id
        and ns.notification_type = p_notification_type;

    if not found then
        return true;
    end if;
    if not v_setting.enabled then
        return false;
    end if;
    if v_setting.quiet_hours_enabled
        and public.is_within_quiet_hours(p_at, v_setting.quiet_hours_start, v_setting.quiet_hours_end, 'UTC') then
        return false;
    end if;
    return true;
end;
$$;
comment on function public.should_send_notification(uuid, text, timestamptz) is
    'True unless the user disabled this notification type or p_at falls in their quiet hours (UTC). No settings row = send.';
revoke all on function public.should_send_notification(uuid, text, timestamptz)
    from public, anon, authenticated, service_role;
grant execute on function public.should_send_notification(uuid, text, timestamptz) to authenticated, service_role;

-- Rollback of 0009_wealth_quiet_hours_backfill: returns the CHECK to the NOT VALID state 0008
-- left it in (dropped and added again NOT VALID in one statement). The filled-in quiet_hours
-- values stay: they equal quiet_hours_start / quiet_hours_end, and 0008's rollback drops the
-- column.

do $$
begin
    alter table public.notification_preferences drop constraint notification_preferences_quiet_hours_sync_check;
    alter table public.notification_preferences add constraint notification_preferences_quiet_hours_sync_check check (
        (quiet_hours is null) = (quiet_hours_start is null or quiet_hours_end is null)
        and (
            quiet_hours is null
            or ((quiet_hours ->> 'start')::time = quiet_hours_start and (quiet_hours ->> 'end')::time = quiet_hours_end)
        )
    ) not valid;
    comment on constraint notification_preferences_quiet_hours_sync_check on public.notification_preferences is
    'quiet_hours and quiet_hours_start/quiet_hours_end describe the same window (or none).';
end
$$;

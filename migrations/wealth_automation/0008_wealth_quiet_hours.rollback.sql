-- Rollback of 0008_wealth_quiet_hours: drops the trigger, its function, the CHECK and the
-- quiet_hours column, in reverse order. No data is lost: every quiet_hours value is also in
-- quiet_hours_start / quiet_hours_end, which stay. No CASCADE.
drop trigger sync_notification_preferences_quiet_hours on public.notification_preferences;
drop function public.sync_notification_quiet_hours();
alter table public.notification_preferences drop constraint notification_preferences_quiet_hours_sync_check;
alter table public.notification_preferences drop column quiet_hours;

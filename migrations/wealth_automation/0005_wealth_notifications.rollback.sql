-- Rollback of 0005_wealth_notifications: drops, in reverse order, the policies, the
-- in_app_notifications and notification_logs tables, the preference check function, the
-- notification_preferences table with its triggers, and the time-zone trigger function.
-- Column and table grants go with the tables. No CASCADE.
drop policy if exists in_app_notifications_delete_own on public.in_app_notifications;
drop policy if exists in_app_notifications_update_own on public.in_app_notifications;
drop policy if exists in_app_notifications_select_own on public.in_app_notifications;
drop policy if exists notification_preferences_delete_own on public.notification_preferences;
drop policy if exists notification_preferences_update_own on public.notification_preferences;
drop policy if exists notification_preferences_insert_own on public.notification_preferences;
drop policy if exists notification_preferences_select_own on public.notification_preferences;

drop trigger update_in_app_notifications_updated_at on public.in_app_notifications;
drop table public.in_app_notifications;

drop trigger update_notification_logs_updated_at on public.notification_logs;
drop table public.notification_logs;

drop function public.should_send_automation_notification(uuid, text, text, timestamp with time zone);

drop trigger update_notification_preferences_updated_at on public.notification_preferences;
drop trigger check_notification_preferences_time_zone on public.notification_preferences;
drop table public.notification_preferences;

drop function public.check_notification_time_zone();

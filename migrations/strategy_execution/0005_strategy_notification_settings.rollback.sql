-- Rollback of 0005_strategy_notification_settings: drops should_send_notification and the
-- table with its policies, trigger, indexes and grants. dbkit refuses while it holds rows
-- unless --force.
-- Source: seed 003 §1.3 ("Rollback SQL included in comments").

drop policy notification_settings_delete_own on public.notification_settings;
drop policy notification_settings_update_own on public.notification_settings;
drop policy notification_settings_insert_own on public.notification_settings;
drop policy notification_settings_select_own on public.notification_settings;
drop function public.should_send_notification(uuid, text, timestamptz);
drop trigger notification_settings_updated on public.notification_settings;
drop index public.idx_notification_settings_type_enabled;
drop index public.idx_notification_settings_user;
revoke all on table public.notification_settings from authenticated, service_role;
drop table public.notification_settings;

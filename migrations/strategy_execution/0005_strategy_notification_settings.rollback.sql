-- Rollback of 0005_strategy_notification_settings: drops should_send_notification and the
-- table with its policies, trigger, indexes and grants. dbkit refuses while it holds rows
-- unless --force.
-- Source: seed 003 §1.3 ("Rollback SQL included in comments").
-- The policy names are the document's, which the included policy file creates since
-- 0010_strategy_document_contracts (docs/decisions.md, "Rollbacks follow their repeatable files").

drop policy "Users can delete own notification settings" on public.notification_settings;
drop policy "Users can update own notification settings" on public.notification_settings;
drop policy "Users can insert own notification settings" on public.notification_settings;
drop policy "Users can view own notification settings" on public.notification_settings;
drop function public.should_send_notification(uuid, text, timestamptz);
drop trigger notification_settings_updated on public.notification_settings;
drop index public.idx_notification_settings_type_enabled;
drop index public.idx_notification_settings_user;
revoke all on table public.notification_settings from authenticated, service_role;
drop table public.notification_settings;

-- public.notification_logs: RLS switch-on, no policies (seed 000; decision: delivery logs
-- hold recipients and provider ids, so only service_role - which bypasses RLS - reads or
-- writes them; anon and authenticated have no table privilege either).
-- Included by: migrations/wealth_automation/0005_wealth_notifications.sql
-- dbkit-allow DBK003 delivery logs hold recipients and provider ids; service_role (BYPASSRLS) only, by design
alter table public.notification_logs enable row level security;

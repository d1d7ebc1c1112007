-- public.automation_execution_logs: RLS switch-on, no policies (seed 000/001; decision: the
-- scheduler's audit log is service_role only - it bypasses RLS - and anon/authenticated have
-- no table privilege; clients learn outcomes through in-app notifications).
-- Included by: migrations/wealth_automation/0006_wealth_automation_execution_logs.sql
-- dbkit-allow DBK003 scheduler audit log; service_role (BYPASSRLS) only, by design
alter table public.automation_execution_logs enable row level security;

-- Rollback of 0006_wealth_automation_execution_logs: drops the trigger and the table (with its
-- indexes and constraints). The policy file creates no policies. No CASCADE.
drop trigger update_automation_execution_logs_updated_at on public.automation_execution_logs;
drop table public.automation_execution_logs;

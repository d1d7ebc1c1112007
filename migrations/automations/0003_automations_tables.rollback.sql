-- Rollback of 0003_automations_tables: drops automation_executions and automations with
-- their policies, indexes, trigger and grants, newest first.
-- Source: seed 004 "Tables" and "RLS Policies".

drop policy "Users can delete executions for their automations" on public.automation_executions;

drop policy "Users can view executions for their automations" on public.automation_executions;

revoke select, insert, update, delete on public.automation_executions from service_role;

revoke select, delete on public.automation_executions from authenticated;

drop index public.idx_executions_cleanup;

drop index public.idx_executions_conversation;

drop index public.idx_executions_lead;

drop index public.idx_executions_started;

drop index public.idx_executions_status;

drop index public.idx_executions_automation;

drop table public.automation_executions;

drop policy "Users can delete automations in their account" on public.automations;

drop policy "Users can update automations in their account" on public.automations;

drop policy "Users can create automations in their account" on public.automations;

drop policy "Users can view automations in their account" on public.automations;

revoke select, insert, update, delete on public.automations from service_role;

revoke select, insert, update, delete on public.automations from authenticated;

drop trigger update_automations_updated_at on public.automations;

drop index public.idx_automations_event_match;

drop index public.idx_automations_trigger;

drop index public.idx_automations_status;

drop index public.idx_automations_user;

drop index public.idx_automations_agent;

drop table public.automations;

-- public.update_automation_stats(): AFTER UPDATE trigger on public.automation_executions
-- that records a finished run on its automation.
-- Source: seed 004 "Execution Stats Update". The document's semantics, kept as written
-- (docs/conformance.md, "Document 004"): a run that goes from 'running' to 'completed' or
-- 'failed' adds 1 to automations.execution_count and sets last_executed_at to the run's
-- completed_at and last_execution_status to its status. Nothing else changes the stats: a
-- 'running' -> 'cancelled' run, a pending run that is cancelled, or a finished run edited
-- again leave them untouched, so execution_count and last_execution_status mean what the
-- document's readers expect.
-- Changes from the document: SECURITY DEFINER with search_path '' instead of public and
--   qualified names (the stats columns are not writable by API users, so the trigger needs
--   its owner's rights to write them); EXECUTE revoked from everyone, service_role included:
--   only the trigger calls it.
-- Depends on: public.automations, public.automation_executions.
-- Included by: migrations/automations/0005_automations_stats_and_cleanup.sql

create or replace function public.update_automation_stats()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if new.status in ('completed', 'failed') and old.status = 'running' then
        update public.automations
        set execution_count = execution_count + 1,
            last_executed_at = new.completed_at,
            last_execution_status = new.status
        where id = new.automation_id;
    end if;
    return new;
end;
$$;

comment on function public.update_automation_stats() is
'Trigger on automation_executions: running -> completed/failed adds one run to the automation''s stats (seed 004).';

revoke all on function public.update_automation_stats() from public, anon, authenticated, service_role;

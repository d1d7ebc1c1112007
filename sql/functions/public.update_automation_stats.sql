-- public.update_automation_stats(): AFTER UPDATE trigger on public.automation_executions
-- that records a finished run on its automation.
-- Source: seed 004 "Execution Stats Update".
-- A run that leaves 'running' for 'completed', 'failed' or 'cancelled' adds 1 to
-- automations.execution_count and sets last_executed_at (completed_at, or now() when the
-- writer left it null) and last_execution_status. 'cancelled' counts because the run did
-- start; a pending run that is cancelled never ran and changes nothing
-- (docs/decisions.md).
-- Changes from the document: 'cancelled' handled, last_executed_at never set to null,
--   SECURITY DEFINER with search_path '' instead of public; execute revoked from everyone.
-- Depends on: public.automations, public.automation_executions.
-- Included by: migrations/automations/0005_automations_stats_and_cleanup.sql

create or replace function public.update_automation_stats()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if old.status = 'running' and new.status in ('completed', 'failed', 'cancelled') then
        update public.automations
        set execution_count = execution_count + 1,
            last_executed_at = coalesce(new.completed_at, pg_catalog.now()),
            last_execution_status = new.status
        where id = new.automation_id;
    end if;
    return null;
end;
$$;

comment on function public.update_automation_stats() is
'Trigger on automation_executions: running -> completed/failed/cancelled adds one run to the automation''s stats.';

revoke execute on function public.update_automation_stats() from public, anon, authenticated;

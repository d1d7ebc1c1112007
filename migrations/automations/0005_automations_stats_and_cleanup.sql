-- Execution stats trigger and the cleanup function for old executions.
-- Source: seed 004 "Execution Stats Update" and "Cleanup Job".
-- Added to the document: idx_executions_cleanup (status, completed_at), the index the
-- batched cleanup walks; scheduling is 0006_automations_cleanup_schedule.
-- depends: 0001_platform_auth_shim

-- include: sql/functions/public.update_automation_stats.sql

create trigger trigger_update_automation_stats
after update on public.automation_executions
for each row
execute function public.update_automation_stats();

create index idx_executions_cleanup on public.automation_executions (status, completed_at)
where status in ('completed', 'cancelled', 'failed');

comment on index public.idx_executions_cleanup is
'Serves cleanup_old_executions(): finished executions by status and completion time.';

-- include: sql/functions/public.cleanup_old_executions.sql

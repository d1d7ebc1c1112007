-- Execution stats trigger and the cleanup function for old executions.
-- Source: seed 004 "Execution Stats Update" and "Cleanup Job".
-- The cleanup walks idx_executions_cleanup (0003); scheduling is 0006_automations_cleanup_schedule.
-- depends: 0001_platform_auth_shim

-- include: sql/functions/public.update_automation_stats.sql

create trigger trigger_update_automation_stats
after update on public.automation_executions
for each row
execute function public.update_automation_stats();

-- include: sql/functions/public.cleanup_old_executions.sql

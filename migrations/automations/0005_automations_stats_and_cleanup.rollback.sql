-- Rollback of 0005_automations_stats_and_cleanup: cleanup function, the stats trigger and
-- its function.
-- Source: seed 004 "Execution Stats Update" and "Cleanup Job".

drop function public.cleanup_old_executions(integer, integer);

drop trigger trigger_update_automation_stats on public.automation_executions;

drop function public.update_automation_stats();

-- 0012_automations_cleanup_schedule_batches: pg_cron's job 'cleanup-executions' CALLs the
-- procedure that commits after every batch, where pg_cron is installed in this database.
-- Source: seed 004 "Cleanup Job" ("Schedule: SELECT cron.schedule('cleanup-executions',
--   '0 3 * * *', 'SELECT public.cleanup_old_executions()')"); issue 19.
-- The document's job name and schedule are kept; its command, one function call, runs the
-- whole cleanup in one transaction, so every deleted row stays locked until the end and a
-- backlog is one long transaction. `CALL public.cleanup_old_executions_in_batches()` deletes
-- the same rows in batches of 10,000, each committed (pg_cron runs CALL like any command).
-- `SELECT public.cleanup_old_executions()` still works for whoever runs it by hand.
-- Where pg_cron is absent this changes nothing and says so (NOTICE), like 0006; a DBA who
-- installs pg_cron later rolls back to 0005_automations_stats_and_cleanup and applies again.
-- depends: 0001_platform_auth_shim

do $$
begin
    if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
        perform cron.schedule(
            'cleanup-executions',
            '0 3 * * *',
            'CALL public.cleanup_old_executions_in_batches()'
        );
        raise notice 'automations: cleanup-executions (0 3 * * *) now CALLs public.cleanup_old_executions_in_batches()';
    else
        raise notice 'automations: pg_cron is not installed in this database; nothing scheduled '
            '(schedule CALL public.cleanup_old_executions_in_batches() daily yourself)';
    end if;
end;
$$;

-- Schedule public.cleanup_old_executions() daily at 03:00 with pg_cron, when pg_cron is
-- installed in this database; otherwise say so (NOTICE) and schedule nothing.
-- Source: seed 004 "Cleanup Job" ("Schedule: SELECT cron.schedule('cleanup-executions',
--   '0 3 * * *', 'SELECT public.cleanup_old_executions()')").
-- This migration does not create the extension: pg_cron needs shared_preload_libraries
-- and cron.database_name set by the DBA, and dropping it would drop every other job.
-- When pg_cron is installed later, reapply this migration
-- (dbkit rollback --module automations --steps 1, then dbkit apply) to schedule the job.
-- The job name 'cleanup-executions' is the document's; scheduling it again updates it.
-- depends: 0001_platform_auth_shim

do $$
begin
    if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
        perform cron.schedule(
            'cleanup-executions',
            '0 3 * * *',
            'SELECT public.cleanup_old_executions()'
        );
        raise notice 'automations: scheduled cleanup-executions (0 3 * * *) with pg_cron';
    else
        raise notice 'automations: pg_cron is not installed in this database; '
            'public.cleanup_old_executions() is NOT scheduled — install pg_cron and reapply '
            '0006_automations_cleanup_schedule, or run the function daily yourself';
    end if;
end;
$$;

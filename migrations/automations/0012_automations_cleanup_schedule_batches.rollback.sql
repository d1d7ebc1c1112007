-- Rollback of 0012_automations_cleanup_schedule_batches: the job 'cleanup-executions' runs the
-- document's command again, 'SELECT public.cleanup_old_executions()', as 0006 scheduled it.
-- Where pg_cron is absent, or the job was removed by hand, there is nothing to restore.
-- Source: seed 004 "Cleanup Job".

do $$
begin
    if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
        -- A separate statement: cron.job exists only where pg_cron is installed.
        if exists (select 1 from cron.job where jobname = 'cleanup-executions') then
            perform cron.schedule(
                'cleanup-executions',
                '0 3 * * *',
                'SELECT public.cleanup_old_executions()'
            );
            raise notice 'automations: cleanup-executions (0 3 * * *) runs SELECT public.cleanup_old_executions() again';
        end if;
    end if;
end;
$$;

-- Rollback of 0006_automations_cleanup_schedule: unschedule the pg_cron job
-- 'cleanup-executions' if pg_cron is installed and the job exists; nothing otherwise.
-- Source: seed 004 "Cleanup Job".

do $$
begin
    if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
        if exists (select 1 from cron.job where jobname = 'cleanup-executions') then
            perform cron.unschedule('cleanup-executions');
            raise notice 'automations: unscheduled cleanup-executions';
        end if;
    end if;
end;
$$;

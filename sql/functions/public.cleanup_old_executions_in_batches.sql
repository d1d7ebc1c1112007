-- public.cleanup_old_executions_in_batches(p_batch_size): the scheduled retention job of
-- automation_executions, committing after every batch.
-- Source: seed 004 "Cleanup Job" (run daily via pg_cron). Each batch is one call of
-- public.cleanup_old_executions(p_batch_size, 1), the function that holds the retention rule:
-- at most p_batch_size due rows, oldest first (SKIP LOCKED: a row a writer holds is left for
-- the next run); the procedure COMMITs after each one until a batch deletes nothing, so a
-- row lock lives for one batch (milliseconds) and a backlog never becomes one long
-- transaction that holds back vacuum or replication. pg_cron
-- runs it as `CALL public.cleanup_old_executions_in_batches()`
-- (0012_automations_cleanup_schedule_batches); `select public.cleanup_old_executions()` is the
-- document's one-transaction call and still works.
-- Must be CALLed outside a transaction block (it commits); inside one, PostgreSQL refuses
-- the first COMMIT ("invalid transaction termination") and nothing is deleted.
-- No SET search_path: PostgreSQL forbids transaction control in a procedure that has a SET
-- clause. It is SECURITY INVOKER, names every object, type and operator with its schema,
-- and does its deleting through cleanup_old_executions(), whose search_path is pinned.
-- EXECUTE for service_role only (pg_cron runs it as the job's owner).
-- Depends on: public.cleanup_old_executions(integer, integer) (0005, batching since 0011).
-- Included by: migrations/automations/0011_automations_scale_paths.sql

create or replace procedure public.cleanup_old_executions_in_batches(
    p_batch_size integer default 10000
)
language plpgsql
as $$
declare
    v_rows pg_catalog.int8;
begin
    if p_batch_size is null or p_batch_size operator(pg_catalog.<) 1 then
        raise exception 'cleanup_old_executions_in_batches: p_batch_size must be positive'
            using errcode = '22023';
    end if;
    loop
        v_rows := public.cleanup_old_executions(p_batch_size, 1);
        commit;
        exit when v_rows operator(pg_catalog.=) 0;
    end loop;
end;
$$;

comment on procedure public.cleanup_old_executions_in_batches is
'The scheduled retention job: deletes past-retention executions in batches of p_batch_size (oldest first, skipping locked rows), committing after each batch. CALL it outside a transaction block.';

revoke all on procedure public.cleanup_old_executions_in_batches(integer)
    from public, anon, authenticated, service_role;

grant execute on procedure public.cleanup_old_executions_in_batches(integer) to service_role;

-- public.cleanup_old_executions(p_batch_size, p_max_batches): delete old finished
-- executions in small batches; returns the number of rows deleted.
-- Source: seed 004 "Cleanup Job" (run daily via pg_cron, see 0006_automations_cleanup_schedule).
-- Deletes 'completed' and 'cancelled' executions whose completed_at is older than 30 days
-- and 'failed' ones older than 7 days; pending and running rows, and rows without a
-- completed_at, are never touched.
-- Batches: each DELETE takes at most p_batch_size rows (by id, via idx_executions_cleanup),
-- skipping rows another session has locked, so no statement scans or locks the whole
-- table; one call stops after p_max_batches batches, so a large backlog is drained over
-- several calls (each its own transaction) instead of one long transaction.
-- The batch's ids are collected into an array (an InitPlan) and deleted through the
-- primary key (e.id = any (...)); `e.id in (select ...)` was planned as a hash semi join
-- that read the whole table once per batch (docs/decisions.md).
-- Changes from the document: batched, returns a count, SECURITY INVOKER (the cron job and
--   service_role already may delete) with search_path pinned to ''; execute only for
--   service_role.
-- Depends on: public.automation_executions, idx_executions_cleanup (0003).
-- Included by: migrations/automations/0005_automations_stats_and_cleanup.sql

create or replace function public.cleanup_old_executions(
    p_batch_size integer default 5000,
    p_max_batches integer default 100
)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_total bigint := 0;
    v_rows bigint;
    v_batches integer := 0;
begin
    if p_batch_size is null or p_batch_size < 1 or p_max_batches is null or p_max_batches < 1 then
        raise exception 'cleanup_old_executions: p_batch_size and p_max_batches must be positive'
            using errcode = '22023';
    end if;

    loop
        delete from public.automation_executions as e
        where e.id = any(array(
            select x.id
            from public.automation_executions as x
            where (x.status in ('completed', 'cancelled') and x.completed_at < pg_catalog.now() - interval '30 days')
               or (x.status = 'failed' and x.completed_at < pg_catalog.now() - interval '7 days')
            limit p_batch_size
            for update skip locked
        ));
        get diagnostics v_rows = row_count;
        v_total := v_total + v_rows;
        v_batches := v_batches + 1;
        exit when v_rows < p_batch_size or v_batches >= p_max_batches;
    end loop;

    return v_total;
end;
$$;

comment on function public.cleanup_old_executions(integer, integer) is
'Deletes completed/cancelled executions older than 30 days and failed ones older than 7 days, p_batch_size rows per statement, at most p_max_batches statements per call; returns rows deleted.';

revoke all on function public.cleanup_old_executions(integer, integer) from public, anon, authenticated, service_role;

grant execute on function public.cleanup_old_executions(integer, integer) to service_role;

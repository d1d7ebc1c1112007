-- public.cleanup_old_executions(p_batch_size, p_max_batches): delete old finished
-- executions; returns the number of rows deleted.
-- Source: seed 004 "Cleanup Job" (run daily via pg_cron). Deletes 'completed' and
-- 'cancelled' executions whose completed_at is older than 30 days and 'failed' ones older
-- than 7 days; pending and running rows, and rows without a completed_at, are never touched.
-- The document's call, `select public.cleanup_old_executions()` (no arguments): one
--   set-based DELETE per finished status, like the document's DELETEs, in the caller's
--   transaction: the fastest way to remove a backlog. Rows another session has locked are
--   waited for, as the document's DELETE waits; a concurrent INSERT, or an UPDATE of an
--   execution that is not being deleted, never waits for it. Before issue 19 this call ran
--   batches of 5000 inside its one transaction: every deleted row stayed locked until the
--   call's single commit anyway, and each batch walked again over the rows the previous
--   batches had deleted (17x one DELETE at 1M executions).
-- With p_batch_size: DELETEs of at most p_batch_size rows, oldest completed_at first per
--   status, through idx_executions_cleanup (status, completed_at), each starting where the
--   previous one stopped; FOR UPDATE SKIP LOCKED, so a row a writer holds is left for the
--   next run instead of being waited on. At most p_max_batches DELETEs that delete
--   something (null: no limit). Still the caller's one transaction: the scheduled job is the
--   procedure public.cleanup_old_executions_in_batches(), which calls
--   cleanup_old_executions(p_batch_size, 1) and commits after each batch.
-- Changes from the document: returns a count (bigint), optional batching, SECURITY INVOKER
--   with search_path pinned to ''; execute only for service_role (docs/decisions.md).
-- Depends on: public.automation_executions, idx_executions_cleanup (0003).
-- Included by: migrations/automations/0005_automations_stats_and_cleanup.sql

create or replace function public.cleanup_old_executions(
    p_batch_size integer default null,
    p_max_batches integer default null
)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_status text;
    v_cutoff timestamptz;
    v_after timestamptz;
    v_rows bigint;
    v_last timestamptz;
    v_total bigint := 0;
    v_batches integer := 0;
begin
    if (p_batch_size is not null and p_batch_size < 1) or (p_max_batches is not null and p_max_batches < 1) then
        raise exception 'cleanup_old_executions: p_batch_size and p_max_batches must be positive'
            using errcode = '22023';
    end if;
    if p_batch_size is null and p_max_batches is not null then
        raise exception 'cleanup_old_executions: p_max_batches needs p_batch_size'
            using errcode = '22023';
    end if;

    foreach v_status in array array['completed', 'cancelled', 'failed'] loop
        -- The retention rule: 30 days after completion, 7 for failed runs.
        v_cutoff := pg_catalog.now() - case v_status when 'failed' then interval '7 days' else interval '30 days' end;

        if p_batch_size is null then
            delete from public.automation_executions as e
            where e.status = v_status
                and e.completed_at < v_cutoff;
            get diagnostics v_rows = row_count;
            v_total := v_total + v_rows;
            continue;
        end if;

        v_after := '-infinity';
        loop
            exit when p_max_batches is not null and v_batches >= p_max_batches;
            with batch as (
                select x.ctid
                from public.automation_executions as x
                where x.status = v_status
                    and x.completed_at >= v_after
                    and x.completed_at < v_cutoff
                order by x.completed_at
                limit p_batch_size
                for update skip locked
            ),
            gone as (
                delete from public.automation_executions as e
                where e.ctid = any(array(select b.ctid from batch as b))
                returning e.completed_at
            )
            select pg_catalog.count(*), pg_catalog.max(g.completed_at)
            into v_rows, v_last
            from gone as g;
            if v_rows > 0 then
                v_batches := v_batches + 1;
                v_total := v_total + v_rows;
            end if;
            exit when v_rows < p_batch_size;
            v_after := v_last;
        end loop;
    end loop;

    return v_total;
end;
$$;

comment on function public.cleanup_old_executions(integer, integer) is
'Deletes completed/cancelled executions older than 30 days and failed ones older than 7 days in the caller''s transaction: one DELETE per status when called without arguments (the document''s call), else batches of p_batch_size (skipping locked rows), at most p_max_batches; returns rows deleted. The scheduled job is CALL cleanup_old_executions_in_batches(), which commits per batch.';

revoke all on function public.cleanup_old_executions(integer, integer) from public, anon, authenticated, service_role;

grant execute on function public.cleanup_old_executions(integer, integer) to service_role;

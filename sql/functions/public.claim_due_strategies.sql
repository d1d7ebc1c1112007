-- public.claim_due_strategies(p_now, p_batch_size): the cron job's "find strategies due for
-- execution" query made safe for several concurrent executors. Locks up to p_batch_size due
-- strategies with FOR UPDATE SKIP LOCKED (oldest due first), advances each one's
-- next_execution_at to p_now + execution_interval_minutes, and returns the claimed rows.
-- A strategy is claimed by exactly one caller per due time: a concurrent caller skips rows
-- another holds, and once the holder commits the row is no longer due.
-- Source: seed 003 "Performance Considerations" 1 (cron job query) and "Service Role Access".
-- Uses idx_workflow_sessions_auto_run (partial: auto_run and status in running/error).
-- Plan shape: a SQL function's body is planned without its parameter values, so a
-- `limit p_batch_size` is estimated at 10% of the table. Joining the locked ids back (CTE +
-- UPDATE ... FROM) therefore planned a hash or merge join over the whole table; collecting
-- them into an array (an InitPlan) makes the UPDATE a primary-key probe per claimed id,
-- whatever the estimate.
-- SECURITY INVOKER: the executor runs as service_role, which bypasses RLS; EXECUTE only for
-- service_role. p_now is a parameter so tests and catch-up runs are deterministic.
-- Included by: migrations/strategy_execution/0002_strategy_workflow_sessions_autonomous.sql

create or replace function public.claim_due_strategies(
    p_now timestamptz default now(),
    p_batch_size integer default 25
)
returns setof public.workflow_sessions
language sql
volatile
set search_path = ''
as $$
    update public.workflow_sessions as ws
    set next_execution_at = p_now + make_interval(mins => ws.execution_interval_minutes)
    where ws.id = any (array(
        select due.id
        from public.workflow_sessions as due
        where due.auto_run = true
            and due.status in ('running', 'error')
            and due.next_execution_at <= p_now
        order by due.next_execution_at
        limit greatest(p_batch_size, 0)
        for update skip locked
    ))
    returning ws.*;
$$;
comment on function public.claim_due_strategies(timestamptz, integer) is
    'Cron job: claim up to p_batch_size due strategies (FOR UPDATE SKIP LOCKED) and schedule their next run at p_now + execution_interval_minutes.';
revoke execute on function public.claim_due_strategies(timestamptz, integer) from public, anon, authenticated;
grant execute on function public.claim_due_strategies(timestamptz, integer) to service_role;

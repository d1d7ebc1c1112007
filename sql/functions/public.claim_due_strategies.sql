-- public.claim_due_strategies(p_now, p_batch_size): the cron job's "find strategies due for
-- execution" query made safe for several concurrent executors. Locks up to p_batch_size due
-- strategies with FOR UPDATE SKIP LOCKED, advances each one's next_execution_at to
-- p_now + execution_interval_minutes, and returns the claimed rows.
-- A strategy is claimed by exactly one caller per due time: a concurrent caller skips rows
-- another holds, and once the holder commits the row is no longer due.
-- Fair between users, at a bounded cost: the candidates are the 20 x p_batch_size longest
-- overdue strategies (one ordered range scan of the index, however large the backlog), and
-- among them each user's longest-overdue strategy goes first (turn 1 of every user), then
-- each user's second, and so on. So one user with hundreds of due strategies gets one slot
-- per turn like everyone else among the candidates, and no strategy is starved: the
-- candidates are always the oldest due ones, so every due strategy becomes one within
-- (older due strategies) / p_batch_size claims. With a single user the order is simply the
-- longest overdue first.
-- The scheduling columns are the executor's alone (column privileges,
-- 0011_strategy_tenant_isolation): a user cannot push next_execution_at into the past to
-- jump the queue.
-- Source: seed 003 "Performance Considerations" 1 (cron job query) and "Service Role Access".
-- Uses idx_workflow_sessions_auto_run (partial: auto_run and status in running/error, keyed
-- on next_execution_at): the candidates are one ordered range scan; numbering the turns sorts
-- only them.
-- Plan shape: a SQL function's body is planned without its parameter values, so a
-- `limit p_batch_size` is estimated at 10% of the table. Joining the locked ids back (CTE +
-- UPDATE ... FROM) therefore planned a hash or merge join over the whole table; collecting
-- them into an array (an InitPlan) makes the UPDATE a primary-key probe per claimed id,
-- whatever the estimate. The candidates, in claim order, are likewise an array (InitPlan)
-- that is unnested and joined to the table by primary key, so the lock step probes only them;
-- a join on the candidate subquery itself was planned as a hash join over every due row
-- (56 ms instead of 3 with 20,000 due of 200,000).
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
        select claim.id
        from pg_catalog.unnest(array(
            select queue.id
            from (
                select due.id,
                    due.next_execution_at,
                    row_number() over (partition by due.user_id order by due.next_execution_at, due.id) as turn
                from (
                    select oldest.id, oldest.user_id, oldest.next_execution_at
                    from public.workflow_sessions as oldest
                    where oldest.auto_run = true
                        and oldest.status in ('running', 'error')
                        and oldest.next_execution_at <= p_now
                    order by oldest.next_execution_at
                    limit greatest(p_batch_size, 0) * 20
                ) as due
            ) as queue
            order by queue.turn, queue.next_execution_at, queue.id
        )) with ordinality as candidate (id, position)
        inner join public.workflow_sessions as claim on claim.id = candidate.id
        where claim.auto_run = true
            and claim.status in ('running', 'error')
            and claim.next_execution_at <= p_now
        order by candidate.position
        limit greatest(p_batch_size, 0)
        for update of claim skip locked
    ))
    returning ws.*;
$$;
comment on function public.claim_due_strategies(timestamptz, integer) is
    'Cron job: claim up to p_batch_size due strategies (FOR UPDATE SKIP LOCKED), in turns across users (each user''s longest overdue first), and schedule their next run at p_now + execution_interval_minutes.';
revoke all on function public.claim_due_strategies(timestamptz, integer) from public, anon, authenticated, service_role;
grant execute on function public.claim_due_strategies(timestamptz, integer) to service_role;

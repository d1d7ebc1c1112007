-- public.get_execution_log_summary(p_execution_id): statistics of one strategy run from its
-- node logs: total nodes, success / error / skipped / running counts, total and average
-- duration of completed nodes, first start and last completion. One row, with zero counts and
-- NULL durations when the run has no (visible) logs.
-- Source: seed 003 §1.4 "Helper Functions".
-- SECURITY INVOKER so RLS applies: an authenticated user summarises only runs of their own
-- strategies (another user's run reads as empty). Uses idx_strategy_execution_logs_execution.
-- Included by: migrations/strategy_execution/0006_strategy_execution_logs.sql

create or replace function public.get_execution_log_summary(p_execution_id uuid)
returns table (
    total_nodes bigint,
    success_count bigint,
    error_count bigint,
    skipped_count bigint,
    running_count bigint,
    total_duration_ms bigint,
    avg_duration_ms numeric,
    started_at timestamptz,
    completed_at timestamptz
)
language sql
stable
set search_path = ''
as $$
    select
        count(*) as total_nodes,
        count(*) filter (where l.status = 'success') as success_count,
        count(*) filter (where l.status = 'error') as error_count,
        count(*) filter (where l.status = 'skipped') as skipped_count,
        count(*) filter (where l.status = 'running') as running_count,
        sum(l.duration_ms)::bigint as total_duration_ms,
        round(avg(l.duration_ms), 2) as avg_duration_ms,
        min(l.started_at) as started_at,
        max(l.completed_at) as completed_at
    from public.strategy_execution_logs as l
    where l.execution_id = p_execution_id;
$$;
comment on function public.get_execution_log_summary(uuid) is
    'Node counts by status and durations for one strategy run (RLS applies).';
revoke all on function public.get_execution_log_summary(uuid) from public, anon, authenticated, service_role;
grant execute on function public.get_execution_log_summary(uuid) to authenticated, service_role;

-- public.get_node_performance_stats(p_workflow_id, p_node_id): performance of one node of a
-- strategy across all its runs: executions, success / error / skipped counts, success rate
-- (percent, 2 decimals, NULL without executions), average / min / max / p95 duration of
-- completed executions, and the last start. One row, zero counts when there are no logs.
-- Source: seed 003 §1.4 "Helper Functions".
-- SECURITY INVOKER so RLS applies (own strategies only). Uses idx_strategy_execution_logs_workflow.
-- Included by: migrations/strategy_execution/0006_strategy_execution_logs.sql

create or replace function public.get_node_performance_stats(p_workflow_id uuid, p_node_id text)
returns table (
    total_executions bigint,
    success_count bigint,
    error_count bigint,
    skipped_count bigint,
    success_rate numeric,
    avg_duration_ms numeric,
    min_duration_ms integer,
    max_duration_ms integer,
    p95_duration_ms double precision,
    last_started_at timestamptz
)
language sql
stable
set search_path = ''
as $$
    select
        count(*) as total_executions,
        count(*) filter (where l.status = 'success') as success_count,
        count(*) filter (where l.status = 'error') as error_count,
        count(*) filter (where l.status = 'skipped') as skipped_count,
        round(100.0 * count(*) filter (where l.status = 'success') / nullif(count(*), 0), 2) as success_rate,
        round(avg(l.duration_ms), 2) as avg_duration_ms,
        min(l.duration_ms) as min_duration_ms,
        max(l.duration_ms) as max_duration_ms,
        percentile_cont(0.95) within group (order by l.duration_ms) as p95_duration_ms,
        max(l.started_at) as last_started_at
    from public.strategy_execution_logs as l
    where l.workflow_id = p_workflow_id
        and l.node_id = p_node_id;
$$;
comment on function public.get_node_performance_stats(uuid, text) is
    'Execution counts, success rate and duration statistics of one node of one strategy (RLS applies).';
revoke all on function public.get_node_performance_stats(uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.get_node_performance_stats(uuid, text) to authenticated, service_role;

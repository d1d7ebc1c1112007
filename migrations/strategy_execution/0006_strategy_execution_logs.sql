-- 0006_strategy_execution_logs: per-node log of each strategy run, the trigger that fills
-- duration_ms, the two log statistics functions, and RLS (owners read; the executor writes).
-- Source: seed 003 §1.4 "Create strategy_execution_logs Table" (20251026000003) and
-- "Performance Considerations" 3 (execution log lookup).
-- Decided: started_at defaults to now(); completed_at may not precede started_at.
-- include: sql/functions/public.calculate_strategy_execution_log_duration.sql

create table public.strategy_execution_logs (
    id uuid primary key default gen_random_uuid(),
    execution_id uuid not null references public.workflow_executions (id) on delete cascade,
    workflow_id uuid not null references public.workflow_sessions (id) on delete cascade,
    node_id text not null,
    node_type text not null,
    status text not null
        constraint strategy_execution_logs_status_check
        check (status in ('running', 'success', 'error', 'skipped')),
    output jsonb,
    error_message text,
    started_at timestamptz not null default now(),
    completed_at timestamptz,
    duration_ms integer,
    created_at timestamptz not null default now(),
    constraint strategy_execution_logs_completed_after_started_check
        check (completed_at is null or completed_at >= started_at)
);
comment on table public.strategy_execution_logs is 'One row per node per strategy run (seed 003 §1.4).';
comment on column public.strategy_execution_logs.node_id is 'ReactFlow node identifier.';
comment on column public.strategy_execution_logs.node_type is 'Node type, e.g. polymarket-stream, filter.';
comment on column public.strategy_execution_logs.duration_ms is 'completed_at - started_at in ms; set by trigger strategy_execution_logs_duration, NULL while running.';
grant select on table public.strategy_execution_logs to authenticated;
grant select, insert, update, delete on table public.strategy_execution_logs to service_role;
create index idx_strategy_execution_logs_execution on public.strategy_execution_logs
    using btree (execution_id, started_at);
create index idx_strategy_execution_logs_workflow on public.strategy_execution_logs
    using btree (workflow_id, started_at desc);
create index idx_strategy_execution_logs_errors on public.strategy_execution_logs
    using btree (workflow_id, status)
    where status in ('error', 'skipped');
create index idx_strategy_execution_logs_recent on public.strategy_execution_logs
    using btree (workflow_id, execution_id, started_at desc);

create trigger strategy_execution_logs_duration
    before insert or update on public.strategy_execution_logs
    for each row execute function public.calculate_strategy_execution_log_duration();

-- include: sql/functions/public.get_execution_log_summary.sql
-- include: sql/functions/public.get_node_performance_stats.sql
-- include: sql/policies/public.strategy_execution_logs.sql

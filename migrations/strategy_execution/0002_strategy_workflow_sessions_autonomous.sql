-- 0002_strategy_workflow_sessions_autonomous: autonomous execution on workflow_sessions:
-- the 7 scheduling/statistics columns, the widened status set (running, stopped, error),
-- and the cron job's database side (claim / record). The seed's partial index follows in
-- 0003_strategy_workflow_sessions_indexes, built CONCURRENTLY outside a transaction.
-- Source: seed 003 §1.1 "Alter workflow_sessions Table" (20251026000000) and
-- "Performance Considerations" 1 (cron job query).
-- Changed from the seed: success_count / error_count / average_execution_time_ms must be >= 0.

alter table public.workflow_sessions
    add column execution_interval_minutes integer not null default 5
        constraint workflow_sessions_execution_interval_minutes_check
        check (execution_interval_minutes >= 1);
comment on column public.workflow_sessions.execution_interval_minutes is 'Minutes between two autonomous runs (>= 1).';

alter table public.workflow_sessions
    add column auto_run boolean not null default false;
comment on column public.workflow_sessions.auto_run is 'True while the cron job should run this strategy.';

alter table public.workflow_sessions
    add column last_executed_at timestamptz;
comment on column public.workflow_sessions.last_executed_at is 'When the last recorded run finished (public.record_strategy_execution).';

alter table public.workflow_sessions
    add column next_execution_at timestamptz;
comment on column public.workflow_sessions.next_execution_at is 'When the strategy is next due; NULL means not scheduled. Advanced by public.claim_due_strategies.';

alter table public.workflow_sessions
    add column success_count integer not null default 0
        constraint workflow_sessions_success_count_check
        check (success_count >= 0);
comment on column public.workflow_sessions.success_count is 'Number of successful autonomous runs.';

alter table public.workflow_sessions
    add column error_count integer not null default 0
        constraint workflow_sessions_error_count_check
        check (error_count >= 0);
comment on column public.workflow_sessions.error_count is 'Number of failed autonomous runs.';

alter table public.workflow_sessions
    add column average_execution_time_ms integer
        constraint workflow_sessions_average_execution_time_ms_check
        check (average_execution_time_ms >= 0);
comment on column public.workflow_sessions.average_execution_time_ms is 'Running mean duration of all recorded runs, in ms; NULL before the first run.';

alter table public.workflow_sessions
    drop constraint workflow_sessions_status_check;
alter table public.workflow_sessions
    add constraint workflow_sessions_status_check
    check (status in ('draft', 'active', 'paused', 'archived', 'running', 'stopped', 'error'));
comment on constraint workflow_sessions_status_check on public.workflow_sessions is 'Seed 003 §1.1: running, stopped and error added for autonomous execution.';

-- include: sql/functions/public.claim_due_strategies.sql
-- include: sql/functions/public.record_strategy_execution.sql

-- public.record_strategy_execution(p_workflow_id, p_succeeded, p_duration_ms, p_executed_at):
-- the cron job's bookkeeping after one run of a strategy: success_count or error_count + 1,
-- last_executed_at, the running mean average_execution_time_ms over all recorded runs, and
-- the status: a failure moves a running strategy to 'error', a success moves an 'error'
-- strategy back to 'running'; a strategy the user stopped/paused meanwhile keeps its status.
-- Raises no_data_found (P0002) for an unknown strategy, invalid_parameter_value (22023) for a
-- NULL or negative duration. Returns the updated row.
-- The counters saturate at the integer maximum (2147483647) instead of overflowing, and the
-- running mean is computed in numeric: one strategy's counters can never raise an error
-- that aborts the executor's batch (they are the executor's columns alone since
-- 0011_strategy_tenant_isolation; saturation also covers rows written before it).
-- Source: seed 003 §1.1 (success_count, error_count, last_executed_at,
-- average_execution_time_ms, status 'error') and "Service Role Access" ("update strategy metrics").
-- SECURITY INVOKER: EXECUTE only for service_role (the executor).
-- Included by: migrations/strategy_execution/0002_strategy_workflow_sessions_autonomous.sql

create or replace function public.record_strategy_execution(
    p_workflow_id uuid,
    p_succeeded boolean,
    p_duration_ms integer,
    p_executed_at timestamptz default now()
)
returns public.workflow_sessions
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_row public.workflow_sessions;
begin
    if p_succeeded is null then
        raise exception 'p_succeeded must not be null' using errcode = 'invalid_parameter_value';
    end if;
    if p_duration_ms is null or p_duration_ms < 0 then
        raise exception 'p_duration_ms must be a non-negative number of milliseconds, got %', p_duration_ms
            using errcode = 'invalid_parameter_value';
    end if;

    update public.workflow_sessions as ws
    set success_count = least(ws.success_count::bigint + case when p_succeeded then 1 else 0 end, 2147483647)::integer,
        error_count = least(ws.error_count::bigint + case when p_succeeded then 0 else 1 end, 2147483647)::integer,
        last_executed_at = p_executed_at,
        average_execution_time_ms = case
            when ws.average_execution_time_ms is null then p_duration_ms
            else round(
                (ws.average_execution_time_ms::numeric * (ws.success_count::numeric + ws.error_count) + p_duration_ms)
                / (ws.success_count::numeric + ws.error_count + 1)
            )::integer
        end,
        status = case
            when not p_succeeded and ws.status = 'running' then 'error'
            when p_succeeded and ws.status = 'error' then 'running'
            else ws.status
        end
    where ws.id = p_workflow_id
    returning ws.* into v_row;

    if not found then
        raise exception 'workflow_sessions % does not exist', p_workflow_id using errcode = 'no_data_found';
    end if;
    return v_row;
end;
$$;
comment on function public.record_strategy_execution(uuid, boolean, integer, timestamptz) is
    'Cron job: record one run''s outcome (counts, last_executed_at, running mean duration, status running <-> error).';
revoke all on function public.record_strategy_execution(uuid, boolean, integer, timestamptz)
    from public, anon, authenticated, service_role;
grant execute on function public.record_strategy_execution(uuid, boolean, integer, timestamptz) to service_role;

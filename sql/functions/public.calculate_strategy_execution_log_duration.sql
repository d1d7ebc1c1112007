-- public.calculate_strategy_execution_log_duration(): BEFORE INSERT OR UPDATE trigger function
-- of public.strategy_execution_logs (trigger strategy_execution_logs_duration). Sets
-- duration_ms to completed_at - started_at in whole milliseconds (rounded) once completed_at is
-- set, and to NULL while it is not, so a client can never store a duration that disagrees with
-- the timestamps.
-- Source: seed 003 §1.4 "Triggers".
-- SECURITY INVOKER with search_path pinned. A trigger function is never called directly, and
-- PostgreSQL checks EXECUTE on it only when a trigger is created, so EXECUTE is revoked from
-- everyone, service_role included (revoke first: Supabase's default privileges grant it).
-- Included by: migrations/strategy_execution/0006_strategy_execution_logs.sql

create or replace function public.calculate_strategy_execution_log_duration()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.completed_at is null then
        new.duration_ms := null;
    else
        new.duration_ms := round(extract(epoch from (new.completed_at - new.started_at)) * 1000)::integer;
    end if;
    return new;
end;
$$;
comment on function public.calculate_strategy_execution_log_duration() is
    'Trigger strategy_execution_logs_duration: duration_ms := completed_at - started_at in ms (NULL while running).';
revoke all on function public.calculate_strategy_execution_log_duration()
    from public, anon, authenticated, service_role;

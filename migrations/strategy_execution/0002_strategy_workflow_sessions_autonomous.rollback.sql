-- Rollback of 0002_strategy_workflow_sessions_autonomous: drops the cron functions and the
-- 7 columns, and restores the previous status constraint (draft, active,
-- paused, archived). Refuses while any strategy is running, stopped or error, because the old
-- constraint could not hold those rows; move them to another status first.
-- Source: seed 003 §1.1 ("Rollback SQL included in comments").

drop function public.record_strategy_execution(uuid, boolean, integer, timestamptz);
drop function public.claim_due_strategies(timestamptz, integer);

do $$
declare
    v_rows bigint;
begin
    select count(*) into v_rows
    from public.workflow_sessions
    where status in ('running', 'stopped', 'error');
    if v_rows > 0 then
        raise exception 'cannot roll back 0002_strategy_workflow_sessions_autonomous: % workflow_sessions row(s) have status running, stopped or error, which the previous status constraint forbids', v_rows
            using errcode = 'check_violation',
                hint = 'Set those strategies to draft, active, paused or archived first.';
    end if;
end
$$;
alter table public.workflow_sessions
    drop constraint workflow_sessions_status_check;
alter table public.workflow_sessions
    add constraint workflow_sessions_status_check
    check (status in ('draft', 'active', 'paused', 'archived'));

alter table public.workflow_sessions drop column average_execution_time_ms;
alter table public.workflow_sessions drop column error_count;
alter table public.workflow_sessions drop column success_count;
alter table public.workflow_sessions drop column next_execution_at;
alter table public.workflow_sessions drop column last_executed_at;
alter table public.workflow_sessions drop column auto_run;
alter table public.workflow_sessions drop column execution_interval_minutes;

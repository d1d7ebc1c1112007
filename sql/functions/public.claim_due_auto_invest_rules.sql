-- public.claim_due_auto_invest_rules(timestamptz, integer, text): claim up to p_batch_size
-- active auto-invest rules due on the UTC date of p_now, safely from any number of workers.
-- Source: seed 001 "Scheduler Integration" (processes auto-invest rules; error handling and
-- logging) and seed 000 auto_invest_rules (frequency, next_execution_date).
-- Per claimed rule, in the caller's transaction: one public.automation_execution_logs row
-- (status Claimed, period_date = the due date claimed) and next_execution_date advanced by
-- the rule's frequency with public.next_auto_invest_date (month-end safe). Periods missed
-- while no scheduler ran are skipped, not replayed (details.skipped_periods counts them).
-- A rule past end_date or max_executions becomes Completed.
-- No rule can stall or abort a batch: the next date after missed periods is computed in one
-- step (not one call per missed period, which for a Daily rule due in 1900 meant ~45,000
-- calls), and a rule whose execution_count is already the integer maximum is completed
-- without executing instead of overflowing (which would roll back every claim of the batch).
-- Fairness: a claimed rule's next date is after the UTC date of p_now, so each rule is claimed
-- at most once per day; every rule due today is claimed within ceil(due rules / p_batch_size)
-- calls, whatever another client's rules say (docs/decisions.md, "Scheduler fairness").
-- Concurrency: FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rules; a worker
-- that reaches a rule after another committed re-checks it and sees it is no longer due;
-- the unique key (auto_invest_rule_id, period_date) is the last line of defence.
-- Depends on: public.auto_invest_rules, public.automation_execution_logs,
-- public.next_auto_invest_date. Included by 0007_wealth_scheduler_functions.
create or replace function public.claim_due_auto_invest_rules(
    p_now timestamp with time zone default now(),
    p_batch_size integer default 100,
    p_worker_id text default null
)
returns table (
    execution_log_id uuid,
    rule_id uuid,
    client_id uuid,
    scheme_id uuid,
    goal_id uuid,
    amount numeric,
    frequency text,
    trigger_type text,
    trigger_config jsonb,
    period_date date,
    next_execution_date date,
    rule_status text
)
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_today date;
    v_rule record;
    v_next date;
    v_skipped integer;
    v_periods integer;
    v_step integer;
    v_due_month date;
    v_count integer;
    v_status text;
    v_anchor integer;
    v_log_id uuid;
begin
    if p_now is null then
        raise exception 'p_now must not be null' using errcode = '22004';
    end if;
    if not pg_catalog.isfinite(p_now) then
        raise exception 'p_now must be a finite time, got %', p_now using errcode = '22023';
    end if;
    if p_batch_size is null or p_batch_size < 1 or p_batch_size > 10000 then
        raise exception 'p_batch_size must be between 1 and 10000, got %', p_batch_size
            using errcode = '22023';
    end if;
    v_today := (p_now at time zone 'UTC')::date;

    for v_rule in
        select r.id, r.client_id, r.scheme_id, r.goal_id, r.amount, r.frequency, r.trigger_type,
               r.trigger_config, r.start_date, r.end_date, r.day_of_month, r.next_execution_date,
               r.max_executions, r.execution_count
        from public.auto_invest_rules as r
        where r.status = 'Active'
          and r.next_execution_date <= v_today
        order by r.next_execution_date, r.id
        limit p_batch_size
        for update of r skip locked
    loop
        v_anchor := coalesce(v_rule.day_of_month, extract(day from v_rule.start_date)::integer);
        -- The first occurrence after today, in one step: v_periods occurrences after the due
        -- date (the due date itself is executed, the v_periods - 1 in between are skipped).
        if v_rule.frequency in ('Daily', 'Weekly') then
            v_step := case v_rule.frequency when 'Daily' then 1 else 7 end;
            v_periods := (v_today - v_rule.next_execution_date) / v_step + 1;
            v_next := v_rule.next_execution_date + v_periods * v_step;
        else
            -- Monthly / Quarterly: the n-th occurrence is the anchor day (clamped to month end)
            -- of the month n * v_step months after the due date's month.
            v_step := case v_rule.frequency when 'Monthly' then 1 else 3 end;
            v_due_month := pg_catalog.make_date(
                extract(year from v_rule.next_execution_date)::integer,
                extract(month from v_rule.next_execution_date)::integer, 1);
            v_periods := greatest(
                ((extract(year from v_today)::integer * 12 + extract(month from v_today)::integer)
                 - (extract(year from v_due_month)::integer * 12 + extract(month from v_due_month)::integer))
                / v_step,
                1);
            v_next := public.next_auto_invest_date(
                (v_due_month + pg_catalog.make_interval(months => (v_periods - 1) * v_step))::date,
                v_rule.frequency, v_anchor);
            if v_next <= v_today then
                v_periods := v_periods + 1;
                v_next := public.next_auto_invest_date(
                    (v_due_month + pg_catalog.make_interval(months => (v_periods - 1) * v_step))::date,
                    v_rule.frequency, v_anchor);
            end if;
        end if;
        v_skipped := v_periods - 1;

        if v_rule.end_date is not null and v_rule.next_execution_date > v_rule.end_date then
            -- Due date already past the end date: nothing to execute, the rule is finished.
            update public.auto_invest_rules as r
            set status = 'Completed'
            where r.id = v_rule.id;
            continue;
        end if;

        if v_rule.execution_count >= 2147483647 then
            -- The counter cannot count another execution: finish the rule instead of letting
            -- the increment overflow and abort the whole batch.
            update public.auto_invest_rules as r
            set status = 'Completed'
            where r.id = v_rule.id;
            continue;
        end if;

        v_count := v_rule.execution_count + 1;
        v_status := case
            when v_rule.max_executions is not null and v_count >= v_rule.max_executions then 'Completed'
            when v_rule.end_date is not null and v_next > v_rule.end_date then 'Completed'
            else 'Active'
        end;

        insert into public.automation_execution_logs as l (
            automation_type, client_id, auto_invest_rule_id, period_date, status, worker_id,
            details, started_at
        )
        values (
            'Auto Invest', v_rule.client_id, v_rule.id, v_rule.next_execution_date, 'Claimed',
            p_worker_id,
            pg_catalog.jsonb_build_object(
                'amount', v_rule.amount, 'scheme_id', v_rule.scheme_id,
                'frequency', v_rule.frequency, 'trigger_type', v_rule.trigger_type,
                'skipped_periods', v_skipped
            ),
            p_now
        )
        on conflict on constraint automation_execution_logs_rule_period_key do nothing
        returning l.id into v_log_id;

        if v_log_id is null then
            -- This period was already executed (the date was moved back by hand):
            -- advance without executing it again.
            update public.auto_invest_rules as r
            set next_execution_date = v_next
            where r.id = v_rule.id;
            continue;
        end if;

        update public.auto_invest_rules as r
        set next_execution_date = v_next,
            execution_count = v_count,
            last_executed_at = p_now,
            status = v_status
        where r.id = v_rule.id;

        execution_log_id := v_log_id;
        rule_id := v_rule.id;
        client_id := v_rule.client_id;
        scheme_id := v_rule.scheme_id;
        goal_id := v_rule.goal_id;
        amount := v_rule.amount;
        frequency := v_rule.frequency;
        trigger_type := v_rule.trigger_type;
        trigger_config := v_rule.trigger_config;
        period_date := v_rule.next_execution_date;
        next_execution_date := v_next;
        rule_status := v_status;
        return next;
    end loop;
end;
$$;
comment on function public.claim_due_auto_invest_rules(timestamp with time zone, integer, text) is
'Scheduler: claim up to p_batch_size active auto-invest rules due on or before the UTC date of p_now (SKIP LOCKED), log one Claimed run per rule and advance next_execution_date.';
revoke all on function public.claim_due_auto_invest_rules(timestamp with time zone, integer, text)
from public, anon, authenticated, service_role;
grant execute on function public.claim_due_auto_invest_rules(timestamp with time zone, integer, text)
to service_role;

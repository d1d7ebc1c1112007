-- public.record_rebalancing_drift(jsonb, timestamptz, text): find the active rebalancing
-- rules whose client's current allocation drifts beyond threshold_percent from
-- target_allocation, and record one public.rebalancing_executions row for each.
-- Source: seed 000 rebalancing_rules (target_allocation, threshold_percent,
-- execute_automatically "Whether to execute without confirmation"), rebalancing_executions
-- ("execution history"); seed 001 scheduler ("Processes rebalancing rules").
-- p_current_allocations is a JSON array of
--   {"client_id": "<uuid>", "allocation": {"Equity": 70, "Debt": 30}}   (percentages)
-- Every percentage must be a number in 0..100 (22023 otherwise, nothing changed): a value
-- outside it is a broken observation, and its drift would not fit max_drift_percent
-- (numeric(7,4)) and abort the whole batch with 22003.
-- Drift = the largest absolute difference, in percentage points, over the union of asset
-- classes (an asset class missing on one side counts as 0). Drift > threshold_percent
-- records an execution: status Approved when the rule says execute_automatically, Pending
-- Confirmation otherwise; every evaluated rule gets last_checked_at = p_now. A rule that
-- already has an open execution (pending, approved, executing) gets no second one (partial
-- unique index uq_rebalancing_executions_open_per_rule). One automation_execution_logs row
-- (Rebalancing, Claimed) per recorded execution. FOR UPDATE SKIP LOCKED: safe to run from
-- several workers at once.
-- Depends on: public.rebalancing_rules, public.rebalancing_executions,
-- public.automation_execution_logs. Included by 0007_wealth_scheduler_functions.
create or replace function public.record_rebalancing_drift(
    p_current_allocations jsonb,
    p_now timestamp with time zone default now(),
    p_worker_id text default null
)
returns table (
    rebalancing_execution_id uuid,
    execution_log_id uuid,
    rebalancing_rule_id uuid,
    client_id uuid,
    status text,
    max_drift_percent numeric,
    threshold_percent numeric,
    execute_automatically boolean
)
language plpgsql
volatile
set search_path = ''
as $$
#variable_conflict use_column
declare
    v_bad integer;
    v_rule record;
    v_drift numeric;
    v_status text;
    v_exec_id uuid;
    v_log_id uuid;
begin
    if p_now is null then
        raise exception 'p_now must not be null' using errcode = '22004';
    end if;
    if p_current_allocations is null or pg_catalog.jsonb_typeof(p_current_allocations) <> 'array' then
        raise exception 'p_current_allocations must be a JSON array' using errcode = '22023';
    end if;
    select count(*) into v_bad
    from pg_catalog.jsonb_array_elements(p_current_allocations) as e (item)
    where pg_catalog.jsonb_typeof(e.item) <> 'object'
       or e.item ->> 'client_id' is null
       or pg_catalog.jsonb_typeof(e.item -> 'allocation') is distinct from 'object'
       or exists (
            select 1 from pg_catalog.jsonb_each(
                case when pg_catalog.jsonb_typeof(e.item -> 'allocation') = 'object'
                     then e.item -> 'allocation' else '{}'::jsonb end
            ) as a
            where case when pg_catalog.jsonb_typeof(a.value) = 'number'
                       then (a.value)::numeric not between 0 and 100
                       else true end
       );
    if v_bad > 0 then
        raise exception '% malformed allocation(s): each needs client_id and allocation {asset: percent 0..100}', v_bad
            using errcode = '22023';
    end if;
    select count(*) into v_bad
    from (
        select e.item ->> 'client_id'
        from pg_catalog.jsonb_array_elements(p_current_allocations) as e (item)
        group by 1
        having count(*) > 1
    ) as dup;
    if v_bad > 0 then
        raise exception '% client(s) listed more than once in p_current_allocations', v_bad
            using errcode = '22023';
    end if;

    for v_rule in
        select r.id, r.client_id, r.target_allocation, r.threshold_percent,
               r.execute_automatically, c.allocation
        from public.rebalancing_rules as r
        inner join (
            select (e.item ->> 'client_id')::uuid as client_id, e.item -> 'allocation' as allocation
            from pg_catalog.jsonb_array_elements(p_current_allocations) as e (item)
        ) as c on c.client_id = r.client_id
        where r.status = 'Active'
        order by r.id
        for update of r skip locked
    loop
        select coalesce(max(abs(coalesce((cur.value)::numeric, 0) - coalesce((tgt.value)::numeric, 0))), 0)
        into v_drift
        from pg_catalog.jsonb_each(v_rule.allocation) as cur
        full join pg_catalog.jsonb_each(v_rule.target_allocation) as tgt on tgt.key = cur.key;

        update public.rebalancing_rules as r
        set last_checked_at = p_now
        where r.id = v_rule.id;

        continue when v_drift <= v_rule.threshold_percent;

        v_status := case when v_rule.execute_automatically then 'Approved' else 'Pending Confirmation' end;
        v_exec_id := null;
        insert into public.rebalancing_executions as x (
            rebalancing_rule_id, status, current_allocation, target_allocation,
            threshold_percent, max_drift_percent, executed_automatically, detected_at, confirmed_at
        )
        values (
            v_rule.id, v_status, v_rule.allocation, v_rule.target_allocation,
            v_rule.threshold_percent, round(v_drift, 4), v_rule.execute_automatically, p_now,
            case when v_rule.execute_automatically then p_now end
        )
        on conflict (rebalancing_rule_id)
            where x.status in ('Pending Confirmation', 'Approved', 'Executing')
            do nothing
        returning x.id into v_exec_id;

        continue when v_exec_id is null;

        insert into public.automation_execution_logs as l (
            automation_type, client_id, rebalancing_rule_id, rebalancing_execution_id, status,
            worker_id, details, started_at
        )
        values (
            'Rebalancing', v_rule.client_id, v_rule.id, v_exec_id, 'Claimed', p_worker_id,
            pg_catalog.jsonb_build_object(
                'max_drift_percent', round(v_drift, 4),
                'threshold_percent', v_rule.threshold_percent,
                'execute_automatically', v_rule.execute_automatically
            ),
            p_now
        )
        returning l.id into v_log_id;

        rebalancing_execution_id := v_exec_id;
        execution_log_id := v_log_id;
        rebalancing_rule_id := v_rule.id;
        client_id := v_rule.client_id;
        status := v_status;
        max_drift_percent := round(v_drift, 4);
        threshold_percent := v_rule.threshold_percent;
        execute_automatically := v_rule.execute_automatically;
        return next;
    end loop;
end;
$$;
comment on function public.record_rebalancing_drift(jsonb, timestamp with time zone, text) is
'Scheduler: record a rebalancing execution (Approved if execute_automatically, else Pending Confirmation) for each active rule whose client''s allocation drifts beyond threshold_percent; at most one open execution per rule.';
revoke all on function public.record_rebalancing_drift(jsonb, timestamp with time zone, text)
from public, anon, authenticated, service_role;
grant execute on function public.record_rebalancing_drift(jsonb, timestamp with time zone, text)
to service_role;

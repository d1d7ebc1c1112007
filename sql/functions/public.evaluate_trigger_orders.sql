-- public.evaluate_trigger_orders(jsonb, timestamptz, integer, text): mark, exactly once, the
-- active trigger orders whose condition is met by a set of observed values.
-- Source: seed 000 trigger_orders (trigger_type Price / NAV / Portfolio Value,
-- trigger_condition, trigger_value, order_type); seed 001 scheduler ("Processes trigger
-- orders", "Test trigger order activation").
-- p_observations is a JSON array of objects:
--   {"trigger_type": "Price" | "NAV", "scheme_id": "<uuid>", "value": <number>}
--   {"trigger_type": "Portfolio Value", "client_id": "<uuid>", "value": <number>}
-- An order matches an observation of its trigger_type for its scheme_id (Price, NAV) or its
-- client_id (Portfolio Value); it is triggered when "value <condition> trigger_value" holds
-- and valid_until (if any) is after p_now. Each triggered order moves Active -> Triggered
-- (triggered_at = p_now, triggered_value = value) and gets one automation_execution_logs
-- row (Claimed), in the caller's transaction. FOR UPDATE SKIP LOCKED plus the status
-- re-check make concurrent evaluators trigger each order once. Malformed or duplicate
-- observations raise 22023 and change nothing.
-- Access path: per observation and condition, one range scan of idx_trigger_orders_active
-- (trigger_type, watched subject, trigger_condition, trigger_value) finds the orders whose
-- threshold is crossed, so a call reads the orders it triggers, not every active order of
-- the observed schemes and clients (1M orders, 1,200 observations: 3,501 rows read instead
-- of a hash join over 800,000 active orders; docs/decisions.md).
-- Depends on: public.trigger_orders, public.automation_execution_logs.
-- Included by 0007_wealth_scheduler_functions.
create or replace function public.evaluate_trigger_orders(
    p_observations jsonb,
    p_now timestamp with time zone default now(),
    p_batch_size integer default 1000,
    p_worker_id text default null
)
returns table (
    execution_log_id uuid,
    trigger_order_id uuid,
    client_id uuid,
    scheme_id uuid,
    target_scheme_id uuid,
    order_type text,
    amount numeric,
    units numeric,
    trigger_type text,
    trigger_condition text,
    trigger_value numeric,
    observed_value numeric
)
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_bad integer;
    v_order record;
    v_log_id uuid;
begin
    if p_now is null then
        raise exception 'p_now must not be null' using errcode = '22004';
    end if;
    if p_batch_size is null or p_batch_size < 1 or p_batch_size > 10000 then
        raise exception 'p_batch_size must be between 1 and 10000, got %', p_batch_size
            using errcode = '22023';
    end if;
    if p_observations is null or pg_catalog.jsonb_typeof(p_observations) <> 'array' then
        raise exception 'p_observations must be a JSON array' using errcode = '22023';
    end if;
    select count(*) into v_bad
    from pg_catalog.jsonb_array_elements(p_observations) as e (obs)
    where pg_catalog.jsonb_typeof(e.obs) <> 'object'
       or coalesce(e.obs ->> 'trigger_type', '') not in ('Price', 'NAV', 'Portfolio Value')
       or pg_catalog.jsonb_typeof(e.obs -> 'value') is distinct from 'number'
       or (e.obs ->> 'trigger_type' in ('Price', 'NAV') and e.obs ->> 'scheme_id' is null)
       or (e.obs ->> 'trigger_type' = 'Portfolio Value' and e.obs ->> 'client_id' is null);
    if v_bad > 0 then
        raise exception '% malformed observation(s): each needs trigger_type, value (number) and scheme_id (Price, NAV) or client_id (Portfolio Value)', v_bad
            using errcode = '22023';
    end if;
    select count(*) into v_bad
    from (
        select e.obs ->> 'trigger_type' as kind,
               case when e.obs ->> 'trigger_type' = 'Portfolio Value'
                    then e.obs ->> 'client_id' else e.obs ->> 'scheme_id' end as subject
        from pg_catalog.jsonb_array_elements(p_observations) as e (obs)
        group by 1, 2
        having count(*) > 1
    ) as dup;
    if v_bad > 0 then
        raise exception '% subject(s) observed more than once in p_observations', v_bad
            using errcode = '22023';
    end if;

    for v_order in
        with o as (
            select e.obs ->> 'trigger_type' as kind,
                   (case when e.obs ->> 'trigger_type' = 'Portfolio Value'
                         then e.obs ->> 'client_id' else e.obs ->> 'scheme_id' end)::uuid as subject,
                   (e.obs ->> 'value')::numeric as value
            from pg_catalog.jsonb_array_elements(p_observations) as e (obs)
        )
        select t.id, t.client_id, t.scheme_id, t.target_scheme_id, t.order_type, t.amount, t.units,
               t.trigger_type, t.trigger_condition, t.trigger_value, o.value as observed
        from public.trigger_orders as t
        inner join o
            on o.kind = t.trigger_type
           and o.subject = (case when t.trigger_type = 'Portfolio Value' then t.client_id else t.scheme_id end)
        where t.id = any (array(
                -- Candidates: per observation, one range scan of idx_trigger_orders_active
                -- (trigger_type, watched subject, trigger_condition, trigger_value) per
                -- condition reads only the orders whose threshold the value has crossed
                -- (equality on trigger_condition, so trigger_value bounds each scan). The
                -- outer query locks them by primary key and re-checks everything.
                select m.id
                from o
                cross join lateral (
                    select a.id
                    from public.trigger_orders as a
                    where a.status = 'Active'
                      and a.trigger_type = o.kind
                      and (case when a.trigger_type = 'Portfolio Value' then a.client_id else a.scheme_id end)
                      = o.subject
                      and a.trigger_condition = 'Greater Than'
                      and a.trigger_value < o.value
                    union all
                    select a.id
                    from public.trigger_orders as a
                    where a.status = 'Active'
                      and a.trigger_type = o.kind
                      and (case when a.trigger_type = 'Portfolio Value' then a.client_id else a.scheme_id end)
                      = o.subject
                      and a.trigger_condition = 'Greater Than Or Equal'
                      and a.trigger_value <= o.value
                    union all
                    select a.id
                    from public.trigger_orders as a
                    where a.status = 'Active'
                      and a.trigger_type = o.kind
                      and (case when a.trigger_type = 'Portfolio Value' then a.client_id else a.scheme_id end)
                      = o.subject
                      and a.trigger_condition = 'Less Than'
                      and a.trigger_value > o.value
                    union all
                    select a.id
                    from public.trigger_orders as a
                    where a.status = 'Active'
                      and a.trigger_type = o.kind
                      and (case when a.trigger_type = 'Portfolio Value' then a.client_id else a.scheme_id end)
                      = o.subject
                      and a.trigger_condition = 'Less Than Or Equal'
                      and a.trigger_value >= o.value
                ) as m
            ))
          and t.status = 'Active'
          and (t.valid_until is null or t.valid_until > p_now)
          and case t.trigger_condition
                when 'Greater Than' then o.value > t.trigger_value
                when 'Greater Than Or Equal' then o.value >= t.trigger_value
                when 'Less Than' then o.value < t.trigger_value
                when 'Less Than Or Equal' then o.value <= t.trigger_value
                else false
              end
        order by t.created_at, t.id
        limit p_batch_size
        for update of t skip locked
    loop
        update public.trigger_orders as t
        set status = 'Triggered',
            triggered_at = p_now,
            triggered_value = v_order.observed
        where t.id = v_order.id;

        insert into public.automation_execution_logs (
            automation_type, client_id, trigger_order_id, status, worker_id, details, started_at
        )
        values (
            'Trigger Order', v_order.client_id, v_order.id, 'Claimed', p_worker_id,
            pg_catalog.jsonb_build_object(
                'trigger_type', v_order.trigger_type,
                'trigger_condition', v_order.trigger_condition,
                'trigger_value', v_order.trigger_value,
                'observed_value', v_order.observed,
                'order_type', v_order.order_type
            ),
            p_now
        )
        returning id into v_log_id;

        execution_log_id := v_log_id;
        trigger_order_id := v_order.id;
        client_id := v_order.client_id;
        scheme_id := v_order.scheme_id;
        target_scheme_id := v_order.target_scheme_id;
        order_type := v_order.order_type;
        amount := v_order.amount;
        units := v_order.units;
        trigger_type := v_order.trigger_type;
        trigger_condition := v_order.trigger_condition;
        trigger_value := v_order.trigger_value;
        observed_value := v_order.observed;
        return next;
    end loop;
end;
$$;
comment on function public.evaluate_trigger_orders(jsonb, timestamp with time zone, integer, text) is
'Scheduler: trigger (Active -> Triggered, once) the active orders whose condition holds for the observed Price/NAV (per scheme) or Portfolio Value (per client); logs one Claimed run per order.';
revoke all on function public.evaluate_trigger_orders(jsonb, timestamp with time zone, integer, text)
from public, anon, authenticated, service_role;
grant execute on function public.evaluate_trigger_orders(jsonb, timestamp with time zone, integer, text)
to service_role;

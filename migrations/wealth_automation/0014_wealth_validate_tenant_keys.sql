-- 0014_wealth_validate_tenant_keys: validates the same-tenant foreign keys 0013 added NOT VALID,
-- then drops the four single-column foreign-key indexes whose column now leads a composite
-- index of 0012; neither blocks the application's writes.
-- Source: issue 13 ("references across tenants"); docs/decisions.md "Same-tenant references".
-- VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE (reads and writes go on) and runs outside a
-- transaction, so the lock 0013 took is long released. A preflight (read-only) first counts the
-- existing rows that point at another client's data and stops with examples; correct them and
-- apply again. Not recorded until every statement succeeded; every statement can run again.
-- Dropped indexes (each a prefix of one that stays, so every lookup it served, the foreign-key
-- actions and the scheduler's reads by rule, uses the composite one; each log insert
-- maintains three indexes fewer):
--   idx_auto_invest_rules_goal_id                           -> idx_auto_invest_rules_goal_id_client_id
--   idx_automation_execution_logs_rebalancing_rule_id       -> idx_automation_execution_logs_rebalancing_rule_id_client_id
--   idx_automation_execution_logs_rebalancing_execution_id  -> idx_automation_execution_logs_rebalancing_execution_id_rule_id
--   idx_automation_execution_logs_trigger_order_id          -> idx_automation_execution_logs_trigger_order_id_client_id
-- Depends on: 0013_wealth_tenant_references (previous migration of this module).
-- transactional: false

do $$
declare
    v_check record;
    v_count bigint;
    v_examples text;
    v_problems text[] := '{}';
begin
    for v_check in
        select * from (values
            ('auto_invest_rules whose goal belongs to another client',
             'select r.id::text from public.auto_invest_rules r join public.goals g on g.id = r.goal_id where g.client_id <> r.client_id'),
            ('automation_execution_logs whose auto-invest rule belongs to another client',
             'select l.id::text from public.automation_execution_logs l join public.auto_invest_rules r on r.id = l.auto_invest_rule_id where r.client_id <> l.client_id'),
            ('automation_execution_logs whose rebalancing rule belongs to another client',
             'select l.id::text from public.automation_execution_logs l join public.rebalancing_rules r on r.id = l.rebalancing_rule_id where r.client_id <> l.client_id'),
            ('automation_execution_logs whose rebalancing execution belongs to another rule',
             'select l.id::text from public.automation_execution_logs l join public.rebalancing_executions x on x.id = l.rebalancing_execution_id where l.rebalancing_rule_id is not null and x.rebalancing_rule_id <> l.rebalancing_rule_id'),
            ('automation_execution_logs whose trigger order belongs to another client',
             'select l.id::text from public.automation_execution_logs l join public.trigger_orders t on t.id = l.trigger_order_id where t.client_id <> l.client_id')
        ) as c (what, query)
    loop
        execute pg_catalog.format(
            'select count(*), string_agg(q.id, '', '') filter (where q.rn <= 5) from (select id, row_number() over (order by id) as rn from (%s) s (id)) q',
            v_check.query)
            into v_count, v_examples;
        if v_count > 0 then
            v_problems := v_problems || pg_catalog.format('%s %s (e.g. %s)', v_count, v_check.what, v_examples);
        end if;
    end loop;
    if cardinality(v_problems) > 0 then
        raise exception using
            errcode = 'foreign_key_violation',
            message = 'preflight for validating the same-tenant keys of 0013_wealth_tenant_references failed: '
                || array_to_string(v_problems, '; ') || '. Nothing was validated; new rows are checked already.',
            hint = 'Each such row points at another client''s data: correct or delete it, then run dbkit apply again.';
    end if;
end
$$;

alter table public.auto_invest_rules validate constraint auto_invest_rules_goal_client_fkey;
alter table public.automation_execution_logs validate constraint automation_execution_logs_auto_invest_rule_client_fkey;
alter table public.automation_execution_logs validate constraint automation_execution_logs_rebalancing_rule_client_fkey;
alter table public.automation_execution_logs
validate constraint automation_execution_logs_rebalancing_execution_rule_fkey;
alter table public.automation_execution_logs validate constraint automation_execution_logs_trigger_order_client_fkey;

drop index concurrently if exists public.idx_auto_invest_rules_goal_id;
drop index concurrently if exists public.idx_automation_execution_logs_rebalancing_rule_id;
drop index concurrently if exists public.idx_automation_execution_logs_rebalancing_execution_id;
drop index concurrently if exists public.idx_automation_execution_logs_trigger_order_id;

-- Rollback of 0014_wealth_validate_tenant_keys: builds the four single-column indexes again
-- (without blocking writes), then returns the five same-tenant keys to the NOT VALID state 0013
-- left, each dropped and added again NOT VALID in one statement, so no moment passes without
-- the key. A build that failed half-way leaves an INVALID index, which the
-- `drop index concurrently if exists` of the next attempt removes.
-- transactional: false

drop index concurrently if exists public.idx_automation_execution_logs_trigger_order_id;
create index concurrently idx_automation_execution_logs_trigger_order_id on public.automation_execution_logs
using btree (trigger_order_id);

drop index concurrently if exists public.idx_automation_execution_logs_rebalancing_execution_id;
create index concurrently idx_automation_execution_logs_rebalancing_execution_id on public.automation_execution_logs
using btree (rebalancing_execution_id);

drop index concurrently if exists public.idx_automation_execution_logs_rebalancing_rule_id;
create index concurrently idx_automation_execution_logs_rebalancing_rule_id on public.automation_execution_logs
using btree (rebalancing_rule_id);

drop index concurrently if exists public.idx_auto_invest_rules_goal_id;
create index concurrently idx_auto_invest_rules_goal_id on public.auto_invest_rules using btree (goal_id);

do $$
begin
    alter table public.automation_execution_logs drop constraint automation_execution_logs_trigger_order_client_fkey;
    alter table public.automation_execution_logs add constraint automation_execution_logs_trigger_order_client_fkey
    foreign key (trigger_order_id, client_id) references public.trigger_orders (id, client_id)
    deferrable initially deferred not valid;
    comment on constraint automation_execution_logs_trigger_order_client_fkey on public.automation_execution_logs is
    'A log names a trigger order of its own client (checked at commit; deleting the order keeps the log).';

    alter table public.automation_execution_logs drop constraint automation_execution_logs_rebalancing_execution_rule_fkey;
    alter table public.automation_execution_logs add constraint automation_execution_logs_rebalancing_execution_rule_fkey
    foreign key (rebalancing_execution_id, rebalancing_rule_id)
    references public.rebalancing_executions (id, rebalancing_rule_id)
    deferrable initially deferred not valid;
    comment on constraint automation_execution_logs_rebalancing_execution_rule_fkey on public.automation_execution_logs is
    'A log names a rebalancing execution of its own rebalancing rule (checked at commit).';

    alter table public.automation_execution_logs drop constraint automation_execution_logs_rebalancing_rule_client_fkey;
    alter table public.automation_execution_logs add constraint automation_execution_logs_rebalancing_rule_client_fkey
    foreign key (rebalancing_rule_id, client_id) references public.rebalancing_rules (id, client_id)
    deferrable initially deferred not valid;
    comment on constraint automation_execution_logs_rebalancing_rule_client_fkey on public.automation_execution_logs is
    'A log names a rebalancing rule of its own client (checked at commit; deleting the rule keeps the log).';

    alter table public.automation_execution_logs drop constraint automation_execution_logs_auto_invest_rule_client_fkey;
    alter table public.automation_execution_logs add constraint automation_execution_logs_auto_invest_rule_client_fkey
    foreign key (auto_invest_rule_id, client_id) references public.auto_invest_rules (id, client_id)
    deferrable initially deferred not valid;
    comment on constraint automation_execution_logs_auto_invest_rule_client_fkey on public.automation_execution_logs is
    'A log names an auto-invest rule of its own client (checked at commit; deleting the rule keeps the log).';

    alter table public.auto_invest_rules drop constraint auto_invest_rules_goal_client_fkey;
    alter table public.auto_invest_rules add constraint auto_invest_rules_goal_client_fkey
    foreign key (goal_id, client_id) references public.goals (id, client_id)
    deferrable initially deferred not valid;
    comment on constraint auto_invest_rules_goal_client_fkey on public.auto_invest_rules is
    'The goal a rule funds is a goal of the rule''s client (checked at commit; auto_invest_rules_goal_id_fkey clears goal_id when the goal goes).';
end
$$;

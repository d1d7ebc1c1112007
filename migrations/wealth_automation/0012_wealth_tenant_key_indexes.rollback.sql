-- Rollback of 0012_wealth_tenant_key_indexes: drops the indexes it built, in reverse order,
-- without blocking writes.
-- transactional: false

drop index concurrently if exists public.idx_automation_execution_logs_trigger_order_id_client_id;
drop index concurrently if exists public.idx_automation_execution_logs_rebalancing_execution_id_rule_id;
drop index concurrently if exists public.idx_automation_execution_logs_rebalancing_rule_id_client_id;
drop index concurrently if exists public.idx_automation_execution_logs_auto_invest_rule_id_client_id;
drop index concurrently if exists public.idx_auto_invest_rules_goal_id_client_id;
drop index concurrently if exists public.trigger_orders_id_client_id_key;
drop index concurrently if exists public.rebalancing_executions_id_rule_id_key;
drop index concurrently if exists public.rebalancing_rules_id_client_id_key;
drop index concurrently if exists public.auto_invest_rules_id_client_id_key;
drop index concurrently if exists public.goals_id_client_id_key;

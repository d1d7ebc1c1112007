-- Rollback of 0003_wealth_rebalancing: drops the policies, triggers and tables (executions
-- before rules, which they reference) and public.is_valid_allocation, which the rules' CHECK
-- uses, last. No CASCADE.
drop policy if exists rebalancing_executions_select_own on public.rebalancing_executions;
drop policy if exists rebalancing_rules_select_own on public.rebalancing_rules;
drop trigger update_rebalancing_executions_updated_at on public.rebalancing_executions;
drop table public.rebalancing_executions;
drop trigger update_rebalancing_rules_updated_at on public.rebalancing_rules;
drop table public.rebalancing_rules;
drop function public.is_valid_allocation(jsonb);

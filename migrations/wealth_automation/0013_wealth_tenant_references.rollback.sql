-- Rollback of 0013_wealth_tenant_references: drops the owner triggers and their function, then
-- the composite foreign keys, in reverse order. The single-column keys of 0002 and 0006 were
-- never touched, and the unique keys stay (0012's). No CASCADE.

drop trigger keep_in_app_notifications_owner on public.in_app_notifications;
drop trigger keep_notification_logs_owner on public.notification_logs;
drop trigger keep_notification_preferences_owner on public.notification_preferences;
drop trigger keep_automation_execution_logs_owner on public.automation_execution_logs;
drop trigger keep_trigger_orders_owner on public.trigger_orders;
drop trigger keep_rebalancing_executions_owner on public.rebalancing_executions;
drop trigger keep_rebalancing_rules_owner on public.rebalancing_rules;
drop trigger keep_auto_invest_rules_owner on public.auto_invest_rules;
drop function public.prevent_owner_change();

alter table public.automation_execution_logs drop constraint automation_execution_logs_trigger_order_client_fkey;
alter table public.automation_execution_logs drop constraint automation_execution_logs_rebalancing_execution_rule_fkey;
alter table public.automation_execution_logs drop constraint automation_execution_logs_rebalancing_rule_client_fkey;
alter table public.automation_execution_logs drop constraint automation_execution_logs_auto_invest_rule_client_fkey;
alter table public.auto_invest_rules drop constraint auto_invest_rules_goal_client_fkey;

-- Rollback of 0013_wealth_tenant_references: drops the owner triggers and their function, then
-- puts the single-column foreign keys of 0002 and 0006 back (same names, same ON DELETE) and
-- drops the composite ones, in reverse order. The unique keys stay (0012's). No CASCADE.

drop trigger keep_in_app_notifications_owner on public.in_app_notifications;
drop trigger keep_notification_logs_owner on public.notification_logs;
drop trigger keep_notification_preferences_owner on public.notification_preferences;
drop trigger keep_automation_execution_logs_owner on public.automation_execution_logs;
drop trigger keep_trigger_orders_owner on public.trigger_orders;
drop trigger keep_rebalancing_executions_owner on public.rebalancing_executions;
drop trigger keep_rebalancing_rules_owner on public.rebalancing_rules;
drop trigger keep_auto_invest_rules_owner on public.auto_invest_rules;
drop function public.prevent_owner_change();

alter table public.automation_execution_logs add constraint automation_execution_logs_trigger_order_id_fkey
foreign key (trigger_order_id) references public.trigger_orders (id) on delete set null;
alter table public.automation_execution_logs drop constraint automation_execution_logs_trigger_order_client_fkey;

alter table public.automation_execution_logs drop constraint automation_execution_logs_rebalancing_execution_rule_fkey;

alter table public.automation_execution_logs add constraint automation_execution_logs_rebalancing_rule_id_fkey
foreign key (rebalancing_rule_id) references public.rebalancing_rules (id) on delete set null;
alter table public.automation_execution_logs drop constraint automation_execution_logs_rebalancing_rule_client_fkey;

alter table public.automation_execution_logs add constraint automation_execution_logs_auto_invest_rule_id_fkey
foreign key (auto_invest_rule_id) references public.auto_invest_rules (id) on delete set null;
alter table public.automation_execution_logs drop constraint automation_execution_logs_auto_invest_rule_client_fkey;

alter table public.auto_invest_rules add constraint auto_invest_rules_goal_id_fkey
foreign key (goal_id) references public.goals (id) on delete set null;
alter table public.auto_invest_rules drop constraint auto_invest_rules_goal_client_fkey;

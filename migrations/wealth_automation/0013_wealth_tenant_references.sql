-- 0013_wealth_tenant_references: references stay inside one client (or user), and rows never
-- move to another owner.
-- Source: issue 13 ("Ownership can be moved", "References across tenants"); docs/decisions.md
-- "Same-tenant references" and "Ownership never moves".
-- 1. Composite foreign keys on (id, owner), using the unique keys of 0012, beside the
--    single-column keys of 0002 and 0006, which stay as they are:
--    * a rule's goal is a goal of the rule's client (was: any goal);
--    * a log's auto-invest rule, rebalancing rule and trigger order belong to the log's client,
--      and its rebalancing execution to its rebalancing rule (was: any row).
--    The single-column keys keep ON DELETE SET NULL of the referencing column (the rule
--    survives its goal; a log survives its rule, order or execution). The composite keys have
--    no action and are DEFERRABLE INITIALLY DEFERRED: they are checked at commit, after the
--    single key cleared the column, so the two never race. The same SQL runs on PostgreSQL
--    14 to 18 (`ON DELETE SET NULL (column)` would need 15), as in strategy_execution 0011 and
--    automations 0009.
-- 2. A trigger per table refuses a changed owner column (public.prevent_owner_change(),
--    42501): auto_invest_rules, rebalancing_rules and trigger_orders (client_id),
--    rebalancing_executions (rebalancing_rule_id), automation_execution_logs (client_id),
--    notification_preferences, notification_logs and in_app_notifications (user_id).
--    clients.user_id stays changeable by service_role (linking a login to a client), and the
--    prerequisite goals table is left alone (it may be the application's); a goal a rule
--    points at cannot change client anyway (the composite key refuses it at commit).
-- The keys are added NOT VALID: new and changed rows are checked from this commit on, and
-- 0014 validates the existing rows without blocking writes (and says which rows break a key).
-- Depends on: 0012_wealth_tenant_key_indexes (previous migration of this module).

-- 1. Same-tenant foreign keys.
alter table public.auto_invest_rules add constraint auto_invest_rules_goal_client_fkey
foreign key (goal_id, client_id) references public.goals (id, client_id)
deferrable initially deferred not valid;
comment on constraint auto_invest_rules_goal_client_fkey on public.auto_invest_rules is
'The goal a rule funds is a goal of the rule''s client (checked at commit; auto_invest_rules_goal_id_fkey clears goal_id when the goal goes).';

alter table public.automation_execution_logs add constraint automation_execution_logs_auto_invest_rule_client_fkey
foreign key (auto_invest_rule_id, client_id) references public.auto_invest_rules (id, client_id)
deferrable initially deferred not valid;
comment on constraint automation_execution_logs_auto_invest_rule_client_fkey on public.automation_execution_logs is
'A log names an auto-invest rule of its own client (checked at commit; deleting the rule keeps the log).';

alter table public.automation_execution_logs add constraint automation_execution_logs_rebalancing_rule_client_fkey
foreign key (rebalancing_rule_id, client_id) references public.rebalancing_rules (id, client_id)
deferrable initially deferred not valid;
comment on constraint automation_execution_logs_rebalancing_rule_client_fkey on public.automation_execution_logs is
'A log names a rebalancing rule of its own client (checked at commit; deleting the rule keeps the log).';

alter table public.automation_execution_logs add constraint automation_execution_logs_rebalancing_execution_rule_fkey
foreign key (rebalancing_execution_id, rebalancing_rule_id)
references public.rebalancing_executions (id, rebalancing_rule_id)
deferrable initially deferred not valid;
comment on constraint automation_execution_logs_rebalancing_execution_rule_fkey on public.automation_execution_logs is
'A log names a rebalancing execution of its own rebalancing rule (checked at commit).';

alter table public.automation_execution_logs add constraint automation_execution_logs_trigger_order_client_fkey
foreign key (trigger_order_id, client_id) references public.trigger_orders (id, client_id)
deferrable initially deferred not valid;
comment on constraint automation_execution_logs_trigger_order_client_fkey on public.automation_execution_logs is
'A log names a trigger order of its own client (checked at commit; deleting the order keeps the log).';

-- 2. Owners never change.
-- include: sql/functions/public.prevent_owner_change.sql

create trigger keep_auto_invest_rules_owner
before update of client_id on public.auto_invest_rules
for each row execute function public.prevent_owner_change('client_id');
comment on trigger keep_auto_invest_rules_owner on public.auto_invest_rules is 'A rule never moves to another client.';

create trigger keep_rebalancing_rules_owner
before update of client_id on public.rebalancing_rules
for each row execute function public.prevent_owner_change('client_id');
comment on trigger keep_rebalancing_rules_owner on public.rebalancing_rules is 'A rule never moves to another client.';

create trigger keep_rebalancing_executions_owner
before update of rebalancing_rule_id on public.rebalancing_executions
for each row execute function public.prevent_owner_change('rebalancing_rule_id');
comment on trigger keep_rebalancing_executions_owner on public.rebalancing_executions is
'An execution never moves to another rule.';

create trigger keep_trigger_orders_owner
before update of client_id on public.trigger_orders
for each row execute function public.prevent_owner_change('client_id');
comment on trigger keep_trigger_orders_owner on public.trigger_orders is 'An order never moves to another client.';

create trigger keep_automation_execution_logs_owner
before update of client_id on public.automation_execution_logs
for each row execute function public.prevent_owner_change('client_id');
comment on trigger keep_automation_execution_logs_owner on public.automation_execution_logs is
'A log never moves to another client.';

create trigger keep_notification_preferences_owner
before update of user_id on public.notification_preferences
for each row execute function public.prevent_owner_change('user_id');
comment on trigger keep_notification_preferences_owner on public.notification_preferences is
'A preference never moves to another user.';

create trigger keep_notification_logs_owner
before update of user_id on public.notification_logs
for each row execute function public.prevent_owner_change('user_id');
comment on trigger keep_notification_logs_owner on public.notification_logs is
'A delivery log never moves to another user.';

create trigger keep_in_app_notifications_owner
before update of user_id on public.in_app_notifications
for each row execute function public.prevent_owner_change('user_id');
comment on trigger keep_in_app_notifications_owner on public.in_app_notifications is
'A notification never moves to another user.';

-- 0012_wealth_tenant_key_indexes: the unique (id, owner) keys that same-tenant foreign keys
-- reference, and the indexes that cover those foreign keys, built CONCURRENTLY so populated
-- tables keep taking writes. 0013 adds the foreign keys; 0014 drops the single-column indexes
-- these supersede.
-- Source: issue 13 ("references across tenants": composite foreign keys on (id, owner));
-- docs/decisions.md "Same-tenant references".
-- (id, owner) is unique because id is: each key costs one more index on the parent and
-- lets a child say "this row, of this owner", which a plain FK on id cannot.
--   goals (id, client_id)                          <- auto_invest_rules (goal_id, client_id)
--   auto_invest_rules (id, client_id)              <- automation_execution_logs (auto_invest_rule_id, client_id)
--   rebalancing_rules (id, client_id)              <- automation_execution_logs (rebalancing_rule_id, client_id)
--   rebalancing_executions (id, rebalancing_rule_id) <- automation_execution_logs (rebalancing_execution_id, rebalancing_rule_id)
--   trigger_orders (id, client_id)                 <- automation_execution_logs (trigger_order_id, client_id)
-- On a database where 0001 was baselined, goals is the application's table: it gets one
-- index, nothing else (the module now needs goals(id, client_id), see decisions).
-- Not recorded until every statement succeeded; a build that failed half-way leaves an
-- INVALID index, which the `drop index concurrently if exists` of the next attempt removes.
-- Depends on: 0011 (previous migration of this module).
-- transactional: false

drop index concurrently if exists public.goals_id_client_id_key;
create unique index concurrently goals_id_client_id_key on public.goals using btree (id, client_id);
comment on index public.goals_id_client_id_key is
'Referenced by auto_invest_rules (goal_id, client_id): a rule funds only a goal of its own client.';

drop index concurrently if exists public.auto_invest_rules_id_client_id_key;
create unique index concurrently auto_invest_rules_id_client_id_key on public.auto_invest_rules
using btree (id, client_id);
comment on index public.auto_invest_rules_id_client_id_key is
'Referenced by automation_execution_logs (auto_invest_rule_id, client_id): a log names a rule of its own client.';

drop index concurrently if exists public.rebalancing_rules_id_client_id_key;
create unique index concurrently rebalancing_rules_id_client_id_key on public.rebalancing_rules
using btree (id, client_id);
comment on index public.rebalancing_rules_id_client_id_key is
'Referenced by automation_execution_logs (rebalancing_rule_id, client_id): a log names a rule of its own client.';

drop index concurrently if exists public.rebalancing_executions_id_rule_id_key;
create unique index concurrently rebalancing_executions_id_rule_id_key on public.rebalancing_executions
using btree (id, rebalancing_rule_id);
comment on index public.rebalancing_executions_id_rule_id_key is
'Referenced by automation_execution_logs (rebalancing_execution_id, rebalancing_rule_id): a log names an execution of its own rule.';

drop index concurrently if exists public.trigger_orders_id_client_id_key;
create unique index concurrently trigger_orders_id_client_id_key on public.trigger_orders
using btree (id, client_id);
comment on index public.trigger_orders_id_client_id_key is
'Referenced by automation_execution_logs (trigger_order_id, client_id): a log names an order of its own client.';

drop index concurrently if exists public.idx_auto_invest_rules_goal_id_client_id;
create index concurrently idx_auto_invest_rules_goal_id_client_id on public.auto_invest_rules
using btree (goal_id, client_id);

drop index concurrently if exists public.idx_automation_execution_logs_auto_invest_rule_id_client_id;
create index concurrently idx_automation_execution_logs_auto_invest_rule_id_client_id
on public.automation_execution_logs using btree (auto_invest_rule_id, client_id);

drop index concurrently if exists public.idx_automation_execution_logs_rebalancing_rule_id_client_id;
create index concurrently idx_automation_execution_logs_rebalancing_rule_id_client_id
on public.automation_execution_logs using btree (rebalancing_rule_id, client_id);

drop index concurrently if exists public.idx_automation_execution_logs_rebalancing_execution_id_rule_id;
create index concurrently idx_automation_execution_logs_rebalancing_execution_id_rule_id
on public.automation_execution_logs using btree (rebalancing_execution_id, rebalancing_rule_id);

drop index concurrently if exists public.idx_automation_execution_logs_trigger_order_id_client_id;
create index concurrently idx_automation_execution_logs_trigger_order_id_client_id
on public.automation_execution_logs using btree (trigger_order_id, client_id);

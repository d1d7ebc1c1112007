-- public.rebalancing_executions: RLS switch-on and policies (seed 000; decision: clients see
-- the executions of their own rules; writes, including confirming a pending execution, go
-- through the API as service_role).
-- Uses idx_rebalancing_executions_rule_id, idx_rebalancing_rules_client_id, idx_clients_user_id.
-- Included by: migrations/wealth_automation/0003_wealth_rebalancing.sql
alter table public.rebalancing_executions enable row level security;

drop policy if exists rebalancing_executions_select_own on public.rebalancing_executions;
create policy rebalancing_executions_select_own on public.rebalancing_executions
for select to authenticated
using (
    rebalancing_rule_id in (
        select r.id
        from public.rebalancing_rules as r
        inner join public.clients as c on r.client_id = c.id
        where c.user_id = (select auth.uid())
    )
);
comment on policy rebalancing_executions_select_own on public.rebalancing_executions is
'A user reads the rebalancing executions of their own clients'' rules.';

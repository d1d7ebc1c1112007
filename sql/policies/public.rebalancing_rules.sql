-- public.rebalancing_rules: RLS switch-on and policies (seed 000; decision: clients see their
-- own rules through the users/clients link; writes are service_role only).
-- Uses idx_rebalancing_rules_client_id and idx_clients_user_id.
-- Included by: migrations/wealth_automation/0003_wealth_rebalancing.sql
alter table public.rebalancing_rules enable row level security;

drop policy if exists rebalancing_rules_select_own on public.rebalancing_rules;
create policy rebalancing_rules_select_own on public.rebalancing_rules
for select to authenticated
using (
    client_id in (
        select c.id from public.clients as c
        where c.user_id = (select auth.uid())
    )
);
comment on policy rebalancing_rules_select_own on public.rebalancing_rules is
'A user reads the rebalancing rules of the clients linked to their login.';

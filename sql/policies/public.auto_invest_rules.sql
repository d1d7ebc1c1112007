-- public.auto_invest_rules: RLS switch-on and policies (seed 000; decision: clients see
-- their own rules through the users/clients link, every write is service_role only because
-- the API validates scheme, amount and mandate before it creates or changes a rule).
-- Uses idx_auto_invest_rules_client_id and idx_clients_user_id.
-- Included by: migrations/wealth_automation/0002_wealth_auto_invest_rules.sql
alter table public.auto_invest_rules enable row level security;

drop policy if exists auto_invest_rules_select_own on public.auto_invest_rules;
create policy auto_invest_rules_select_own on public.auto_invest_rules
for select to authenticated
using (
    client_id in (
        select c.id from public.clients as c
        where c.user_id = (select auth.uid())
    )
);
comment on policy auto_invest_rules_select_own on public.auto_invest_rules is
'A user reads the auto-invest rules of the clients linked to their login.';

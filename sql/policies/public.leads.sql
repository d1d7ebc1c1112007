-- public.leads: account members see and manage the account's leads.
-- Source: not listed by seed 004 (leads is only referenced); an account-scoped table the
--   app reads as authenticated, so it gets the same rule as automations:
--   has_account_access(user_id), in its set form
--   `user_id = any(array(select public.accessible_account_ids()))`, evaluated once per
--   statement (docs/decisions.md). Backed by idx_leads_user. service_role bypasses RLS.
-- Tenant isolation (docs/security.md): user_id is not updatable by authenticated (column
--   privileges, 0009_automations_tenant_isolation), so a lead never moves to another
--   account, and a lead's agent must belong to the lead's account. That check runs before
--   the foreign keys, so another account's agent and an agent id that does not exist are
--   refused alike (42501); leads_agent_same_account_fkey enforces it for every writer.
-- Included by: migrations/automations/0002_automations_account_access.sql

alter table public.leads enable row level security;

drop policy if exists leads_select_account on public.leads;
create policy leads_select_account on public.leads
    for select to authenticated
    using (user_id = any(array(select public.accessible_account_ids())));
comment on policy leads_select_account on public.leads is 'Account members see the account''s leads.';

drop policy if exists leads_insert_account on public.leads;
create policy leads_insert_account on public.leads
    for insert to authenticated
    with check (
        user_id = any(array(select public.accessible_account_ids()))
        and (leads.agent_id is null or exists (
            select 1 from public.agents as ag
            where ag.id = leads.agent_id and ag.user_id = leads.user_id
        ))
    );
comment on policy leads_insert_account on public.leads is 'Account members create leads in the account, on an agent of the same account.';

drop policy if exists leads_update_account on public.leads;
create policy leads_update_account on public.leads
    for update to authenticated
    using (user_id = any(array(select public.accessible_account_ids())))
    with check (
        user_id = any(array(select public.accessible_account_ids()))
        and (leads.agent_id is null or exists (
            select 1 from public.agents as ag
            where ag.id = leads.agent_id and ag.user_id = leads.user_id
        ))
    );
comment on policy leads_update_account on public.leads is 'Account members update the account''s leads, keeping them on an agent of the same account.';

drop policy if exists leads_delete_account on public.leads;
create policy leads_delete_account on public.leads
    for delete to authenticated
    using (user_id = any(array(select public.accessible_account_ids())));
comment on policy leads_delete_account on public.leads is 'Account members delete the account''s leads.';

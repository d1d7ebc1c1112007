-- public.leads: account members see and manage the account's leads.
-- Source: not listed by seed 004 (leads is only referenced); an account-scoped table the
--   app reads as authenticated, so it gets the same rule as automations:
--   has_account_access(user_id), in its set form
--   `user_id = any(array(select public.accessible_account_ids()))`, evaluated once per
--   statement (docs/decisions.md). Backed by idx_leads_user. service_role bypasses RLS.
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
    with check (user_id = any(array(select public.accessible_account_ids())));
comment on policy leads_insert_account on public.leads is 'Account members create leads in the account.';

drop policy if exists leads_update_account on public.leads;
create policy leads_update_account on public.leads
    for update to authenticated
    using (user_id = any(array(select public.accessible_account_ids())))
    with check (user_id = any(array(select public.accessible_account_ids())));
comment on policy leads_update_account on public.leads is 'Account members update the account''s leads and cannot move them to an account they cannot access.';

drop policy if exists leads_delete_account on public.leads;
create policy leads_delete_account on public.leads
    for delete to authenticated
    using (user_id = any(array(select public.accessible_account_ids())));
comment on policy leads_delete_account on public.leads is 'Account members delete the account''s leads.';

-- public.agents: account members see and manage the account's agents.
-- Source: not listed by seed 004; enabled because authenticated needs SELECT on agents for
--   the agent-ownership check of the automations insert policy, and that grant without RLS
--   would show every user every agent. Same rule as automations: has_account_access(user_id),
--   in its set form `user_id = any(array(select public.accessible_account_ids()))`,
--   evaluated once per statement (docs/decisions.md).
-- Backed by idx_agents_user. service_role bypasses RLS.
-- Included by: migrations/automations/0002_automations_account_access.sql

alter table public.agents enable row level security;

drop policy if exists agents_select_account on public.agents;
create policy agents_select_account on public.agents
    for select to authenticated
    using (user_id = any(array(select public.accessible_account_ids())));
comment on policy agents_select_account on public.agents is 'Account members see the account''s agents.';

drop policy if exists agents_insert_account on public.agents;
create policy agents_insert_account on public.agents
    for insert to authenticated
    with check (user_id = any(array(select public.accessible_account_ids())));
comment on policy agents_insert_account on public.agents is 'Account members create agents in the account.';

drop policy if exists agents_update_account on public.agents;
create policy agents_update_account on public.agents
    for update to authenticated
    using (user_id = any(array(select public.accessible_account_ids())))
    with check (user_id = any(array(select public.accessible_account_ids())));
comment on policy agents_update_account on public.agents is 'Account members update the account''s agents and cannot move them to an account they cannot access.';

drop policy if exists agents_delete_account on public.agents;
create policy agents_delete_account on public.agents
    for delete to authenticated
    using (user_id = any(array(select public.accessible_account_ids())));
comment on policy agents_delete_account on public.agents is 'Account members delete the account''s agents.';

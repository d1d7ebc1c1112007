-- public.agents: every user of an account sees the account's agents; its owner and admins
-- create, rename and delete them.
-- Source: not listed by seed 004; enabled because authenticated needs SELECT on agents for
--   the agent-ownership check of the automations insert policy, and that grant without RLS
--   would show every user every agent. Reading is the same rule as automations:
--   has_account_access(user_id), in its set form
--   `user_id = any(array(select public.accessible_account_ids()))`, evaluated once per
--   statement (docs/decisions.md). Writing needs the owner or an admin of the account
--   (account_members.role = 'admin'): deleting an agent deletes its automations and
--   conversations, so plain members do not (docs/security.md). The admin list is read from
--   the caller's own membership rows, which the account_members policies show them.
-- user_id is not updatable by authenticated (column privileges,
--   0009_automations_tenant_isolation): an agent never moves to another account.
-- Backed by idx_agents_user and idx_account_members_user. service_role bypasses RLS.
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
    with check (user_id = any(array(
        select (select auth.uid())
        union all
        select m.account_id
        from public.account_members as m
        where m.user_id = (select auth.uid())
          and m.role = 'admin'
    )));
comment on policy agents_insert_account on public.agents is 'The account owner and its admins create agents in the account.';

drop policy if exists agents_update_account on public.agents;
create policy agents_update_account on public.agents
    for update to authenticated
    using (user_id = any(array(
        select (select auth.uid())
        union all
        select m.account_id
        from public.account_members as m
        where m.user_id = (select auth.uid())
          and m.role = 'admin'
    )))
    with check (user_id = any(array(
        select (select auth.uid())
        union all
        select m.account_id
        from public.account_members as m
        where m.user_id = (select auth.uid())
          and m.role = 'admin'
    )));
comment on policy agents_update_account on public.agents is 'The account owner and its admins update the account''s agents.';

drop policy if exists agents_delete_account on public.agents;
create policy agents_delete_account on public.agents
    for delete to authenticated
    using (user_id = any(array(
        select (select auth.uid())
        union all
        select m.account_id
        from public.account_members as m
        where m.user_id = (select auth.uid())
          and m.role = 'admin'
    )));
comment on policy agents_delete_account on public.agents is 'The account owner and its admins delete the account''s agents.';

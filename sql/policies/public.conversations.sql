-- public.conversations: account members see and manage the conversations of the account's agents.
-- Source: not listed by seed 004 (conversations is only referenced); its account is the
--   owner of its agent, as in fire_conversation_automations ("Get account owner from agent").
--   The account check is the set form of has_account_access(ag.user_id):
--   `ag.user_id = any(array(select public.accessible_account_ids()))`, evaluated once per
--   statement (docs/decisions.md).
--   Backed by idx_conversations_agent and the agents primary key. service_role bypasses RLS.
-- Tenant isolation (docs/security.md): agent_id is not updatable by authenticated (column
--   privileges, 0009_automations_tenant_isolation), so a conversation never moves to
--   another account, and its lead must belong to the agent's account. The check runs before
--   the foreign keys, so another account's lead and a lead id that does not exist are
--   refused alike (42501).
-- Included by: migrations/automations/0002_automations_account_access.sql

alter table public.conversations enable row level security;

drop policy if exists conversations_select_account on public.conversations;
create policy conversations_select_account on public.conversations
    for select to authenticated
    using (exists (
        select 1 from public.agents as ag
        where ag.id = conversations.agent_id
          and ag.user_id = any(array(select public.accessible_account_ids()))
    ));
comment on policy conversations_select_account on public.conversations is 'Account members see the conversations of the account''s agents.';

drop policy if exists conversations_insert_account on public.conversations;
create policy conversations_insert_account on public.conversations
    for insert to authenticated
    with check (
        exists (
            select 1 from public.agents as ag
            where ag.id = conversations.agent_id
              and ag.user_id = any(array(select public.accessible_account_ids()))
        )
        and (conversations.lead_id is null or exists (
            select 1
            from public.leads as l
            inner join public.agents as ag on ag.id = conversations.agent_id
            where l.id = conversations.lead_id and l.user_id = ag.user_id
        ))
    );
comment on policy conversations_insert_account on public.conversations is 'Account members open conversations on the account''s agents, with a lead of the same account.';

drop policy if exists conversations_update_account on public.conversations;
create policy conversations_update_account on public.conversations
    for update to authenticated
    using (exists (
        select 1 from public.agents as ag
        where ag.id = conversations.agent_id
          and ag.user_id = any(array(select public.accessible_account_ids()))
    ))
    with check (
        exists (
            select 1 from public.agents as ag
            where ag.id = conversations.agent_id
              and ag.user_id = any(array(select public.accessible_account_ids()))
        )
        and (conversations.lead_id is null or exists (
            select 1
            from public.leads as l
            inner join public.agents as ag on ag.id = conversations.agent_id
            where l.id = conversations.lead_id and l.user_id = ag.user_id
        ))
    );
comment on policy conversations_update_account on public.conversations is 'Account members update the account''s conversations, keeping a lead of the same account.';

drop policy if exists conversations_delete_account on public.conversations;
create policy conversations_delete_account on public.conversations
    for delete to authenticated
    using (exists (
        select 1 from public.agents as ag
        where ag.id = conversations.agent_id
          and ag.user_id = any(array(select public.accessible_account_ids()))
    ));
comment on policy conversations_delete_account on public.conversations is 'Account members delete the account''s conversations.';

-- public.automations: account members view, create, update and delete the account's automations.
-- Source: seed 004 "RLS Policies" / "automations Policies" (policy names kept verbatim).
-- Changes from the document (docs/decisions.md):
--   * explicit `to authenticated` (anon gets nothing; service_role bypasses RLS);
--   * the agent check is `exists` on the agents primary key and requires the agent to
--     belong to the same account as the automation, instead of `agent_id in (select id
--     from agents where has_account_access(agents.user_id))`, which evaluates the function
--     for every agent of every account and lets an automation of account A use an agent of B;
--   * the update policy repeats the agent check in WITH CHECK, so an update cannot move an
--     automation onto another account's agent (the document checks agents on insert only);
--   * the document's has_account_access(user_id) is written in its set form,
--     `user_id = any(array(select public.accessible_account_ids()))`: the array is an
--     uncorrelated sub-select, evaluated once per statement (InitPlan) and usable as an
--     index condition on idx_automations_user, where has_account_access(user_id) (bare or
--     wrapped in a correlated (select ...)) runs once per row. Same rule:
--     has_account_access is defined in terms of accessible_account_ids().
-- Backed by idx_automations_user and the agents primary key.
-- Included by: migrations/automations/0003_automations_tables.sql

alter table public.automations enable row level security;

drop policy if exists "Users can view automations in their account" on public.automations;
create policy "Users can view automations in their account" on public.automations
    for select to authenticated
    using (user_id = any(array(select public.accessible_account_ids())));
comment on policy "Users can view automations in their account" on public.automations is
'Select: account members can view.';

drop policy if exists "Users can create automations in their account" on public.automations;
create policy "Users can create automations in their account" on public.automations
    for insert to authenticated
    with check (
        user_id = any(array(select public.accessible_account_ids()))
        and exists (
            select 1 from public.agents as ag
            where ag.id = automations.agent_id and ag.user_id = automations.user_id
        )
    );
comment on policy "Users can create automations in their account" on public.automations is
'Insert: account members can create, on an agent of the same account.';

drop policy if exists "Users can update automations in their account" on public.automations;
create policy "Users can update automations in their account" on public.automations
    for update to authenticated
    using (user_id = any(array(select public.accessible_account_ids())))
    with check (
        user_id = any(array(select public.accessible_account_ids()))
        and exists (
            select 1 from public.agents as ag
            where ag.id = automations.agent_id and ag.user_id = automations.user_id
        )
    );
comment on policy "Users can update automations in their account" on public.automations is
'Update: account members can update, keeping the automation on an agent of its account.';

drop policy if exists "Users can delete automations in their account" on public.automations;
create policy "Users can delete automations in their account" on public.automations
    for delete to authenticated
    using (user_id = any(array(select public.accessible_account_ids())));
comment on policy "Users can delete automations in their account" on public.automations is
'Delete: account members can delete.';

-- public.automation_executions: account members view and delete the executions of the
-- account's automations. There is deliberately no INSERT and no UPDATE policy: only the
-- service role (BYPASSRLS, the edge functions) writes executions; authenticated is not
-- even granted INSERT/UPDATE, and would still be refused by RLS if a platform default
-- grant gave it them.
-- Source: seed 004 "automation_executions Policies" (policy names kept verbatim).
-- Changes from the document (docs/decisions.md):
--   * `exists` on the automations primary key instead of
--     `automation_id in (select id from automations where has_account_access(user_id))`,
--     whose uncorrelated sub-select runs has_account_access for every automation in the
--     table on each query;
--   * the account check is the set form of has_account_access,
--     `a.user_id = any(array(select public.accessible_account_ids()))`: the accounts are
--     computed once per statement (InitPlan), not once per row.
-- Backed by idx_executions_automation, the automations primary key and idx_automations_user.
-- Included by: migrations/automations/0003_automations_tables.sql

alter table public.automation_executions enable row level security;

drop policy if exists "Users can view executions for their automations" on public.automation_executions;
create policy "Users can view executions for their automations" on public.automation_executions
    for select to authenticated
    using (exists (
        select 1 from public.automations as a
        where a.id = automation_executions.automation_id
          and a.user_id = any(array(select public.accessible_account_ids()))
    ));
comment on policy "Users can view executions for their automations" on public.automation_executions is
'Select: account members can view executions via the automation.';

drop policy if exists "Users can delete executions for their automations" on public.automation_executions;
create policy "Users can delete executions for their automations" on public.automation_executions
    for delete to authenticated
    using (exists (
        select 1 from public.automations as a
        where a.id = automation_executions.automation_id
          and a.user_id = any(array(select public.accessible_account_ids()))
    ));
comment on policy "Users can delete executions for their automations" on public.automation_executions is
'Delete: account members can delete old executions via the automation.';

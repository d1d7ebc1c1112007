-- public.automation_executions: account members view and delete the executions of the
-- account's automations. There is deliberately no INSERT and no UPDATE policy: only the
-- service role (BYPASSRLS, the edge functions) writes executions; authenticated is not
-- even granted INSERT/UPDATE, and would still be refused by RLS if a platform default
-- grant gave it them.
-- Source: seed 004 "automation_executions Policies" (policy names kept verbatim).
-- Changes from the document (docs/decisions.md):
--   * the document's `automation_id in (select id from automations where
--     has_account_access(user_id))` is written `automation_id = any(array(select a.id from
--     automations a))`: the ids of the automations the caller can see, computed once per
--     statement (an InitPlan) and probed in idx_executions_automation. A read of executions
--     costs what the caller's own automations and executions cost, whatever the table holds:
--     "my latest 50" reads the caller's executions and sorts them, where the previous
--     per-row `exists` walked idx_executions_started backwards through everyone's rows until
--     50 visible ones turned up (issue 19; 0011_automations_scale_paths; docs/benchmarks.md).
--     The document's form runs has_account_access for every automation in the table on each
--     query.
--   * the account rule comes from the automations SELECT policy, which PostgreSQL applies to
--     the sub-select (it reads public.automations as the caller): `user_id =
--     any(array(select public.accessible_account_ids()))`, the set form of the document's
--     has_account_access(user_id). Written once, the caller's accounts are looked up once per
--     statement; the form before (issue 19, second round) repeated the filter here, and the
--     statement looked the accounts up twice (docs/benchmarks.md, "Issue 19").
-- Same rows as the document for every caller the policy applies to (authenticated): the
-- automations they can see are those of their accounts. service_role bypasses RLS.
-- Backed by idx_executions_automation and idx_automations_user.
-- Included by: migrations/automations/0003_automations_tables.sql

alter table public.automation_executions enable row level security;

drop policy if exists "Users can view executions for their automations" on public.automation_executions;
create policy "Users can view executions for their automations" on public.automation_executions
    for select to authenticated
    using (automation_id = any(array(
        select a.id from public.automations as a
    )));
comment on policy "Users can view executions for their automations" on public.automation_executions is
'Select: account members can view executions via the automation.';

drop policy if exists "Users can delete executions for their automations" on public.automation_executions;
create policy "Users can delete executions for their automations" on public.automation_executions
    for delete to authenticated
    using (automation_id = any(array(
        select a.id from public.automations as a
    )));
comment on policy "Users can delete executions for their automations" on public.automation_executions is
'Delete: account members can delete old executions via the automation.';

-- public.workflow_executions: owners read the runs of their own strategies; only the
-- executor (service_role, BYPASSRLS) writes them.
-- Source: seed 003 §1.4 (referenced) and "Service Role Access".
-- Ownership: workflow_id = any(array of the user's strategy ids), computed once per
-- statement (InitPlan, idx_workflow_sessions_user) and used as an index condition on
-- idx_workflow_executions_workflow, so listing one's runs does not scan the whole table
-- (the EXISTS form is a per-row subplan there). Same rows as EXISTS: ws.id is the primary
-- key and workflow_id is NOT NULL.
-- Included by: migrations/strategy_execution/0001_strategy_base_tables.sql

alter table public.workflow_executions enable row level security;

drop policy if exists workflow_executions_select_own on public.workflow_executions;
create policy workflow_executions_select_own on public.workflow_executions
    for select to authenticated
    using (
        workflow_executions.workflow_id = any(array(
            select ws.id
            from public.workflow_sessions as ws
            where ws.user_id = (select auth.uid())
        ))
    );
comment on policy workflow_executions_select_own on public.workflow_executions is 'Users see runs of their own strategies only.';

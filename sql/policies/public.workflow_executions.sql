-- public.workflow_executions: owners read the runs of their own strategies and may start
-- and finish runs of their own strategies (a manual run from the browser, whose node logs
-- the owner writes too: seed 003 §1.4 "Service role/owner can INSERT/UPDATE execution
-- logs"); the executor (service_role, BYPASSRLS) writes every run.
-- Source: seed 003 §1.4 (referenced) and "Service Role Access".
-- Owners write only the columns granted in 0010_strategy_document_contracts; workflow_id is
-- not updatable, so a run never moves to another strategy.
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

drop policy if exists workflow_executions_insert_own on public.workflow_executions;
create policy workflow_executions_insert_own on public.workflow_executions
    for insert to authenticated
    with check (
        exists (
            select 1
            from public.workflow_sessions as ws
            where ws.id = workflow_executions.workflow_id
                and ws.user_id = (select auth.uid())
        )
    );
comment on policy workflow_executions_insert_own on public.workflow_executions is 'Users start runs of their own strategies only (manual runs).';

drop policy if exists workflow_executions_update_own on public.workflow_executions;
create policy workflow_executions_update_own on public.workflow_executions
    for update to authenticated
    using (
        workflow_executions.workflow_id = any(array(
            select ws.id
            from public.workflow_sessions as ws
            where ws.user_id = (select auth.uid())
        ))
    )
    with check (
        workflow_executions.workflow_id = any(array(
            select ws.id
            from public.workflow_sessions as ws
            where ws.user_id = (select auth.uid())
        ))
    );
comment on policy workflow_executions_update_own on public.workflow_executions is 'Users finish runs of their own strategies only.';

-- public.workflow_executions: owners read the runs of their own strategies; only the
-- executor (service_role, BYPASSRLS) writes them.
-- Source: seed 003 §1.4 (referenced) and "Service Role Access".
-- Ownership through workflow_sessions, backed by idx_workflow_sessions_id_user (0003) /
-- the primary key, and idx_workflow_executions_workflow.
-- Included by: migrations/strategy_execution/0001_strategy_base_tables.sql

alter table public.workflow_executions enable row level security;

drop policy if exists workflow_executions_select_own on public.workflow_executions;
create policy workflow_executions_select_own on public.workflow_executions
    for select to authenticated
    using (
        exists (
            select 1
            from public.workflow_sessions as ws
            where ws.id = workflow_executions.workflow_id
                and ws.user_id = (select auth.uid())
        )
    );
comment on policy workflow_executions_select_own on public.workflow_executions is 'Users see runs of their own strategies only.';

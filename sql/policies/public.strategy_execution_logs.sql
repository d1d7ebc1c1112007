-- public.strategy_execution_logs: users SELECT logs of their own strategies; the executor
-- (service_role) and the strategy's owner INSERT and UPDATE them, the owner only for their
-- own strategies (a manual run from the browser logs its nodes as the user).
-- Source: seed 003 §1.4 "RLS Policies": "Users can SELECT logs for their own strategies",
-- "Service role/owner can INSERT execution logs", "Service role/owner can UPDATE execution
-- logs". Policy names are those of the document's application (20251026000003), see
-- docs/conformance.md.
-- Changed from the seed: (select auth.uid()) and "to authenticated" on every policy.
-- service_role has BYPASSRLS on Supabase and in the platform shim, so these policies are the
-- owner half of "service role/owner"; the executor is not filtered by them.
-- Owners write only the columns granted in 0010_strategy_document_contracts (not
-- workflow_id / execution_id on UPDATE, never duration_ms, which the trigger computes). An
-- inserted row's run must be a run of the same strategy: the check runs before the foreign
-- keys, so another user's run id and an id that does not exist are refused alike (42501).
-- Ownership: workflow_id = any(array of the user's strategy ids), computed once per
-- statement (InitPlan, idx_workflow_sessions_user) and used as an index condition on
-- workflow_id, so a read without a workflow_id filter does not scan the whole table (the
-- EXISTS form is a per-row subplan there, estimated above jit_above_cost). Same rows as
-- EXISTS: ws.id is the primary key and workflow_id is NOT NULL.
-- Included by: migrations/strategy_execution/0006_strategy_execution_logs.sql

alter table public.strategy_execution_logs enable row level security;

-- The names dbkit used before it restored the document's (0010_strategy_document_contracts).
drop policy if exists strategy_execution_logs_select_own on public.strategy_execution_logs;
drop policy if exists strategy_execution_logs_insert_service on public.strategy_execution_logs;
drop policy if exists strategy_execution_logs_update_service on public.strategy_execution_logs;

drop policy if exists "Users can view own strategy execution logs" on public.strategy_execution_logs;
create policy "Users can view own strategy execution logs" on public.strategy_execution_logs
    for select to authenticated
    using (
        strategy_execution_logs.workflow_id = any(array(
            select ws.id
            from public.workflow_sessions as ws
            where ws.user_id = (select auth.uid())
        ))
    );
comment on policy "Users can view own strategy execution logs" on public.strategy_execution_logs is
    'Users view logs of their own strategies.';

drop policy if exists "Service role can insert execution logs" on public.strategy_execution_logs;
create policy "Service role can insert execution logs" on public.strategy_execution_logs
    for insert to authenticated
    with check (
        exists (
            select 1
            from public.workflow_sessions as ws
            where ws.id = strategy_execution_logs.workflow_id
                and ws.user_id = (select auth.uid())
        )
        and exists (
            select 1
            from public.workflow_executions as e
            where e.id = strategy_execution_logs.execution_id
                and e.workflow_id = strategy_execution_logs.workflow_id
        )
    );
comment on policy "Service role can insert execution logs" on public.strategy_execution_logs is
    'Service role/owner: the executor (BYPASSRLS) and the strategy''s owner insert logs, the owner only for runs of their own strategies.';

drop policy if exists "Service role can update execution logs" on public.strategy_execution_logs;
create policy "Service role can update execution logs" on public.strategy_execution_logs
    for update to authenticated
    using (
        strategy_execution_logs.workflow_id = any(array(
            select ws.id
            from public.workflow_sessions as ws
            where ws.user_id = (select auth.uid())
        ))
    )
    with check (
        strategy_execution_logs.workflow_id = any(array(
            select ws.id
            from public.workflow_sessions as ws
            where ws.user_id = (select auth.uid())
        ))
    );
comment on policy "Service role can update execution logs" on public.strategy_execution_logs is
    'Service role/owner: the executor (BYPASSRLS) and the strategy''s owner complete logs, the owner only of their own strategies.';

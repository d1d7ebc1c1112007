-- public.strategy_execution_logs: users SELECT logs of their own strategies; the executor
-- (service_role) inserts and updates them. Users cannot write logs (no grant: 42501).
-- Source: seed 003 §1.4 "RLS Policies".
-- Changed from the seed: (select auth.uid()) and "to <role>" on every policy; the seed's
-- "service role/owner can INSERT/UPDATE" is scoped to service_role instead of a
-- `with check (true)` open to every role. service_role has BYPASSRLS on Supabase and in the
-- platform shim, so its two policies only state the intent and keep working without it.
-- Ownership: workflow_id = any(array of the user's strategy ids), computed once per
-- statement (InitPlan, idx_workflow_sessions_user) and used as an index condition on
-- workflow_id, so a read without a workflow_id filter does not scan the whole table (the
-- EXISTS form is a per-row subplan there, estimated above jit_above_cost). Same rows as
-- EXISTS: ws.id is the primary key and workflow_id is NOT NULL.
-- Included by: migrations/strategy_execution/0006_strategy_execution_logs.sql

alter table public.strategy_execution_logs enable row level security;

drop policy if exists strategy_execution_logs_select_own on public.strategy_execution_logs;
create policy strategy_execution_logs_select_own on public.strategy_execution_logs
    for select to authenticated
    using (
        strategy_execution_logs.workflow_id = any(array(
            select ws.id
            from public.workflow_sessions as ws
            where ws.user_id = (select auth.uid())
        ))
    );
comment on policy strategy_execution_logs_select_own on public.strategy_execution_logs is 'Users view logs of their own strategies.';

drop policy if exists strategy_execution_logs_insert_service on public.strategy_execution_logs;
create policy strategy_execution_logs_insert_service on public.strategy_execution_logs
    for insert to service_role
    with check (true);
comment on policy strategy_execution_logs_insert_service on public.strategy_execution_logs is 'The executor (service_role) writes execution logs.';

drop policy if exists strategy_execution_logs_update_service on public.strategy_execution_logs;
create policy strategy_execution_logs_update_service on public.strategy_execution_logs
    for update to service_role
    using (true)
    with check (true);
comment on policy strategy_execution_logs_update_service on public.strategy_execution_logs is 'The executor (service_role) completes execution logs.';

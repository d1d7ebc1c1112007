-- Rollback of 0009_strategy_tenant_keys: restores idx_workflow_sessions_id_user and drops the
-- two unique keys, without blocking writes.
-- Source: seed 003 §1.1 (0003_strategy_workflow_sessions_indexes made the restored index).
-- transactional: false

drop index concurrently if exists public.idx_workflow_sessions_id_user;

create index concurrently idx_workflow_sessions_id_user on public.workflow_sessions using btree (id, user_id);

comment on index public.idx_workflow_sessions_id_user is
    'RLS ownership subqueries (ws.id = ... and ws.user_id = auth.uid()) as index-only scans.';

drop index concurrently if exists public.workflow_sessions_id_user_id_key;

drop index concurrently if exists public.workflow_executions_id_workflow_id_key;

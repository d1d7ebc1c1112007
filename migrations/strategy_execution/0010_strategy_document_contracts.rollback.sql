-- Rollback of 0010_strategy_document_contracts: drops the same-strategy foreign key and the
-- owners' write grants on strategy_execution_logs and workflow_executions, so only the
-- executor writes them again. The policies stay as their files define them (inert without
-- the grants).
-- Source: seed 003 §1.4.

alter table public.strategy_execution_logs
    drop constraint strategy_execution_logs_execution_same_workflow_fkey;

revoke update (status, output, error_message, completed_at)
    on table public.strategy_execution_logs from authenticated;
revoke insert (id, execution_id, workflow_id, node_id, node_type, status, output, error_message,
               started_at, completed_at)
    on table public.strategy_execution_logs from authenticated;

revoke insert, update on table public.workflow_executions from authenticated;

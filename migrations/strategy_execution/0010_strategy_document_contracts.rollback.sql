-- Rollback of 0010_strategy_document_contracts: drops the same-strategy foreign key and the
-- owners' write grants on strategy_execution_logs and workflow_executions, so only the
-- executor writes them again. The policies stay as their files define them (inert without
-- the grants).
-- metadata becomes NOT NULL again; the rollback refuses while a watchlist row has none.
-- Source: seed 003 §1.2, §1.4.

do $$
declare
    v_rows bigint;
begin
    select count(*) into v_rows from public.strategy_watchlists where metadata is null;
    if v_rows > 0 then
        raise exception 'cannot roll back 0010_strategy_document_contracts: % strategy_watchlists row(s) have metadata NULL, which the previous NOT NULL forbids', v_rows
            using errcode = 'not_null_violation',
                hint = 'Set their metadata to ''{}'' first.';
    end if;
end
$$;
alter table public.strategy_watchlists alter column metadata set not null;

alter table public.strategy_execution_logs
    drop constraint strategy_execution_logs_execution_same_workflow_fkey;

revoke update (status, output, error_message, completed_at)
    on table public.strategy_execution_logs from authenticated;
revoke insert (id, execution_id, workflow_id, node_id, node_type, status, output, error_message,
               started_at, completed_at)
    on table public.strategy_execution_logs from authenticated;

revoke insert, update on table public.workflow_executions from authenticated;

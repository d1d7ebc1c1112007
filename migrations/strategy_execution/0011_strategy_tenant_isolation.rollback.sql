-- Rollback of 0011_strategy_tenant_isolation: drops the two same-owner foreign keys and
-- restores the grants dbkit gave before (0001-0010): table-wide writes for authenticated on
-- workflow_sessions, strategy_watchlists (select/insert/delete) and notification_settings.
-- On a database whose default privileges granted more, the rollback does not restore those
-- extra grants: it restores dbkit's previous state.
-- Source: issue "Tenant isolation beyond RLS".

alter table public.notifications drop constraint notifications_workflow_same_user_fkey;

alter table public.strategy_watchlists drop constraint strategy_watchlists_execution_same_workflow_fkey;

revoke all on table public.strategy_execution_logs from public, anon, authenticated, service_role;
grant select on table public.strategy_execution_logs to authenticated;
grant insert (id, execution_id, workflow_id, node_id, node_type, status, output, error_message,
              started_at, completed_at)
    on table public.strategy_execution_logs to authenticated;
grant update (status, output, error_message, completed_at)
    on table public.strategy_execution_logs to authenticated;
grant select, insert, update, delete on table public.strategy_execution_logs to service_role;

revoke all on table public.notification_settings from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.notification_settings to authenticated;
grant select, insert, update, delete on table public.notification_settings to service_role;

revoke all on table public.strategy_watchlists from public, anon, authenticated, service_role;
grant select, insert, delete on table public.strategy_watchlists to authenticated;
grant select, insert, update, delete on table public.strategy_watchlists to service_role;

revoke all on table public.notifications from public, anon, authenticated, service_role;
grant select, delete on table public.notifications to authenticated;
grant update (read) on table public.notifications to authenticated;
grant select, insert, update, delete on table public.notifications to service_role;

revoke all on table public.workflow_executions from public, anon, authenticated, service_role;
grant select on table public.workflow_executions to authenticated;
grant insert (id, workflow_id, status, started_at, completed_at, error_message)
    on table public.workflow_executions to authenticated;
grant update (status, completed_at, error_message)
    on table public.workflow_executions to authenticated;
grant select, insert, update, delete on table public.workflow_executions to service_role;

comment on column public.workflow_sessions.next_execution_at is
    'When the strategy is next due; NULL means not scheduled. Advanced by public.claim_due_strategies.';
revoke all on table public.workflow_sessions from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.workflow_sessions to authenticated;
grant select, insert, update, delete on table public.workflow_sessions to service_role;

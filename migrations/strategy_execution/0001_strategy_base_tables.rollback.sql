-- Rollback of 0001_strategy_base_tables: drops the three base tables, their policies,
-- triggers, indexes and grants, newest first. dbkit refuses while a table holds rows
-- unless --force.
-- Source: seed 003 (base tables).

drop policy notifications_delete_own on public.notifications;
drop policy notifications_update_own on public.notifications;
drop policy notifications_select_own on public.notifications;
drop trigger update_notifications_updated_at on public.notifications;
drop index public.idx_notifications_user;
revoke all on table public.notifications from authenticated, service_role;
drop table public.notifications;

drop policy workflow_executions_update_own on public.workflow_executions;
drop policy workflow_executions_insert_own on public.workflow_executions;
drop policy workflow_executions_select_own on public.workflow_executions;
drop index public.idx_workflow_executions_workflow;
revoke all on table public.workflow_executions from authenticated, service_role;
drop table public.workflow_executions;

drop policy workflow_sessions_delete_own on public.workflow_sessions;
drop policy workflow_sessions_update_own on public.workflow_sessions;
drop policy workflow_sessions_insert_own on public.workflow_sessions;
drop policy workflow_sessions_select_own on public.workflow_sessions;
drop trigger update_workflow_sessions_updated_at on public.workflow_sessions;
drop index public.idx_workflow_sessions_user;
revoke all on table public.workflow_sessions from authenticated, service_role;
drop table public.workflow_sessions;

-- public.workflow_sessions: owner-only access to a user's strategies.
-- Source: seed 003 §1.1 and "Security Considerations" (ownership via user_id = auth.uid()).
-- Not listed by the document; enabled because authenticated needs SELECT on this table for
-- the ownership subqueries of strategy_watchlists / strategy_execution_logs, and that grant
-- without RLS would show every user every strategy. Backed by idx_workflow_sessions_user.
-- service_role bypasses RLS (BYPASSRLS) and needs no policy here.
-- Included by: migrations/strategy_execution/0001_strategy_base_tables.sql

alter table public.workflow_sessions enable row level security;

drop policy if exists workflow_sessions_select_own on public.workflow_sessions;
create policy workflow_sessions_select_own on public.workflow_sessions
    for select to authenticated
    using (user_id = (select auth.uid()));
comment on policy workflow_sessions_select_own on public.workflow_sessions is 'Users see only their own strategies.';

drop policy if exists workflow_sessions_insert_own on public.workflow_sessions;
create policy workflow_sessions_insert_own on public.workflow_sessions
    for insert to authenticated
    with check (user_id = (select auth.uid()));
comment on policy workflow_sessions_insert_own on public.workflow_sessions is 'Users create strategies only for themselves.';

drop policy if exists workflow_sessions_update_own on public.workflow_sessions;
create policy workflow_sessions_update_own on public.workflow_sessions
    for update to authenticated
    using (user_id = (select auth.uid()))
    with check (user_id = (select auth.uid()));
comment on policy workflow_sessions_update_own on public.workflow_sessions is 'Users update only their own strategies and cannot hand them to someone else.';

drop policy if exists workflow_sessions_delete_own on public.workflow_sessions;
create policy workflow_sessions_delete_own on public.workflow_sessions
    for delete to authenticated
    using (user_id = (select auth.uid()));
comment on policy workflow_sessions_delete_own on public.workflow_sessions is 'Users delete only their own strategies.';

-- public.strategy_watchlists: users SELECT / INSERT / DELETE watchlist entries of their own
-- strategies; no UPDATE for users (not granted either: an UPDATE is denied with 42501).
-- Source: seed 003 §1.2 "RLS Policies" and "Security Considerations" (the EXISTS example).
-- Changed from the seed: auth.uid() wrapped in (select ...) so it is an InitPlan evaluated
-- once per statement, and "to authenticated" on every policy (Supabase RLS performance guide).
-- SELECT and DELETE (filters over existing rows) compare workflow_id with the array of the
-- user's strategy ids, computed once per statement (InitPlan, idx_workflow_sessions_user):
-- it is an index condition on idx_strategy_watchlists_workflow, so a read without a
-- workflow_id filter fetches only the user's rows. The EXISTS form is a per-row subplan
-- there: a full scan of the table, estimated above jit_above_cost. INSERT checks one new row,
-- so it keeps the EXISTS probe (index-only scan on idx_workflow_sessions_id_user).
-- Same rows either way: ws.id is the primary key and workflow_id is NOT NULL.
-- Included by: migrations/strategy_execution/0004_strategy_watchlists.sql

alter table public.strategy_watchlists enable row level security;

drop policy if exists strategy_watchlists_select_own on public.strategy_watchlists;
create policy strategy_watchlists_select_own on public.strategy_watchlists
    for select to authenticated
    using (
        strategy_watchlists.workflow_id = any(array(
            select ws.id
            from public.workflow_sessions as ws
            where ws.user_id = (select auth.uid())
        ))
    );
comment on policy strategy_watchlists_select_own on public.strategy_watchlists is 'Users view watchlists of their own strategies.';

drop policy if exists strategy_watchlists_insert_own on public.strategy_watchlists;
create policy strategy_watchlists_insert_own on public.strategy_watchlists
    for insert to authenticated
    with check (
        exists (
            select 1
            from public.workflow_sessions as ws
            where ws.id = strategy_watchlists.workflow_id
                and ws.user_id = (select auth.uid())
        )
    );
comment on policy strategy_watchlists_insert_own on public.strategy_watchlists is 'Users add markets only to their own strategies.';

drop policy if exists strategy_watchlists_delete_own on public.strategy_watchlists;
create policy strategy_watchlists_delete_own on public.strategy_watchlists
    for delete to authenticated
    using (
        strategy_watchlists.workflow_id = any(array(
            select ws.id
            from public.workflow_sessions as ws
            where ws.user_id = (select auth.uid())
        ))
    );
comment on policy strategy_watchlists_delete_own on public.strategy_watchlists is 'Users remove markets only from their own strategies.';

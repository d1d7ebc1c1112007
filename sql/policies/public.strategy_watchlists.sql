-- public.strategy_watchlists: users SELECT / INSERT / DELETE watchlist entries of their own
-- strategies; no UPDATE for users (not granted either: an UPDATE is denied with 42501).
-- Source: seed 003 §1.2 "RLS Policies" and "Security Considerations" (the EXISTS example).
-- Changed from the seed: auth.uid() wrapped in (select ...) so it is an InitPlan evaluated
-- once per statement, and "to authenticated" on every policy (Supabase RLS performance guide).
-- The ownership subquery is an index-only scan on idx_workflow_sessions_id_user (id, user_id).
-- Included by: migrations/strategy_execution/0004_strategy_watchlists.sql

alter table public.strategy_watchlists enable row level security;

drop policy if exists strategy_watchlists_select_own on public.strategy_watchlists;
create policy strategy_watchlists_select_own on public.strategy_watchlists
    for select to authenticated
    using (
        exists (
            select 1
            from public.workflow_sessions as ws
            where ws.id = strategy_watchlists.workflow_id
                and ws.user_id = (select auth.uid())
        )
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
        exists (
            select 1
            from public.workflow_sessions as ws
            where ws.id = strategy_watchlists.workflow_id
                and ws.user_id = (select auth.uid())
        )
    );
comment on policy strategy_watchlists_delete_own on public.strategy_watchlists is 'Users remove markets only from their own strategies.';

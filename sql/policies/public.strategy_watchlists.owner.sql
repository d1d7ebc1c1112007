-- public.strategy_watchlists, the policies that filter existing rows (SELECT and DELETE):
-- users see and remove the watchlist entries of their own strategies.
-- Source: seed 003 §1.2 "RLS Policies" and "Security Considerations" (policy "Users can view
-- own strategy watchlists"; the DELETE name follows the same migration, 20251026000001, of
-- the document's application). Names are the document's (docs/conformance.md).
-- Changed from the seed (0016_strategy_watchlists_owner, issue 19; docs/decisions.md): the
-- row's owner is carried on the row (user_id, the owner of its strategy, kept equal to
-- workflow_sessions.user_id by the same-owner key strategy_watchlists_workflow_owner_fkey
-- (workflow_id, user_id) -> workflow_sessions (id, user_id) ON UPDATE CASCADE and filled by
-- the trigger set_strategy_watchlists_user_id), so "the row's strategy is one of mine" is
-- `user_id = (select auth.uid())`: the same rows as the document's EXISTS for every row the
-- key allows, an equality on idx_strategy_watchlists_user_workflow (user_id, workflow_id,
-- added_at desc) instead of the array of the caller's strategy ids (PostgreSQL 15 ran one
-- btree search per id of that array under `workflow_id = $1`).
-- auth.uid() wrapped in (select ...) (an InitPlan, once per statement) and "to authenticated".
-- The INSERT policy checks a new row (its owner is filled by the trigger from the strategy
-- the caller names) and stays in public.strategy_watchlists.sql with the table's RLS switch.
-- Included by: migrations/strategy_execution/0016_strategy_watchlists_owner.sql

drop policy if exists "Users can view own strategy watchlists" on public.strategy_watchlists;
create policy "Users can view own strategy watchlists" on public.strategy_watchlists
    for select to authenticated
    using (strategy_watchlists.user_id = (select auth.uid()));
comment on policy "Users can view own strategy watchlists" on public.strategy_watchlists is
    'Users view watchlists of their own strategies (user_id is the strategy''s owner).';

drop policy if exists "Users can delete from own strategy watchlists" on public.strategy_watchlists;
create policy "Users can delete from own strategy watchlists" on public.strategy_watchlists
    for delete to authenticated
    using (strategy_watchlists.user_id = (select auth.uid()));
comment on policy "Users can delete from own strategy watchlists" on public.strategy_watchlists is
    'Users remove markets only from their own strategies (user_id is the strategy''s owner).';

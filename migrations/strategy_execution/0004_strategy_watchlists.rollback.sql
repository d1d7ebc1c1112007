-- Rollback of 0004_strategy_watchlists: drops the table with its policies, indexes and grants.
-- dbkit refuses while it holds rows unless --force.
-- Source: seed 003 §1.2 ("Rollback SQL included in comments").

drop policy strategy_watchlists_delete_own on public.strategy_watchlists;
drop policy strategy_watchlists_insert_own on public.strategy_watchlists;
drop policy strategy_watchlists_select_own on public.strategy_watchlists;
drop index public.idx_strategy_watchlists_execution;
drop index public.idx_strategy_watchlists_market;
drop index public.idx_strategy_watchlists_workflow;
revoke all on table public.strategy_watchlists from authenticated, service_role;
drop table public.strategy_watchlists;

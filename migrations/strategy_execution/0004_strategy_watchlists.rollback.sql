-- Rollback of 0004_strategy_watchlists: drops the table with its policies, indexes and grants.
-- dbkit refuses while it holds rows unless --force.
-- Source: seed 003 §1.2 ("Rollback SQL included in comments").
-- The policy names are the document's, which the included policy file creates since
-- 0010_strategy_document_contracts (docs/decisions.md, "Rollbacks follow their repeatable files").

drop policy "Users can delete from own strategy watchlists" on public.strategy_watchlists;
drop policy "Users can insert into own strategy watchlists" on public.strategy_watchlists;
drop policy "Users can view own strategy watchlists" on public.strategy_watchlists;
drop index public.idx_strategy_watchlists_execution;
drop index public.idx_strategy_watchlists_market;
drop index public.idx_strategy_watchlists_workflow;
revoke all on table public.strategy_watchlists from authenticated, service_role;
drop table public.strategy_watchlists;

-- 0013_strategy_owner_strategy_ids_index: idx_workflow_sessions_user becomes (user_id, id)
-- instead of (user_id), rebuilt CONCURRENTLY so workflow_sessions keeps taking writes.
-- Source: seed 003 §1.2/§1.4 RLS ("Users can view own strategy watchlists" and the log and
-- execution policies); issue 19 (a workflow's watchlist under RLS at 1M strategies).
-- The SELECT policies of strategy_watchlists, strategy_execution_logs and workflow_executions
-- start from the array of the caller's strategy ids (an InitPlan). From (user_id) it was a
-- bitmap heap scan that read one heap page of workflow_sessions per strategy the caller owns
-- (100 pages for a user with 100 strategies, on every watchlist read); from (user_id, id) it
-- is an index-only scan of the few leaf pages that hold the user's ids. Every lookup the old
-- index served, the new one serves (same leading column), so it replaces it under its name:
-- built beside it, the old one dropped, the new one renamed (each step takes at most a
-- SHARE UPDATE EXCLUSIVE lock; writes continue).
-- Retry after a failure: a half-built new index (INVALID) is dropped first; if the old one
-- was already dropped, the new one is rebuilt and renamed.
-- transactional: false

drop index concurrently if exists public.idx_workflow_sessions_user_new;

create index concurrently idx_workflow_sessions_user_new
    on public.workflow_sessions using btree (user_id, id);

drop index concurrently if exists public.idx_workflow_sessions_user;

alter index public.idx_workflow_sessions_user_new rename to idx_workflow_sessions_user;

comment on index public.idx_workflow_sessions_user is
    'The caller''s strategy ids for the RLS InitPlans (ws.user_id = auth.uid()) as an index-only scan (user_id, id).';

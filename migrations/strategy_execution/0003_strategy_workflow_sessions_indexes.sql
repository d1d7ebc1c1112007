-- 0003_strategy_workflow_sessions_indexes: the cron job's partial index and the index behind
-- the RLS ownership subqueries, built CONCURRENTLY so an existing workflow_sessions keeps
-- taking writes while they build.
-- Source: seed 003 §1.1 (idx_workflow_sessions_auto_run, "WHERE auto_run = TRUE AND status IN
-- ('running', 'error')") and "Performance Considerations" 1 (cron job query); Supabase RLS
-- performance guide ("Add indexes") for idx_workflow_sessions_id_user.
-- Changed from the seed: the partial index is keyed on next_execution_at, so the due query is
-- an ordered range scan; idx_workflow_sessions_id_user is added.
-- Not recorded until both statements succeed; a build that failed half-way leaves an INVALID
-- index, which the `drop index concurrently if exists` of the next attempt removes.
-- transactional: false

drop index concurrently if exists public.idx_workflow_sessions_auto_run;

create index concurrently idx_workflow_sessions_auto_run on public.workflow_sessions using btree (next_execution_at)
    where auto_run = true and status in ('running', 'error');

comment on index public.idx_workflow_sessions_auto_run is
    'Cron job: strategies due for execution (seed 003 Performance Considerations 1).';

drop index concurrently if exists public.idx_workflow_sessions_id_user;

create index concurrently idx_workflow_sessions_id_user on public.workflow_sessions using btree (id, user_id);

comment on index public.idx_workflow_sessions_id_user is
    'RLS ownership subqueries (ws.id = ... and ws.user_id = auth.uid()) as index-only scans.';

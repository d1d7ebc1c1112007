-- Rollback of 0013_strategy_owner_strategy_ids_index: idx_workflow_sessions_user is (user_id)
-- again, as 0001_strategy_base_tables made it, rebuilt the same way without blocking writes.
-- Source: seed 003 §1.1 (0001_strategy_base_tables).
-- transactional: false

drop index concurrently if exists public.idx_workflow_sessions_user_old;

create index concurrently idx_workflow_sessions_user_old on public.workflow_sessions using btree (user_id);

drop index concurrently if exists public.idx_workflow_sessions_user;

alter index public.idx_workflow_sessions_user_old rename to idx_workflow_sessions_user;

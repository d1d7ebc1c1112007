-- Rollback of 0003_strategy_workflow_sessions_indexes: drops the two indexes without blocking
-- writes to workflow_sessions.
-- Source: seed 003 §1.1 ("Rollback SQL included in comments").
-- `if exists`: a rollback that stopped after the first drop (each statement commits on its
-- own) must complete when run again (docs/decisions.md, "Non-transactional migrations").
-- transactional: false

drop index concurrently if exists public.idx_workflow_sessions_id_user;

drop index concurrently if exists public.idx_workflow_sessions_auto_run;

-- Rollback of 0003_strategy_workflow_sessions_indexes: drops the two indexes without blocking
-- writes to workflow_sessions.
-- Source: seed 003 §1.1 ("Rollback SQL included in comments").
-- transactional: false

drop index concurrently public.idx_workflow_sessions_id_user;

drop index concurrently public.idx_workflow_sessions_auto_run;

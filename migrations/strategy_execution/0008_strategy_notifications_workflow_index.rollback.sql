-- Rollback of 0008_strategy_notifications_workflow_index: drops the index without blocking
-- writes to notifications (`if exists`: a run killed after the drop, before its record,
-- completes when run again).
-- Source: seed 003 §1.5 ("Rollback SQL included in comments").
-- transactional: false

drop index concurrently if exists public.idx_notifications_workflow;

-- Rollback of 0008_strategy_notifications_workflow_index: drops the index without blocking
-- writes to notifications.
-- Source: seed 003 §1.5 ("Rollback SQL included in comments").
-- transactional: false

drop index concurrently public.idx_notifications_workflow;

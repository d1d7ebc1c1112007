-- 0008_strategy_notifications_workflow_index: notifications of one strategy, newest first,
-- built CONCURRENTLY because notifications is an existing, write-heavy table.
-- Source: seed 003 §1.5 (idx_notifications_workflow (workflow_id, created_at DESC)).
-- Not recorded until the build succeeds; a failed build leaves an INVALID index, which the
-- `drop index concurrently if exists` of the next attempt removes.
-- transactional: false

drop index concurrently if exists public.idx_notifications_workflow;

create index concurrently idx_notifications_workflow on public.notifications using btree (workflow_id, created_at desc);

comment on index public.idx_notifications_workflow is 'Notifications about one strategy, newest first (seed 003 §1.5).';

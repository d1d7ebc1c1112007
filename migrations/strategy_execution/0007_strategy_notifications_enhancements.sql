-- 0007_strategy_notifications_enhancements: links notifications to strategies, constrains
-- priority, widens the notification types by the 7 strategy types, and adds
-- public.create_strategy_notification. The seed's idx_notifications_workflow follows in
-- 0008_strategy_notifications_workflow_index, built CONCURRENTLY outside a transaction.
-- Source: seed 003 §1.5 "Enhance notifications Table" (20251026000004).
-- The seed "verified" priority exists (it does, from 0001); its CHECK is added here.

alter table public.notifications
    add column workflow_id uuid references public.workflow_sessions (id) on delete set null;
comment on column public.notifications.workflow_id is 'The strategy the notification is about; NULL when not about a strategy or the strategy was deleted.';

alter table public.notifications
    add constraint notifications_priority_check
    check (priority in ('low', 'normal', 'high', 'urgent'));

alter table public.notifications
    drop constraint notifications_type_check;
alter table public.notifications
    add constraint notifications_type_check
    check (type in (
        'info', 'success', 'warning', 'error', 'system',
        'strategy_started', 'strategy_paused', 'strategy_stopped', 'strategy_error',
        'watchlist_updated', 'execution_completed', 'execution_failed'
    ));
comment on constraint notifications_type_check on public.notifications is 'Seed 003 §1.5: the 7 strategy notification types added.';

-- include: sql/functions/public.create_strategy_notification.sql

-- public.notifications: owners read, mark read and delete their own notifications; they
-- are created by the executor (service_role) through public.create_strategy_notification.
-- Source: seed 003 §1.5 (table enhanced; its RLS is not listed, decided here).
-- Backed by idx_notifications_user. authenticated may UPDATE only the column "read"
-- (column grant in 0001).
-- Included by: migrations/strategy_execution/0001_strategy_base_tables.sql

alter table public.notifications enable row level security;

drop policy if exists notifications_select_own on public.notifications;
create policy notifications_select_own on public.notifications
    for select to authenticated
    using (user_id = (select auth.uid()));
comment on policy notifications_select_own on public.notifications is 'Users see only their own notifications.';

drop policy if exists notifications_update_own on public.notifications;
create policy notifications_update_own on public.notifications
    for update to authenticated
    using (user_id = (select auth.uid()))
    with check (user_id = (select auth.uid()));
comment on policy notifications_update_own on public.notifications is 'Users mark only their own notifications read.';

drop policy if exists notifications_delete_own on public.notifications;
create policy notifications_delete_own on public.notifications
    for delete to authenticated
    using (user_id = (select auth.uid()));
comment on policy notifications_delete_own on public.notifications is 'Users delete only their own notifications.';

-- public.in_app_notifications: RLS switch-on and policies (seed 000; decision: a user reads
-- their own in-app notifications, marks them read - the table grant allows only read_at -
-- and dismisses (deletes) them; creating them is service_role only).
-- Uses idx_in_app_notifications_user_id.
-- Included by: migrations/wealth_automation/0005_wealth_notifications.sql
alter table public.in_app_notifications enable row level security;

drop policy if exists in_app_notifications_select_own on public.in_app_notifications;
create policy in_app_notifications_select_own on public.in_app_notifications
for select to authenticated
using (user_id = (select auth.uid()));
comment on policy in_app_notifications_select_own on public.in_app_notifications is
'A user reads only their own in-app notifications.';

drop policy if exists in_app_notifications_update_own on public.in_app_notifications;
create policy in_app_notifications_update_own on public.in_app_notifications
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));
comment on policy in_app_notifications_update_own on public.in_app_notifications is
'A user marks only their own notifications read (column grant: read_at only).';

drop policy if exists in_app_notifications_delete_own on public.in_app_notifications;
create policy in_app_notifications_delete_own on public.in_app_notifications
for delete to authenticated
using (user_id = (select auth.uid()));
comment on policy in_app_notifications_delete_own on public.in_app_notifications is
'A user dismisses only their own notifications.';

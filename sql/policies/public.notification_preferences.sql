-- public.notification_preferences: RLS switch-on and policies (seed 000; decision: a user
-- manages their own preferences - the "Set notification preferences" endpoint may run with
-- the user's token; other users' rows are invisible). Uses
-- notification_preferences_user_event_key (leading column user_id).
-- Included by: migrations/wealth_automation/0005_wealth_notifications.sql
alter table public.notification_preferences enable row level security;

drop policy if exists notification_preferences_select_own on public.notification_preferences;
create policy notification_preferences_select_own on public.notification_preferences
for select to authenticated
using (user_id = (select auth.uid()));
comment on policy notification_preferences_select_own on public.notification_preferences is
'A user reads only their own notification preferences.';

drop policy if exists notification_preferences_insert_own on public.notification_preferences;
create policy notification_preferences_insert_own on public.notification_preferences
for insert to authenticated
with check (user_id = (select auth.uid()));
comment on policy notification_preferences_insert_own on public.notification_preferences is
'A user creates preferences only for themself.';

drop policy if exists notification_preferences_update_own on public.notification_preferences;
create policy notification_preferences_update_own on public.notification_preferences
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));
comment on policy notification_preferences_update_own on public.notification_preferences is
'A user changes only their own preferences and cannot hand them to another user.';

drop policy if exists notification_preferences_delete_own on public.notification_preferences;
create policy notification_preferences_delete_own on public.notification_preferences
for delete to authenticated
using (user_id = (select auth.uid()));
comment on policy notification_preferences_delete_own on public.notification_preferences is
'A user deletes only their own preferences.';

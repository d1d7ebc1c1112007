-- public.notification_settings: full CRUD on a user's own settings only.
-- Source: seed 003 §1.3 "RLS Policies". Policy names are those of the document's
-- application (20251026000002), see docs/conformance.md.
-- Changed from the seed: (select auth.uid()) and "to authenticated" (Supabase RLS performance
-- guide). Backed by idx_notification_settings_user (user_id). user_id is not updatable by
-- authenticated (column privileges, 0011_strategy_tenant_isolation), so a row can never be
-- moved to another user.
-- Included by: migrations/strategy_execution/0005_strategy_notification_settings.sql

alter table public.notification_settings enable row level security;

-- The names dbkit used before it restored the document's (0010_strategy_document_contracts).
drop policy if exists notification_settings_select_own on public.notification_settings;
drop policy if exists notification_settings_insert_own on public.notification_settings;
drop policy if exists notification_settings_update_own on public.notification_settings;
drop policy if exists notification_settings_delete_own on public.notification_settings;

drop policy if exists "Users can view own notification settings" on public.notification_settings;
create policy "Users can view own notification settings" on public.notification_settings
    for select to authenticated
    using (user_id = (select auth.uid()));
comment on policy "Users can view own notification settings" on public.notification_settings is
    'Users see only their own settings.';

drop policy if exists "Users can insert own notification settings" on public.notification_settings;
create policy "Users can insert own notification settings" on public.notification_settings
    for insert to authenticated
    with check (user_id = (select auth.uid()));
comment on policy "Users can insert own notification settings" on public.notification_settings is
    'Users create settings only for themselves.';

drop policy if exists "Users can update own notification settings" on public.notification_settings;
create policy "Users can update own notification settings" on public.notification_settings
    for update to authenticated
    using (user_id = (select auth.uid()))
    with check (user_id = (select auth.uid()));
comment on policy "Users can update own notification settings" on public.notification_settings is
    'Users update only their own settings and cannot move them to another user.';

drop policy if exists "Users can delete own notification settings" on public.notification_settings;
create policy "Users can delete own notification settings" on public.notification_settings
    for delete to authenticated
    using (user_id = (select auth.uid()));
comment on policy "Users can delete own notification settings" on public.notification_settings is
    'Users delete only their own settings.';

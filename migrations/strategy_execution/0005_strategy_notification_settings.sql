-- 0005_strategy_notification_settings: per-user, per-type notification preferences with
-- quiet hours, owner-only RLS, and public.should_send_notification.
-- Source: seed 003 §1.3 "Create notification_settings Table" (20251026000002).
-- Quiet hours are evaluated with public.is_within_quiet_hours (platform) in UTC; a user
-- without a settings row gets notifications (see docs/decisions.md).

create table public.notification_settings (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    notification_type text not null
        constraint notification_settings_notification_type_check
        check (notification_type in (
            'strategy_started', 'strategy_paused', 'strategy_stopped', 'strategy_error',
            'watchlist_updated', 'execution_completed', 'execution_failed'
        )),
    enabled boolean not null default true,
    delivery_method text not null default 'in-app'
        constraint notification_settings_delivery_method_check
        check (delivery_method in ('in-app', 'email', 'both')),
    quiet_hours_enabled boolean not null default false,
    quiet_hours_start time,
    quiet_hours_end time,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint notification_settings_user_id_notification_type_key unique (user_id, notification_type)
);
comment on table public.notification_settings is 'Per-user, per-type notification preferences (seed 003 §1.3). No row = defaults (enabled, in-app, no quiet hours).';
comment on column public.notification_settings.quiet_hours_start is 'Start of the quiet window, UTC wall-clock time; may be later than quiet_hours_end (window crosses midnight).';
comment on column public.notification_settings.quiet_hours_end is 'End of the quiet window (exclusive), UTC wall-clock time.';
grant select, insert, update, delete on table public.notification_settings to authenticated;
grant select, insert, update, delete on table public.notification_settings to service_role;
create index idx_notification_settings_user on public.notification_settings using btree (user_id);
create index idx_notification_settings_type_enabled on public.notification_settings
    using btree (notification_type, enabled)
    where enabled = true;

create trigger notification_settings_updated
    before update on public.notification_settings
    for each row execute function public.update_updated_at_column();

-- include: sql/functions/public.should_send_notification.sql
-- include: sql/policies/public.notification_settings.sql

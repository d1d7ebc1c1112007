-- 0005_wealth_notifications: public.notification_preferences, public.notification_logs and
-- public.in_app_notifications, their indexes (every foreign key), updated_at triggers, the
-- time-zone validation trigger, the preference check function and RLS policies.
-- Source: seed 000 "Table Descriptions / notification_preferences" (event, channels Email /
-- SMS / Push / In-App, quiet_hours, enabled) and the overview's one-line purposes of
-- notification_logs ("delivery logs") and in_app_notifications; seed 001 "Test notification
-- delivery", "Test notification preferences".
-- Depends on: 0001_wealth_prerequisites (users); platform (public.is_within_quiet_hours).

-- include: sql/functions/public.check_notification_time_zone.sql

create table public.notification_preferences (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.users (id) on delete cascade,
    event text not null,
    channels text[] not null default array['In-App']::text[],
    quiet_hours_start time without time zone,
    quiet_hours_end time without time zone,
    time_zone text not null default 'UTC',
    enabled boolean not null default true,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    constraint notification_preferences_user_event_key unique (user_id, event),
    constraint notification_preferences_event_check check (char_length(event) between 1 and 100),
    constraint notification_preferences_channels_check
    check (channels <@ array['Email', 'SMS', 'Push', 'In-App']::text[] and array_position(channels, null) is null),
    constraint notification_preferences_quiet_hours_check
    check ((quiet_hours_start is null) = (quiet_hours_end is null))
);
comment on table public.notification_preferences is
'Per-user, per-event notification preferences: channels, quiet hours, enabled. Seed 000.';
comment on column public.notification_preferences.event is 'Event type, e.g. auto_invest.executed, rebalancing.required, trigger_order.triggered.';
comment on column public.notification_preferences.channels is 'Channels to use, a subset of Email, SMS, Push, In-App.';
comment on column public.notification_preferences.quiet_hours_start is
'Start of the quiet-hours window (local time in time_zone); may be later than quiet_hours_end (window crosses midnight).';
comment on column public.notification_preferences.quiet_hours_end is 'End (exclusive) of the quiet-hours window.';
comment on column public.notification_preferences.time_zone is 'IANA time zone the quiet hours are in; validated on write.';
revoke all on table public.notification_preferences from anon, authenticated;
grant select, insert, update, delete on table public.notification_preferences to authenticated;
grant select, insert, update, delete on table public.notification_preferences to service_role;
create trigger check_notification_preferences_time_zone
before insert or update of time_zone on public.notification_preferences
for each row execute function public.check_notification_time_zone();
create trigger update_notification_preferences_updated_at
before update on public.notification_preferences
for each row execute function public.update_updated_at_column();

-- include: sql/functions/public.should_send_automation_notification.sql

create table public.notification_logs (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.users (id) on delete cascade,
    event text not null,
    channel text not null,
    status text not null default 'Pending',
    recipient text,
    subject text,
    body text,
    payload jsonb not null default '{}'::jsonb,
    provider_message_id text,
    attempt_count integer not null default 0,
    error_message text,
    sent_at timestamp with time zone,
    delivered_at timestamp with time zone,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    constraint notification_logs_channel_check check (channel in ('Email', 'SMS', 'Push', 'In-App')),
    constraint notification_logs_status_check
    check (status in ('Pending', 'Sent', 'Delivered', 'Failed', 'Suppressed')),
    constraint notification_logs_attempt_count_check check (attempt_count >= 0),
    constraint notification_logs_payload_check check (jsonb_typeof(payload) = 'object')
);
comment on table public.notification_logs is
'Delivery log: one row per notification attempt per channel, including ones suppressed by preferences. Seed 000.';
comment on column public.notification_logs.status is
'Pending, Sent, Delivered, Failed, or Suppressed (disabled, channel not chosen, or quiet hours).';
revoke all on table public.notification_logs from anon, authenticated;
grant select, insert, update, delete on table public.notification_logs to service_role;
create index idx_notification_logs_user_id on public.notification_logs using btree (user_id, created_at desc);
create index idx_notification_logs_undelivered on public.notification_logs using btree (created_at)
where status in ('Pending', 'Failed');
create trigger update_notification_logs_updated_at
before update on public.notification_logs
for each row execute function public.update_updated_at_column();

create table public.in_app_notifications (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.users (id) on delete cascade,
    event text not null,
    title text not null,
    message text not null,
    data jsonb not null default '{}'::jsonb,
    priority text not null default 'Normal',
    action_url text,
    read_at timestamp with time zone,
    expires_at timestamp with time zone,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    constraint in_app_notifications_title_check check (char_length(title) between 1 and 200),
    constraint in_app_notifications_priority_check check (priority in ('Low', 'Normal', 'High', 'Urgent')),
    constraint in_app_notifications_data_check check (jsonb_typeof(data) = 'object')
);
comment on table public.in_app_notifications is
'Notifications shown inside the app; the user marks them read (read_at) or dismisses them. Seed 000.';
comment on column public.in_app_notifications.read_at is 'When the user read it; null means unread. The only column a user may update.';
revoke all on table public.in_app_notifications from anon, authenticated;
grant select, delete on table public.in_app_notifications to authenticated;
grant update (read_at) on table public.in_app_notifications to authenticated;
grant select, insert, update, delete on table public.in_app_notifications to service_role;
create index idx_in_app_notifications_user_id on public.in_app_notifications
using btree (user_id, created_at desc);
create index idx_in_app_notifications_unread on public.in_app_notifications using btree (user_id)
where read_at is null;
create trigger update_in_app_notifications_updated_at
before update on public.in_app_notifications
for each row execute function public.update_updated_at_column();

-- include: sql/policies/public.notification_preferences.sql
-- include: sql/policies/public.notification_logs.sql
-- include: sql/policies/public.in_app_notifications.sql

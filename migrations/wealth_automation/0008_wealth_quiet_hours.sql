-- 0008_wealth_quiet_hours: the document's notification_preferences.quiet_hours, readable and
-- writable, kept in step with dbkit's quiet_hours_start / quiet_hours_end.
-- Source: seed 000 "Table Descriptions / notification_preferences" (key fields event, channels,
-- quiet_hours "Time range when notifications should be suppressed", enabled). 0005 stored the
-- window only as quiet_hours_start / quiet_hours_end / time_zone, so a caller of the document
-- that reads or writes quiet_hours failed (issue 12; docs/conformance.md, Document 000).
-- quiet_hours is jsonb {"start": "HH:MM", "end": "HH:MM"} or null; the trigger
-- sync_notification_preferences_quiet_hours derives one side from the other (whichever the
-- statement writes), and a CHECK holds the two equal. public.should_send_automation_notification
-- keeps reading the two time columns, so both kinds of caller see one window.
-- Every lock here is brief (no row is read or written): from this commit on, every written row
-- is kept in step by the trigger and checked by the CHECK (added NOT VALID); 0009 fills in the
-- existing rows in batches and validates the CHECK without blocking writes. Until then an
-- existing row that has start/end reads quiet_hours as null (or is filled in by its next update).
-- Depends on: 0005_wealth_notifications (the table), 0007 (previous migration of this module).

alter table public.notification_preferences add column quiet_hours jsonb;
comment on column public.notification_preferences.quiet_hours is
'The document''s quiet_hours: {"start": "HH:MM", "end": "HH:MM"} in time_zone (start after end crosses midnight), or null for none. Kept equal to quiet_hours_start/quiet_hours_end by trigger sync_notification_preferences_quiet_hours; write either side.';

alter table public.notification_preferences add constraint notification_preferences_quiet_hours_sync_check check (
    (quiet_hours is null) = (quiet_hours_start is null or quiet_hours_end is null)
    and (
        quiet_hours is null
        or ((quiet_hours ->> 'start')::time = quiet_hours_start and (quiet_hours ->> 'end')::time = quiet_hours_end)
    )
) not valid;
comment on constraint notification_preferences_quiet_hours_sync_check on public.notification_preferences is
'quiet_hours and quiet_hours_start/quiet_hours_end describe the same window (or none).';

-- include: sql/functions/public.sync_notification_quiet_hours.sql

create trigger sync_notification_preferences_quiet_hours
before insert or update on public.notification_preferences
for each row execute function public.sync_notification_quiet_hours();
comment on trigger sync_notification_preferences_quiet_hours on public.notification_preferences is
'Keeps quiet_hours and quiet_hours_start/quiet_hours_end one value (the side written wins).';

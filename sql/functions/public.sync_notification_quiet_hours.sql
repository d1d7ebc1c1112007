-- public.sync_notification_quiet_hours(): BEFORE INSERT OR UPDATE trigger on
-- public.notification_preferences that keeps the document's quiet_hours and dbkit's
-- quiet_hours_start / quiet_hours_end one value.
-- Source: seed 000 "notification_preferences" ("quiet_hours - Time range when notifications
-- should be suppressed"); decision in docs/decisions.md ("quiet_hours: the document's column,
-- kept in step with quiet_hours_start/end").
-- quiet_hours is a JSON object {"start": "HH:MM", "end": "HH:MM"} (seconds allowed,
-- "HH:MM:SS"), or null for no quiet hours (SQL NULL or JSON null). A window whose start is
-- after its end crosses midnight, as in public.is_within_quiet_hours().
-- Whichever side a statement writes wins and the other is derived from it:
--   * quiet_hours written (insert with a value, or changed by an update): start and end are
--     taken from it; if the statement also writes start/end, they must say the same;
--   * only quiet_hours_start / quiet_hours_end written: quiet_hours is rebuilt from them.
-- quiet_hours is stored in the canonical form {"start": "HH:MM", "end": "HH:MM"} ("HH:MM:SS"
-- when the seconds are not zero). A malformed value or a disagreement raises 22023 and
-- changes nothing. The CHECK notification_preferences_quiet_hours_sync_check holds the
-- invariant even if this trigger is disabled.
-- The body calls only pg_catalog, so the writer (authenticated users write their own
-- preferences) needs no EXECUTE on another function; EXECUTE on this trigger function is
-- revoked from PUBLIC and the API roles (a trigger fires without it).
-- Included by 0008_wealth_quiet_hours.
create or replace function public.sync_notification_quiet_hours()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_json jsonb := new.quiet_hours;
    v_from_json boolean;
    v_start time;
    v_end time;
begin
    if v_json = 'null'::jsonb then
        v_json := null;
    end if;
    if tg_op = 'INSERT' then
        v_from_json := v_json is not null;
    else
        v_from_json := new.quiet_hours is distinct from old.quiet_hours;
    end if;

    if v_from_json then
        if v_json is not null then
            if pg_catalog.jsonb_typeof(v_json) <> 'object'
                or (select pg_catalog.array_agg(k.key order by k.key) from pg_catalog.jsonb_object_keys(v_json) as k (key))
                is distinct from array['end', 'start']
                or pg_catalog.jsonb_typeof(v_json -> 'start') <> 'string'
                or pg_catalog.jsonb_typeof(v_json -> 'end') <> 'string'
                or (v_json ->> 'start') !~ '^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$'
                or (v_json ->> 'end') !~ '^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$'
            then
                raise exception 'quiet_hours must be {"start": "HH:MM", "end": "HH:MM"} or null, got %', v_json
                    using errcode = '22023';
            end if;
            begin
                v_start := (v_json ->> 'start')::time;
                v_end := (v_json ->> 'end')::time;
            exception when datetime_field_overflow or invalid_datetime_format then
                raise exception 'quiet_hours holds a time that does not exist: %', v_json
                    using errcode = '22023';
            end;
        end if;
        if (tg_op = 'INSERT' and (new.quiet_hours_start is not null or new.quiet_hours_end is not null)
                and (new.quiet_hours_start, new.quiet_hours_end) is distinct from (v_start, v_end))
            or (tg_op = 'UPDATE'
                and (new.quiet_hours_start, new.quiet_hours_end) is distinct from (old.quiet_hours_start, old.quiet_hours_end)
                and (new.quiet_hours_start, new.quiet_hours_end) is distinct from (v_start, v_end))
        then
            raise exception 'quiet_hours % and quiet_hours_start/quiet_hours_end (%, %) disagree; write one of them',
                v_json, new.quiet_hours_start, new.quiet_hours_end
                using errcode = '22023';
        end if;
        new.quiet_hours_start := v_start;
        new.quiet_hours_end := v_end;
    end if;

    -- Canonical form, derived from the two columns (also when they were the side written).
    if new.quiet_hours_start is null or new.quiet_hours_end is null then
        new.quiet_hours := null;
    else
        new.quiet_hours := pg_catalog.jsonb_build_object(
            'start', case when pg_catalog.date_part('second', new.quiet_hours_start) = 0
                          then pg_catalog.left(new.quiet_hours_start::text, 5)
                          else new.quiet_hours_start::text end,
            'end', case when pg_catalog.date_part('second', new.quiet_hours_end) = 0
                        then pg_catalog.left(new.quiet_hours_end::text, 5)
                        else new.quiet_hours_end::text end);
    end if;
    return new;
end;
$$;
comment on function public.sync_notification_quiet_hours() is
'BEFORE INSERT/UPDATE trigger on notification_preferences: quiet_hours {"start","end"} and quiet_hours_start/end describe one window; the side written wins, a disagreement raises 22023.';
revoke all on function public.sync_notification_quiet_hours() from public, anon, authenticated, service_role;

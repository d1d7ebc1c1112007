-- alm_reporting.dates_needing_import(date, date): every calendar day from p_from to
-- p_to (inclusive) without a SUCCESS row in import_history, oldest first: days never
-- imported, FAILED, PENDING, or still PROCESSING.
-- Source: seed 002 Step 2 ("helps identify which dates need processing").
-- Calendar days, not trading days: the caller skips weekends and holidays.
-- Returns no rows when an argument is null or p_from > p_to.
-- Requires: 0003_alm_import_history
create or replace function alm_reporting.dates_needing_import(p_from date, p_to date)
returns setof date
language sql
stable
strict
set search_path = ''
as $$
    select d.day::date
      from pg_catalog.generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') as d(day)
     where not exists (
               select 1
                 from alm_reporting.import_history h
                where h.import_date = d.day::date
                  and h.status = 'SUCCESS')
     order by d.day;
$$;
comment on function alm_reporting.dates_needing_import(date, date) is
    'Days in [p_from, p_to] that have no successful import yet, oldest first.';
revoke all on function alm_reporting.dates_needing_import(date, date) from public, anon, authenticated, service_role;
grant execute on function alm_reporting.dates_needing_import(date, date) to service_role;

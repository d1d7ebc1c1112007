-- alm_reporting.upsert_daily_summaries(jsonb): import daily summaries, inserting
-- new days and updating changed ones by summary_date (uk_daily_summary_date), so a
-- re-imported day adds no duplicate summary.
-- Source: seed 002 Step 4 ("Add ON CONFLICT handling capability"); Common Issues, Issue 3.
-- Argument p_summaries is a JSON array of objects keyed by column name, each with a non-null
-- summary_date. Returns the number of summaries inserted or changed.
-- Requires: alm_reporting.upsert_rows (same migration, included before this file)
create or replace function alm_reporting.upsert_daily_summaries(p_summaries jsonb)
returns integer
language sql
volatile
set search_path = ''
as $$
    select alm_reporting.upsert_rows('alm_reporting.daily_summary'::regclass,
                                     'summary_date', p_summaries);
$$;
comment on function alm_reporting.upsert_daily_summaries(jsonb) is
    'Idempotent import of daily summaries by summary_date; returns summaries inserted or changed.';
revoke all on function alm_reporting.upsert_daily_summaries(jsonb) from public, anon, authenticated, service_role;
grant execute on function alm_reporting.upsert_daily_summaries(jsonb) to service_role;

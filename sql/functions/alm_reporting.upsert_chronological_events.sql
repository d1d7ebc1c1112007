-- alm_reporting.upsert_chronological_events(jsonb): import a batch of events,
-- inserting new ones and updating changed ones by source_transaction_id
-- (uk_chronological_events_transaction), so a re-imported day adds no duplicates.
-- Source: seed 002 Objective and Step 4; Common Issues, Issue 3 (ON CONFLICT).
-- Argument p_events is a JSON array of objects keyed by column name, each with a non-null
-- source_transaction_id. Returns the number of events inserted or changed.
-- Requires: alm_reporting.upsert_rows (same migration, included before this file)
create or replace function alm_reporting.upsert_chronological_events(p_events jsonb)
returns integer
language sql
volatile
set search_path = ''
as $$
    select alm_reporting.upsert_rows('alm_reporting.chronological_events'::regclass,
                                     'source_transaction_id', p_events);
$$;
comment on function alm_reporting.upsert_chronological_events(jsonb) is
    'Idempotent import of chronological events by source_transaction_id; returns events inserted or changed.';
revoke all on function alm_reporting.upsert_chronological_events(jsonb) from public, anon, authenticated, service_role;
grant execute on function alm_reporting.upsert_chronological_events(jsonb) to service_role;

-- 0006_alm_import_functions (rollback): drop the import functions, dependents first.
-- Source: seed 002 (the functions are dbkit's addition for the seed's Objective).

drop function alm_reporting.upsert_daily_summaries(jsonb);
drop function alm_reporting.upsert_chronological_events(jsonb);
drop function alm_reporting.upsert_rows(regclass, text, jsonb);
drop function alm_reporting.record_processed_file(text, text, text, date, bigint, integer, text);
drop function alm_reporting.dates_needing_import(date, date);
drop function alm_reporting.fail_import(date, text, text);
drop function alm_reporting.complete_import(date, integer, jsonb, text);
drop function alm_reporting.start_import(date, text, text);

-- 0007_alm_default_process: the default automation process row ALM_DAILY_AUTOMATION
-- (state READY, its configuration JSON) in alm_reporting.processing_status.
-- Source: seed 002 Step 3 "Insert default automation process".
-- Inserted idempotently (ON CONFLICT DO NOTHING, as in the seed): a row that already
-- exists, e.g. from the seed's script run by hand, keeps its state and configuration.
-- Its own migration so that its rollback can take an untouched default row away before
-- 0004_alm_processing_status drops the table (dbkit refuses to drop tables with rows).
-- Requires: 0006_alm_import_functions (previous migration of this module)

insert into alm_reporting.processing_status (process_name, current_state, configuration)
values ('ALM_DAILY_AUTOMATION', 'READY',
        '{"max_files_to_keep": 3, "retry_attempts": 3, "timeout_seconds": 300}'::jsonb)
on conflict (process_name) do nothing;

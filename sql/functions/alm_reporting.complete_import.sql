-- alm_reporting.complete_import(date, integer, jsonb, text): mark a PROCESSING import
-- as SUCCESS with its record count and files, and the process READY again.
-- Source: seed 002 Step 2 (status SUCCESS, records_imported, files_processed,
-- completed_at) and Step 3 (current_state, last_success_date, error_count).
-- last_success_date only moves forward (a backfill of an older day keeps it);
-- error_count counts failures since the last success and is reset here.
-- Requires: 0003_alm_import_history, 0004_alm_processing_status
create or replace function alm_reporting.complete_import(
    p_import_date date,
    p_records_imported integer,
    p_files_processed jsonb default null,
    p_process_name text default 'ALM_DAILY_AUTOMATION'
)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
    if p_files_processed is not null and pg_catalog.jsonb_typeof(p_files_processed) <> 'array' then
        raise exception using errcode = 'invalid_parameter_value',
            message = 'alm_reporting.complete_import: files_processed must be a JSON array of file paths';
    end if;
    if p_records_imported is null or p_records_imported < 0 then
        raise exception using errcode = 'invalid_parameter_value',
            message = 'alm_reporting.complete_import: records_imported must be a count >= 0';
    end if;
    perform 1 from alm_reporting.processing_status s where s.process_name = p_process_name for update;
    if not found then
        raise exception using errcode = 'no_data_found',
            message = format('alm_reporting.complete_import: no process %L in alm_reporting.processing_status', p_process_name);
    end if;

    update alm_reporting.import_history h
       set status = 'SUCCESS',
           records_imported = p_records_imported,
           files_processed = coalesce(p_files_processed, h.files_processed),
           completed_at = localtimestamp,
           error_message = null
     where h.import_date = p_import_date
       and h.status = 'PROCESSING';
    if not found then
        raise exception using errcode = 'no_data_found',
            message = format('alm_reporting.complete_import: no PROCESSING import for %s', p_import_date),
            hint = 'Call alm_reporting.start_import(date) before completing it.';
    end if;

    update alm_reporting.processing_status s
       set current_state = 'READY',
           last_success_date = greatest(s.last_success_date, p_import_date),
           error_count = 0,
           updated_at = localtimestamp
     where s.process_name = p_process_name;
end
$$;
comment on function alm_reporting.complete_import(date, integer, jsonb, text) is
    'Finish the import of one day: import_history SUCCESS, processing_status READY, last_success_date, error_count 0.';
revoke all on function alm_reporting.complete_import(date, integer, jsonb, text)
from public, anon, authenticated, service_role;
grant execute on function alm_reporting.complete_import(date, integer, jsonb, text) to service_role;

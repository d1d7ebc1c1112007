-- alm_reporting.start_import(date, text, text): mark the import of one day as
-- PROCESSING in import_history and the process as PROCESSING in processing_status.
-- Source: seed 002 Step 2 (import_history statuses, import types) and Step 3
-- (processing_status current_state, last_run_date).
-- Re-importing a day that already succeeded or failed is allowed (its row is reset,
-- never duplicated: import_date is unique). A day already PROCESSING is refused, so two
-- runners never import the same day; if that run died, call fail_import first.
-- Runs are serialised per process by locking its processing_status row.
-- Returns the import_id.
-- Requires: 0003_alm_import_history, 0004_alm_processing_status
create or replace function alm_reporting.start_import(
    p_import_date date,
    p_import_type text default 'DAILY',
    p_process_name text default 'ALM_DAILY_AUTOMATION'
)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_status text;
    v_started timestamp;
    v_import_id integer;
begin
    if p_import_date is null then
        raise exception using errcode = 'null_value_not_allowed',
            message = 'alm_reporting.start_import: import date is required';
    end if;
    perform 1 from alm_reporting.processing_status s where s.process_name = p_process_name for update;
    if not found then
        raise exception using errcode = 'no_data_found',
            message = format('alm_reporting.start_import: no process %L in alm_reporting.processing_status', p_process_name);
    end if;

    select h.status, h.started_at into v_status, v_started
      from alm_reporting.import_history h
     where h.import_date = p_import_date
       for update;
    if v_status = 'PROCESSING' then
        raise exception using errcode = 'object_in_use',
            message = format('alm_reporting.start_import: the import of %s is already PROCESSING (started %s)',
                             p_import_date, v_started),
            hint = 'If that run died, record it with alm_reporting.fail_import(date, message) and start again.';
    end if;

    insert into alm_reporting.import_history as h
           (import_date, import_type, status, files_processed, records_imported,
            started_at, completed_at, error_message)
    values (p_import_date, p_import_type, 'PROCESSING', null, 0, localtimestamp, null, null)
    on conflict (import_date) do update
       set import_type = excluded.import_type,
           status = excluded.status,
           files_processed = excluded.files_processed,
           records_imported = excluded.records_imported,
           started_at = excluded.started_at,
           completed_at = excluded.completed_at,
           error_message = excluded.error_message
    returning h.import_id into v_import_id;

    update alm_reporting.processing_status s
       set current_state = 'PROCESSING',
           last_run_date = p_import_date,
           updated_at = localtimestamp
     where s.process_name = p_process_name;
    return v_import_id;
end
$$;
comment on function alm_reporting.start_import(date, text, text) is
    'Start (or restart) the import of one day: import_history PROCESSING, processing_status PROCESSING; returns import_id.';
revoke all on function alm_reporting.start_import(date, text, text) from public, anon, authenticated, service_role;
grant execute on function alm_reporting.start_import(date, text, text) to service_role;

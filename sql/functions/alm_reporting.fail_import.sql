-- alm_reporting.fail_import(date, text, text): record that the import of one day
-- failed. import_history becomes FAILED with the error message, processing_status FAILED with
-- error_count + 1. A day with no row yet (failed before start_import) gets a FAILED row.
-- Source: seed 002 Step 2 (status FAILED, error_message) and Step 3 (error_count).
-- A day that is not running (SUCCESS or FAILED) is refused: failing it would
-- overwrite a finished run's record.
-- Requires: 0003_alm_import_history, 0004_alm_processing_status
create or replace function alm_reporting.fail_import(
    p_import_date date,
    p_error_message text,
    p_process_name text default 'ALM_DAILY_AUTOMATION'
)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_status text;
begin
    if p_import_date is null then
        raise exception using errcode = 'null_value_not_allowed',
            message = 'alm_reporting.fail_import: import date is required';
    end if;
    perform 1 from alm_reporting.processing_status s where s.process_name = p_process_name for update;
    if not found then
        raise exception using errcode = 'no_data_found',
            message = format('alm_reporting.fail_import: no process %L in alm_reporting.processing_status', p_process_name);
    end if;

    select h.status into v_status
      from alm_reporting.import_history h
     where h.import_date = p_import_date
       for update;
    if v_status in ('SUCCESS', 'FAILED') then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('alm_reporting.fail_import: the import of %s is not running (status %s)',
                             p_import_date, v_status),
            hint = 'Start it again with alm_reporting.start_import(date) first.';
    end if;

    insert into alm_reporting.import_history as h
           (import_date, status, started_at, completed_at, error_message)
    values (p_import_date, 'FAILED', localtimestamp, localtimestamp, p_error_message)
    on conflict (import_date) do update
       set status = excluded.status,
           completed_at = excluded.completed_at,
           error_message = excluded.error_message;

    update alm_reporting.processing_status s
       set current_state = 'FAILED',
           last_run_date = p_import_date,
           error_count = coalesce(s.error_count, 0) + 1,
           updated_at = localtimestamp
     where s.process_name = p_process_name;
end
$$;
comment on function alm_reporting.fail_import(date, text, text) is
    'Record a failed import of one day: import_history FAILED + error_message, processing_status FAILED, error_count + 1.';
revoke all on function alm_reporting.fail_import(date, text, text) from public, anon, authenticated, service_role;
grant execute on function alm_reporting.fail_import(date, text, text) to service_role;

-- alm_reporting.record_processed_file(...): record that a file was imported,
-- idempotently by name and content hash. Returns true when the file is new, false when
-- the same file (same name, same hash) was already recorded (nothing changes). The same
-- name with a different hash is an error (SQLSTATE 23505): a changed file must not be
-- skipped silently, nor recorded over the earlier one.
-- Source: seed 002 Step 5 "Create File Tracking Table" ("avoid reprocessing").
-- Hashes compare case-insensitively (hex digests).
-- Requires: 0005_alm_processed_files
create or replace function alm_reporting.record_processed_file(
    p_file_name text,
    p_file_type text,
    p_file_hash text,
    p_process_date date,
    p_file_size bigint default null,
    p_records_count integer default null,
    p_processing_status text default 'SUCCESS'
)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_file_id integer;
    v_hash text;
    v_date date;
begin
    if p_file_name is null or p_file_hash is null then
        raise exception using errcode = 'null_value_not_allowed',
            message = 'alm_reporting.record_processed_file: file name and file hash are required';
    end if;

    insert into alm_reporting.processed_files
           (file_name, file_type, file_size, file_hash, process_date, records_count, processing_status)
    values (p_file_name, p_file_type, p_file_size, p_file_hash, p_process_date, p_records_count,
            p_processing_status)
    on conflict (file_name) do nothing
    returning file_id into v_file_id;
    if v_file_id is not null then
        return true;
    end if;

    select f.file_hash, f.process_date into v_hash, v_date
      from alm_reporting.processed_files f
     where f.file_name = p_file_name
       for share;
    if pg_catalog.lower(v_hash) is not distinct from pg_catalog.lower(p_file_hash) then
        return false;
    end if;
    raise exception using errcode = 'unique_violation',
        message = format('alm_reporting.record_processed_file: %L was already processed on %s with hash %s; '
                         'the file now has hash %s', p_file_name, v_date, coalesce(v_hash, 'NULL'), p_file_hash),
        hint = 'A changed file is a new file: give it a new name, or delete its processed_files row on purpose and import it again.';
end
$$;
comment on function alm_reporting.record_processed_file(text, text, text, date, bigint, integer, text) is
    'Record an imported file by name+hash: true when new, false when already recorded with the same hash; a different hash raises 23505.';
revoke all on function alm_reporting.record_processed_file(text, text, text, date, bigint, integer, text)
    from public, anon, authenticated, service_role;
grant execute on function alm_reporting.record_processed_file(text, text, text, date, bigint, integer, text)
    to service_role;

-- 0005_alm_processed_files: alm_reporting.processed_files, one row per imported
-- file, so a file that was already processed is not processed again.
-- Source: seed 002 Step 5 "Create File Tracking Table" (04_create_file_tracking.sql).
-- Changed from the seed: indexes created only where absent; CHECK on
-- processing_status with the statuses import_history uses (the seed lists none for
-- this column; its default is 'PENDING'); explicit grants (service_role only).
-- Requires: 0004_alm_processing_status (previous migration of this module)

create table if not exists alm_reporting.processed_files (
    file_id serial primary key,
    file_name varchar(255) not null unique,
    file_type varchar(50) not null,
    file_size bigint,
    file_hash varchar(64),
    process_date date not null,
    records_count integer,
    processing_status varchar(20) default 'PENDING',
    created_at timestamp default current_timestamp
);
comment on table alm_reporting.processed_files is
    'Files already imported, by name and content hash, to avoid reprocessing (seed 002 Step 5).';
comment on column alm_reporting.processed_files.file_hash is
    'Hex digest of the file content (e.g. SHA-256); a re-sent file with the same name and hash is a no-op.';
comment on column alm_reporting.processed_files.processing_status is 'PENDING, PROCESSING, SUCCESS, or FAILED';
revoke all on table alm_reporting.processed_files from anon, authenticated;
grant select, insert, update, delete on table alm_reporting.processed_files to service_role;
grant usage on sequence alm_reporting.processed_files_file_id_seq to service_role;

do $$
declare
    v_count bigint;
    v_examples text;
begin
    if not exists (
        select 1 from pg_catalog.pg_constraint
        where conrelid = 'alm_reporting.processed_files'::regclass
          and conname = 'processed_files_processing_status_check'
    ) then
        select count(*), string_agg(format('%L: %L', f.file_name, f.processing_status), '; ')
                             filter (where f.rn <= 5)
          into v_count, v_examples
          from (select p.file_name, p.processing_status,
                       row_number() over (order by p.file_id) as rn
                  from alm_reporting.processed_files p
                 where p.processing_status not in ('PENDING', 'PROCESSING', 'SUCCESS', 'FAILED')) f;
        if v_count > 0 then
            raise exception using
                errcode = 'check_violation',
                message = format('preflight for alm_reporting.processed_files failed: %s row(s) have a '
                    || 'processing_status outside PENDING/PROCESSING/SUCCESS/FAILED, e.g. %s. '
                    || 'Nothing was changed.', v_count, v_examples),
                hint = 'Update those rows to one of the listed values, then run dbkit apply again.';
        end if;
        alter table alm_reporting.processed_files
            add constraint processed_files_processing_status_check
            check (processing_status in ('PENDING', 'PROCESSING', 'SUCCESS', 'FAILED'));
    end if;
end
$$;

create index if not exists idx_processed_files_type
    on alm_reporting.processed_files (file_type);
create index if not exists idx_processed_files_date
    on alm_reporting.processed_files (process_date desc);

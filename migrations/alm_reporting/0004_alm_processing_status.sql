-- 0004_alm_processing_status: alm_reporting.processing_status, the state of each
-- automation process (its default row is 0007_alm_default_process).
-- Source: seed 002 Step 3 "Create Processing Status Table" (02_create_processing_status.sql).
-- Changed from the seed: the unique index is created only where absent (the seed's
-- plain CREATE UNIQUE INDEX fails on a second run); explicit grants (service_role
-- only). The default ALM_DAILY_AUTOMATION row is 0007_alm_default_process, so that its
-- rollback can remove an untouched default row before this table is dropped.
-- Requires: 0003_alm_import_history (previous migration of this module)

create table if not exists alm_reporting.processing_status (
    status_id serial primary key,
    process_name varchar(50) not null,
    current_state varchar(20) not null,
    last_run_date date,
    last_success_date date,
    next_scheduled_run timestamp,
    configuration jsonb,
    error_count integer default 0,
    created_at timestamp default current_timestamp,
    updated_at timestamp default current_timestamp
);
comment on table alm_reporting.processing_status is
    'Current state of each ALM automation process (seed 002 Step 3).';
comment on column alm_reporting.processing_status.current_state is
    'READY (idle), PROCESSING (an import runs) or FAILED (the last import failed).';
comment on column alm_reporting.processing_status.last_run_date is
    'import_date of the most recently started import.';
comment on column alm_reporting.processing_status.last_success_date is
    'Latest import_date imported successfully.';
comment on column alm_reporting.processing_status.error_count is
    'Failed imports since the last successful one (compare with configuration.retry_attempts).';
revoke all on table alm_reporting.processing_status from anon, authenticated;
grant select, insert, update, delete on table alm_reporting.processing_status to service_role;
grant usage on sequence alm_reporting.processing_status_status_id_seq to service_role;

create unique index if not exists idx_processing_status_name
    on alm_reporting.processing_status (process_name);

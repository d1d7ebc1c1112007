-- 0003_alm_import_history: alm_reporting.import_history, one row per imported day,
-- used to find the dates that still need processing.
-- Source: seed 002 Step 2 "Create Import History Table" (01_create_import_history.sql).
-- Changed from the seed: CHECK constraints for the import types and statuses the
-- seed's column comments list; indexes created only where absent (the seed's plain
-- CREATE INDEX fails on a second run); explicit grants (service_role only).
-- Columns, types, defaults and nullability are the seed's, so a table created by the
-- seed's own script is left as it is. Where that table holds a value outside the
-- listed ones, the migration stops with a count and examples instead of a bare 23514.
-- Requires: 0002_alm_duplicate_prevention (previous migration of this module)

create table if not exists alm_reporting.import_history (
    import_id serial primary key,
    import_date date not null unique,
    import_type varchar(20) default 'DAILY',
    status varchar(20) not null,
    files_processed jsonb,
    records_imported integer default 0,
    started_at timestamp default current_timestamp,
    completed_at timestamp,
    error_message text,
    created_at timestamp default current_timestamp
);
comment on table alm_reporting.import_history is 'Tracks ALM data import history for automation';
comment on column alm_reporting.import_history.import_type is 'DAILY, BACKFILL, or MANUAL';
comment on column alm_reporting.import_history.status is 'PENDING, PROCESSING, SUCCESS, or FAILED';
comment on column alm_reporting.import_history.files_processed is 'JSON array of processed file paths';
revoke all on table alm_reporting.import_history from anon, authenticated;
grant select, insert, update, delete on table alm_reporting.import_history to service_role;
grant usage on sequence alm_reporting.import_history_import_id_seq to service_role;

do $$
declare
    v_count bigint;
    v_examples text;
begin
    if (select count(*) from pg_catalog.pg_constraint
        where conrelid = 'alm_reporting.import_history'::regclass
          and conname in ('import_history_import_type_check', 'import_history_status_check')) < 2
    then
        select count(*), string_agg(format('import_id %s: import_type %L, status %L',
                                           h.import_id, h.import_type, h.status), '; ')
                             filter (where h.rn <= 5)
          into v_count, v_examples
          from (select i.import_id, i.import_type, i.status,
                       row_number() over (order by i.import_id) as rn
                  from alm_reporting.import_history i
                 where i.import_type not in ('DAILY', 'BACKFILL', 'MANUAL')
                    or i.status not in ('PENDING', 'PROCESSING', 'SUCCESS', 'FAILED')) h;
        if v_count > 0 then
            raise exception using
                errcode = 'check_violation',
                message = format('preflight for alm_reporting.import_history failed: %s row(s) have an '
                    || 'import_type outside DAILY/BACKFILL/MANUAL or a status outside '
                    || 'PENDING/PROCESSING/SUCCESS/FAILED, e.g. %s. Nothing was changed.', v_count, v_examples),
                hint = 'Update those rows to one of the listed values, then run dbkit apply again.';
        end if;
    end if;
end
$$;

do $$
begin
    if not exists (
        select 1 from pg_catalog.pg_constraint
        where conrelid = 'alm_reporting.import_history'::regclass
          and conname = 'import_history_import_type_check'
    ) then
        alter table alm_reporting.import_history
            add constraint import_history_import_type_check
            check (import_type in ('DAILY', 'BACKFILL', 'MANUAL'));
    end if;
end
$$;

do $$
begin
    if not exists (
        select 1 from pg_catalog.pg_constraint
        where conrelid = 'alm_reporting.import_history'::regclass
          and conname = 'import_history_status_check'
    ) then
        alter table alm_reporting.import_history
            add constraint import_history_status_check
            check (status in ('PENDING', 'PROCESSING', 'SUCCESS', 'FAILED'));
    end if;
end
$$;

create index if not exists idx_import_history_date
    on alm_reporting.import_history (import_date desc);
create index if not exists idx_import_history_status
    on alm_reporting.import_history (status);

-- 0005_alm_processed_files (rollback): drop alm_reporting.processed_files.
-- Source: seed 002 "Rollback Instructions" (without CASCADE). dbkit refuses while the
-- table holds rows unless --force.

drop index alm_reporting.idx_processed_files_date;
drop index alm_reporting.idx_processed_files_type;
revoke all on sequence alm_reporting.processed_files_file_id_seq from service_role;
revoke all on table alm_reporting.processed_files from service_role;
drop table alm_reporting.processed_files;

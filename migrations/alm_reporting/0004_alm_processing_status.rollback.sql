-- 0004_alm_processing_status (rollback): drop alm_reporting.processing_status.
-- Source: seed 002 "Rollback Instructions" (without CASCADE). dbkit refuses while the
-- table holds rows (a used ALM_DAILY_AUTOMATION row, other processes) unless --force.

drop index alm_reporting.idx_processing_status_name;
revoke all on sequence alm_reporting.processing_status_status_id_seq from service_role;
revoke all on table alm_reporting.processing_status from service_role;
drop table alm_reporting.processing_status;

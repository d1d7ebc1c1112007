-- 0003_alm_import_history (rollback): drop alm_reporting.import_history.
-- Source: seed 002 "Rollback Instructions" (without CASCADE). dbkit refuses while the
-- table holds import history unless --force.

drop index alm_reporting.idx_import_history_status;
drop index alm_reporting.idx_import_history_date;
revoke all on sequence alm_reporting.import_history_import_id_seq from service_role;
revoke all on table alm_reporting.import_history from service_role;
drop table alm_reporting.import_history;

-- 0002_alm_duplicate_prevention (rollback): remove the triggers, the last_updated
-- columns and the unique constraints again; every row of chronological_events and
-- daily_summary stays (only the last_updated values, which this migration added, go).
-- Source: seed 002 "Rollback Instructions". Changed from the seed: the triggers are
-- dropped before the column they write (the seed drops the columns first, which
-- PostgreSQL accepts because a PL/pgSQL body records no column dependency, but leaves
-- triggers that would fail every UPDATE if the script stopped half-way); the shared
-- function public.update_last_updated_column() belongs to the platform module and
-- stays; no CASCADE.

drop trigger update_chronological_events_last_updated on alm_reporting.chronological_events;
drop trigger update_daily_summary_last_updated on alm_reporting.daily_summary;

alter table alm_reporting.chronological_events drop column last_updated;
alter table alm_reporting.daily_summary drop column last_updated;

alter table alm_reporting.daily_summary drop constraint uk_daily_summary_date;
alter table alm_reporting.chronological_events drop constraint uk_chronological_events_transaction;

do $$
declare
    v_seq regclass;
begin
    for v_seq in
        select d.objid::regclass
          from pg_catalog.pg_depend d
         where d.classid = 'pg_catalog.pg_class'::regclass
           and d.refclassid = 'pg_catalog.pg_class'::regclass
           and d.refobjid in ('alm_reporting.chronological_events'::regclass, 'alm_reporting.daily_summary'::regclass)
           and d.deptype in ('a', 'i')
           and (select c.relkind from pg_catalog.pg_class c where c.oid = d.objid) = 'S'
    loop
        execute format('revoke usage on sequence %s from service_role', v_seq);
    end loop;
end
$$;
revoke all on table alm_reporting.daily_summary from service_role;
revoke all on table alm_reporting.chronological_events from service_role;
revoke usage on schema alm_reporting from service_role;

-- Rollback of 0008_alm_api_privileges: the grants of 0002-0005 again (service_role: schema
-- USAGE, table DML, sequence USAGE). On a database without extra default privileges that is
-- exactly the state before 0008; privileges that only default privileges had added (TRUNCATE,
-- TRIGGER, REFERENCES, sequence SELECT/UPDATE) are not given back: a rollback does not re-open
-- a hole (docs/decisions.md, "Revoke before grant").

do $$
declare
    v_table regclass;
    v_seq regclass;
    v_from text;
begin
    foreach v_table in array array[
        'alm_reporting.processed_files', 'alm_reporting.processing_status', 'alm_reporting.import_history',
        'alm_reporting.daily_summary', 'alm_reporting.chronological_events']::regclass[]
    loop
        v_from := case when v_table in ('alm_reporting.chronological_events'::regclass, 'alm_reporting.daily_summary'::regclass)
                       then 'anon, authenticated, service_role'
                       else 'public, anon, authenticated, service_role' end;
        for v_seq in
            select d.objid::regclass
              from pg_catalog.pg_depend d
             where d.classid = 'pg_catalog.pg_class'::regclass
               and d.refclassid = 'pg_catalog.pg_class'::regclass
               and d.refobjid = v_table
               and d.deptype in ('a', 'i')
               and (select c.relkind from pg_catalog.pg_class c where c.oid = d.objid) = 'S'
        loop
            execute pg_catalog.format('revoke all on sequence %s from %s', v_seq, v_from);
            execute pg_catalog.format('grant usage on sequence %s to service_role', v_seq);
        end loop;
        execute pg_catalog.format('revoke all on table %s from %s', v_table, v_from);
        execute pg_catalog.format('grant select, insert, update, delete on table %s to service_role', v_table);
    end loop;
end
$$;

revoke all on schema alm_reporting from anon, authenticated, service_role;
grant usage on schema alm_reporting to service_role;

-- 0008_alm_api_privileges: the API roles get exactly what docs/security.md says on the
-- alm_reporting schema, its five tables and their key sequences, revoking first, whatever
-- default privileges the database has.
-- Source: issue 13 ("revoke before grant, in every module"); decisions "RLS on the
-- alm_reporting tables?" (not an API schema; service_role only).
-- 0002-0005 revoked from anon and authenticated and granted service_role DML, so under
-- database-wide default privileges (`alter default privileges grant all on tables, sequences
-- to ...` without IN SCHEMA) service_role kept TRUNCATE, TRIGGER and REFERENCES and every API
-- role kept the sequences. Supabase's own defaults name schema public only, where this module
-- has nothing; this migration makes the result the same on both.
-- Now: schema USAGE for service_role only (no CREATE); tables: select, insert, update, delete
-- for service_role only; sequences: usage for service_role only; anon and authenticated get
-- nothing. PUBLIC is revoked on the three tables this module creates (and their sequences),
-- not on the schema and the two tables an existing ALM database already had: what PUBLIC
-- holds there is that database's own arrangement (its loader or report roles may rely on it),
-- which dbkit reports (verify's privileges audit) but does not take away. Other roles are
-- not touched.
-- Depends on: 0007 (previous migration of this module).

revoke all on schema alm_reporting from anon, authenticated, service_role;
grant usage on schema alm_reporting to service_role;

do $$
declare
    v_table regclass;
    v_seq regclass;
    v_from text;
begin
    foreach v_table in array array[
        'alm_reporting.chronological_events', 'alm_reporting.daily_summary', 'alm_reporting.import_history',
        'alm_reporting.processing_status', 'alm_reporting.processed_files']::regclass[]
    loop
        v_from := case when v_table in ('alm_reporting.chronological_events'::regclass, 'alm_reporting.daily_summary'::regclass)
                       then 'anon, authenticated, service_role'
                       else 'public, anon, authenticated, service_role' end;
        execute pg_catalog.format('revoke all on table %s from %s', v_table, v_from);
        execute pg_catalog.format('grant select, insert, update, delete on table %s to service_role', v_table);
        -- The key sequences, whatever an existing ALM database named them (serial or identity).
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
    end loop;
end
$$;

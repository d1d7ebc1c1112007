-- 0001_alm_base_tables (rollback): drop the minimal chronological_events and
-- daily_summary tables and the alm_reporting schema.
-- Source: seed 002 Step 4 / Issue 2. dbkit refuses to run this while either table
-- holds rows (an existing ALM database's data) unless --force is given.
-- The schema is dropped only when nothing else lives in it: an existing ALM
-- database keeps its other tables and therefore its schema.

drop table alm_reporting.daily_summary;
drop table alm_reporting.chronological_events;

do $$
begin
    if not exists (select 1 from pg_catalog.pg_class c where c.relnamespace = 'alm_reporting'::regnamespace)
       and not exists (select 1 from pg_catalog.pg_proc p where p.pronamespace = 'alm_reporting'::regnamespace)
       and not exists (select 1 from pg_catalog.pg_type t where t.typnamespace = 'alm_reporting'::regnamespace)
    then
        drop schema alm_reporting;
    else
        raise notice 'schema alm_reporting still holds other objects; it is kept';
    end if;
end
$$;

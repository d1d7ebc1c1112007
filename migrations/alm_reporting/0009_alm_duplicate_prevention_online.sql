-- 0009_alm_duplicate_prevention_online: the safer form of 0002_alm_duplicate_prevention.
-- Same end state (the preflight, the privileges, the two unique constraints, the two
-- last_updated columns and their triggers and comments), without building the unique
-- indexes under ACCESS EXCLUSIVE: each index is built CONCURRENTLY (the application keeps
-- reading and writing) and attached as its constraint with ADD CONSTRAINT ... UNIQUE USING
-- INDEX (a short ACCESS EXCLUSIVE, no scan). Where 0002 is pending, dbkit runs this file in
-- its place and records 0002 (docs/authoring.md, "Safer forms"); where 0002 was applied,
-- both constraints exist and every statement leaves things as they are (the privileges and
-- comments are 0002's, which no later migration changes: `dbkit snapshot` runs this file in
-- both places, so a difference would show in the generated catalog).
-- Source: seed 002 Step 4; issue 16 (production rehearsal: 0002 held ACCESS EXCLUSIVE on
-- chronological_events for 6.2 s with 1,000,000 rows).
-- replaces: 0002_alm_duplicate_prevention
-- transactional: false

-- Preflight: count duplicate keys on both tables and stop with examples if any.
-- Keys whose unique constraint already exists cannot hold duplicates and are skipped.
do $$
declare
    v_key record;
    v_count bigint;
    v_examples text;
    v_problems text[] := '{}';
begin
    for v_key in
        select k.tbl::regclass as tbl, k.col, k.con
          from (values ('alm_reporting.chronological_events', 'source_transaction_id',
                        'uk_chronological_events_transaction'),
                       ('alm_reporting.daily_summary', 'summary_date', 'uk_daily_summary_date')) as k(tbl, col, con)
         where not exists (select 1 from pg_catalog.pg_constraint c
                            where c.conrelid = k.tbl::regclass and c.conname = k.con)
    loop
        execute format(
            'select count(*), string_agg(format(''%%L (%%s rows)'', d.key, d.n), '', '') filter (where d.rn <= 5)
               from (select t.%1$I::text as key, count(*) as n,
                            row_number() over (order by count(*) desc, t.%1$I) as rn
                       from %2$s t
                      where t.%1$I is not null
                      group by t.%1$I
                     having count(*) > 1) d',
            v_key.col, v_key.tbl)
            into v_count, v_examples;
        if v_count > 0 then
            v_problems := v_problems || format('%s has %s duplicate %s value(s), e.g. %s',
                                               v_key.tbl, v_count, v_key.col, v_examples);
        end if;
    end loop;

    if cardinality(v_problems) > 0 then
        raise exception using
            errcode = 'unique_violation',
            message = 'preflight for the unique constraints of seed 002 Step 4 failed: '
                || array_to_string(v_problems, '; ')
                || '. Nothing was changed. Hint: keep one row per key (e.g. the newest) and '
                || 'delete or merge the others, then run dbkit apply again.',
            hint = 'List them with: select source_transaction_id, count(*) from alm_reporting.chronological_events '
                || 'group by 1 having count(*) > 1; select summary_date, count(*) from alm_reporting.daily_summary '
                || 'group by 1 having count(*) > 1;';
    end if;
end
$$;

-- Privileges: the schema is not an API schema; only service_role (the automation's
-- role on Supabase) gets in. Here rather than in 0001 because a baselined database
-- never runs 0001. (Revoked from the API roles first, as 0008 does.)
revoke all on schema alm_reporting from anon, authenticated;
grant usage on schema alm_reporting to service_role;
revoke all on table alm_reporting.chronological_events from anon, authenticated;
grant select, insert, update, delete on table alm_reporting.chronological_events to service_role;
revoke all on table alm_reporting.daily_summary from anon, authenticated;
grant select, insert, update, delete on table alm_reporting.daily_summary to service_role;
-- The key sequences, whatever an existing ALM database named them (serial or identity).
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
        execute format('grant usage on sequence %s to service_role', v_seq);
    end loop;
end
$$;

alter table alm_reporting.daily_summary
    add column if not exists last_updated timestamp default current_timestamp;
comment on column alm_reporting.daily_summary.last_updated is
    'Time of the last change; set by trigger update_daily_summary_last_updated.';

alter table alm_reporting.chronological_events
    add column if not exists last_updated timestamp default current_timestamp;
comment on column alm_reporting.chronological_events.last_updated is
    'Time of the last change; set by trigger update_chronological_events_last_updated.';

do $$
begin
    if not exists (
        select 1 from pg_catalog.pg_trigger
        where tgrelid = 'alm_reporting.daily_summary'::regclass
          and tgname = 'update_daily_summary_last_updated'
          and not tgisinternal
    ) then
        create trigger update_daily_summary_last_updated
            before update on alm_reporting.daily_summary
            for each row execute function public.update_last_updated_column();
    end if;
end
$$;
comment on trigger update_daily_summary_last_updated on alm_reporting.daily_summary is
    'Keeps daily_summary.last_updated current on every update (seed 002 Step 4).';

do $$
begin
    if not exists (
        select 1 from pg_catalog.pg_trigger
        where tgrelid = 'alm_reporting.chronological_events'::regclass
          and tgname = 'update_chronological_events_last_updated'
          and not tgisinternal
    ) then
        create trigger update_chronological_events_last_updated
            before update on alm_reporting.chronological_events
            for each row execute function public.update_last_updated_column();
    end if;
end
$$;
comment on trigger update_chronological_events_last_updated on alm_reporting.chronological_events is
    'Keeps chronological_events.last_updated current on every update (seed 002 Step 4).';

-- The unique keys: each index built CONCURRENTLY, then attached as its constraint (no scan).
-- A unique index a failed concurrent build left INVALID is dropped before it is built again.
do $$
declare
    v_index regclass;
begin
    for v_index in
        select i.indexrelid::regclass
          from pg_catalog.pg_index i
         where i.indexrelid in (to_regclass('alm_reporting.uk_chronological_events_transaction'),
                                to_regclass('alm_reporting.uk_daily_summary_date'))
           and not i.indisvalid
           and not exists (select 1 from pg_catalog.pg_constraint c where c.conindid = i.indexrelid)
    loop
        execute format('drop index %s', v_index);
    end loop;
end
$$;

create unique index concurrently if not exists uk_chronological_events_transaction
    on alm_reporting.chronological_events (source_transaction_id);
create unique index concurrently if not exists uk_daily_summary_date
    on alm_reporting.daily_summary (summary_date);

do $$
begin
    if not exists (select 1 from pg_catalog.pg_constraint
                    where conrelid = 'alm_reporting.chronological_events'::regclass
                      and conname = 'uk_chronological_events_transaction') then
        alter table alm_reporting.chronological_events
            add constraint uk_chronological_events_transaction unique using index uk_chronological_events_transaction;
    end if;
    if not exists (select 1 from pg_catalog.pg_constraint
                    where conrelid = 'alm_reporting.daily_summary'::regclass
                      and conname = 'uk_daily_summary_date') then
        alter table alm_reporting.daily_summary
            add constraint uk_daily_summary_date unique using index uk_daily_summary_date;
    end if;
end
$$;
comment on constraint uk_chronological_events_transaction on alm_reporting.chronological_events is
    'One event per broker transaction: imports upsert on this key (seed 002 Step 4).';
comment on constraint uk_daily_summary_date on alm_reporting.daily_summary is
    'One summary per day: imports upsert on this key (seed 002 Step 4).';

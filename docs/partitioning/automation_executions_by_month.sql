-- automation_executions partitioned by month: the option seed 004 suggests for large
-- deployments ("Partition by month for large-scale deployments (optional)").
-- Not a migration: a deployment chooses it (docs/partitioning.md says when, what it costs,
-- and what verify reports afterwards). bench/partitioning.py runs this file as written.
-- Run as the owner of the automations module's tables, in one transaction, in a window
-- without writes to automation_executions: the copy takes an EXCLUSIVE lock (reads go on).
-- Source: seed 004 "automation_executions" (the table, its indexes and the commented
-- PARTITION OF example); issue 19.

begin;

lock table public.automation_executions in exclusive mode;

alter table public.automation_executions rename to automation_executions_unpartitioned;

-- The document's columns, defaults and CHECK constraints, unchanged.
create table public.automation_executions (
    like public.automation_executions_unpartitioned including defaults including constraints including comments
) partition by range (started_at);

-- One partition per month from the oldest row to two months ahead. New months come from
-- public.create_automation_execution_partitions(), run daily (pg_cron) with the cleanup.
create or replace function public.create_automation_execution_partitions(p_from date, p_to date)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_month date := pg_catalog.date_trunc('month', p_from)::date;
    v_created integer := 0;
    v_name text;
begin
    while v_month < p_to loop
        v_name := pg_catalog.format('automation_executions_y%sm%s', pg_catalog.to_char(v_month, 'YYYY'),
                                    pg_catalog.to_char(v_month, 'MM'));
        if pg_catalog.to_regclass('public.' || v_name) is null then
            execute pg_catalog.format(
                'create table public.%I partition of public.automation_executions for values from (%L) to (%L)',
                v_name, v_month, (v_month + interval '1 month')::date);
            v_created := v_created + 1;
        end if;
        v_month := (v_month + interval '1 month')::date;
    end loop;
    return v_created;
end;
$$;

comment on function public.create_automation_execution_partitions(date, date) is
'Creates the monthly partitions of automation_executions covering [p_from, p_to) that do not exist yet; returns how many.';

revoke all on function public.create_automation_execution_partitions(date, date)
    from public, anon, authenticated, service_role;

select public.create_automation_execution_partitions(
    coalesce((select pg_catalog.min(started_at)::date from public.automation_executions_unpartitioned), current_date),
    (current_date + interval '2 months')::date
);

insert into public.automation_executions select * from public.automation_executions_unpartitioned;

-- Everything else the module defined on the table, read from the catalog rather than restated:
-- its foreign keys, indexes (the document's and the module's), row triggers (the stats
-- trigger) and grants, recreated on the partitioned table under the same names once the old
-- table is gone. Its policies come from the module's policy file (docs/partitioning.md, step 3).
create temporary table automation_executions_definitions on commit drop as
select 1 as step, pg_catalog.format('alter table public.automation_executions add constraint %I %s',
                                    c.conname, pg_catalog.pg_get_constraintdef(c.oid)) as ddl
from pg_catalog.pg_constraint as c
where c.conrelid = 'public.automation_executions_unpartitioned'::regclass and c.contype = 'f'
union all
select 2, pg_catalog.pg_get_indexdef(i.indexrelid)
from pg_catalog.pg_index as i
where i.indrelid = 'public.automation_executions_unpartitioned'::regclass and not i.indisprimary
union all
select 3, pg_catalog.pg_get_triggerdef(t.oid)
from pg_catalog.pg_trigger as t
where t.tgrelid = 'public.automation_executions_unpartitioned'::regclass and not t.tgisinternal
union all
select 4, pg_catalog.format('grant %s on table public.automation_executions to %I', g.privilege_type, g.grantee)
from information_schema.role_table_grants as g
where g.table_schema = 'public' and g.table_name = 'automation_executions_unpartitioned'
  and g.grantee <> g.grantor;

drop table public.automation_executions_unpartitioned;

-- A partitioned table's primary key must contain the partition key: (id, started_at) instead
-- of the document's (id). ids stay gen_random_uuid(); no table references this one.
alter table public.automation_executions
    add constraint automation_executions_pkey primary key (id, started_at);

revoke all on table public.automation_executions from public, anon, authenticated, service_role;

do $$
declare
    v_ddl text;
begin
    for v_ddl in
        select replace(d.ddl, ' public.automation_executions_unpartitioned ', ' public.automation_executions ')
        from automation_executions_definitions as d
        order by d.step
    loop
        execute v_ddl;
    end loop;
end
$$;

-- Retention by whole partitions: a month whose every row is past its retention (finished,
-- completed_at older than 30 days, 7 for failed) is detached and dropped: no dead rows, no
-- vacuum, no long DELETE. A month that still holds a running, pending or recent row is left
-- to cleanup_old_executions(), which works on the partitioned table unchanged.
create or replace function public.drop_expired_automation_execution_partitions()
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_part record;
    v_dropped integer := 0;
    v_busy boolean;
begin
    for v_part in
        select c.oid::regclass as rel, c.relname
        from pg_catalog.pg_inherits as i
        join pg_catalog.pg_class as c on c.oid = i.inhrelid
        where i.inhparent = 'public.automation_executions'::regclass
          -- only months that ended more than 7 days ago can be wholly past retention
          and c.relname < pg_catalog.format('automation_executions_y%s',
                pg_catalog.to_char(pg_catalog.now() - interval '7 days', 'YYYY"m"MM'))
        order by c.relname
    loop
        execute pg_catalog.format(
            'select exists (select 1 from %s as e where e.status in (''pending'', ''running'') or e.completed_at is null'
            ' or (e.status in (''completed'', ''cancelled'') and e.completed_at >= pg_catalog.now() - interval ''30 days'')'
            ' or (e.status = ''failed'' and e.completed_at >= pg_catalog.now() - interval ''7 days''))', v_part.rel)
        into v_busy;
        if not v_busy then
            execute pg_catalog.format('alter table public.automation_executions detach partition %s', v_part.rel);
            execute pg_catalog.format('drop table %s', v_part.rel);
            v_dropped := v_dropped + 1;
        end if;
    end loop;
    return v_dropped;
end;
$$;

comment on function public.drop_expired_automation_execution_partitions() is
'Detaches and drops every monthly partition of automation_executions whose rows are all past retention; returns how many.';

revoke all on function public.drop_expired_automation_execution_partitions()
    from public, anon, authenticated, service_role;

commit;

-- 0014_strategy_workflow_sessions_autonomous_online: the safer form of
-- 0002_strategy_workflow_sessions_autonomous. Same end state (the 7 columns in the same
-- order, the same CHECK constraints and comments, the widened status set, the two
-- functions), without holding ACCESS EXCLUSIVE on workflow_sessions during a scan of its
-- rows. Every CHECK is added NOT VALID (a short ACCESS EXCLUSIVE, no scan) and validated
-- in its own transaction (SHARE UPDATE EXCLUSIVE: the application keeps reading and
-- writing); the widened status CHECK is built beside the old one and swapped in by name.
-- Where 0002 is pending, dbkit runs this file in its place and records 0002 (see
-- docs/authoring.md, "Safer forms"); where 0002 was applied, every statement finds its
-- object in place and changes nothing.
-- Source: seed 003 §1.1 "Alter workflow_sessions Table"; issue 16 (production rehearsal:
-- 0002 held ACCESS EXCLUSIVE for 5.1 s on 1,000,000 rows).
-- replaces: 0002_strategy_workflow_sessions_autonomous
-- transactional: false

alter table public.workflow_sessions add column if not exists execution_interval_minutes integer not null default 5;
alter table public.workflow_sessions add column if not exists auto_run boolean not null default false;
alter table public.workflow_sessions add column if not exists last_executed_at timestamptz;
alter table public.workflow_sessions add column if not exists next_execution_at timestamptz;
alter table public.workflow_sessions add column if not exists success_count integer not null default 0;
alter table public.workflow_sessions add column if not exists error_count integer not null default 0;
alter table public.workflow_sessions add column if not exists average_execution_time_ms integer;

-- The column CHECKs: added NOT VALID where absent (0002 applied: present, skipped).
do $$
declare
    v_check record;
begin
    for v_check in
        select k.con, k.expr
          from (values
                  ('workflow_sessions_execution_interval_minutes_check', 'execution_interval_minutes >= 1'),
                  ('workflow_sessions_success_count_check', 'success_count >= 0'),
                  ('workflow_sessions_error_count_check', 'error_count >= 0'),
                  ('workflow_sessions_average_execution_time_ms_check', 'average_execution_time_ms >= 0')
               ) as k(con, expr)
         where not exists (select 1 from pg_catalog.pg_constraint c
                            where c.conrelid = 'public.workflow_sessions'::regclass and c.conname = k.con)
    loop
        execute format('alter table public.workflow_sessions add constraint %I check (%s) not valid',
                       v_check.con, v_check.expr);
    end loop;
end
$$;

-- The widened status set, beside the document's four-value CHECK until it is validated.
do $$
begin
    if not exists (select 1 from pg_catalog.pg_constraint c
                    where c.conrelid = 'public.workflow_sessions'::regclass
                      and c.conname = 'workflow_sessions_status_check'
                      and pg_catalog.pg_get_constraintdef(c.oid) like '%''running''%')
       and not exists (select 1 from pg_catalog.pg_constraint c
                        where c.conrelid = 'public.workflow_sessions'::regclass
                          and c.conname = 'workflow_sessions_status_check_widened') then
        alter table public.workflow_sessions
            add constraint workflow_sessions_status_check_widened
            check (status in ('draft', 'active', 'paused', 'archived', 'running', 'stopped', 'error')) not valid;
    end if;
end
$$;

-- Validate each in its own transaction: SHARE UPDATE EXCLUSIVE while the rows are scanned.
alter table public.workflow_sessions validate constraint workflow_sessions_execution_interval_minutes_check;
alter table public.workflow_sessions validate constraint workflow_sessions_success_count_check;
alter table public.workflow_sessions validate constraint workflow_sessions_error_count_check;
alter table public.workflow_sessions validate constraint workflow_sessions_average_execution_time_ms_check;
do $$
begin
    if exists (select 1 from pg_catalog.pg_constraint c
                where c.conrelid = 'public.workflow_sessions'::regclass
                  and c.conname = 'workflow_sessions_status_check_widened') then
        alter table public.workflow_sessions validate constraint workflow_sessions_status_check_widened;
    end if;
end
$$;

-- Swap the validated widened CHECK in under the document's name (no scan).
do $$
begin
    if exists (select 1 from pg_catalog.pg_constraint c
                where c.conrelid = 'public.workflow_sessions'::regclass
                  and c.conname = 'workflow_sessions_status_check_widened') then
        alter table public.workflow_sessions drop constraint if exists workflow_sessions_status_check;
        alter table public.workflow_sessions
            rename constraint workflow_sessions_status_check_widened to workflow_sessions_status_check;
    end if;
end
$$;

-- The comments, where the objects have none yet: where 0002 was applied, later migrations
-- may have reworded them (0011 did, for next_execution_at), and their words stay.
do $$
declare
    v_column record;
begin
    for v_column in
        select a.attname, k.note
          from (values
                  ('execution_interval_minutes', 'Minutes between two autonomous runs (>= 1).'),
                  ('auto_run', 'True while the cron job should run this strategy.'),
                  ('last_executed_at', 'When the last recorded run finished (public.record_strategy_execution).'),
                  ('next_execution_at', 'When the strategy is next due; NULL means not scheduled. Advanced by public.claim_due_strategies.'),
                  ('success_count', 'Number of successful autonomous runs.'),
                  ('error_count', 'Number of failed autonomous runs.'),
                  ('average_execution_time_ms', 'Running mean duration of all recorded runs, in ms; NULL before the first run.')
               ) as k(col, note)
          join pg_catalog.pg_attribute a
            on a.attrelid = 'public.workflow_sessions'::regclass and a.attname = k.col and not a.attisdropped
         where pg_catalog.col_description(a.attrelid, a.attnum) is null
    loop
        execute format('comment on column public.workflow_sessions.%I is %L', v_column.attname, v_column.note);
    end loop;
    if pg_catalog.obj_description((select c.oid from pg_catalog.pg_constraint c
                                    where c.conrelid = 'public.workflow_sessions'::regclass
                                      and c.conname = 'workflow_sessions_status_check'), 'pg_constraint') is null then
        comment on constraint workflow_sessions_status_check on public.workflow_sessions is
            'Seed 003 §1.1: running, stopped and error added for autonomous execution.';
    end if;
end
$$;

-- include: sql/functions/public.claim_due_strategies.sql
-- include: sql/functions/public.record_strategy_execution.sql

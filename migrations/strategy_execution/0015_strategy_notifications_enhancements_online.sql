-- 0015_strategy_notifications_enhancements_online: the safer form of
-- 0007_strategy_notifications_enhancements. Same end state (notifications.workflow_id and
-- its foreign key ON DELETE SET NULL, the priority CHECK, the widened type CHECK, their
-- comments, public.create_strategy_notification), without scanning notifications under
-- ACCESS EXCLUSIVE: the column is added bare, the foreign key and the CHECKs NOT VALID
-- (short locks, no scan), each validated in its own transaction (SHARE UPDATE EXCLUSIVE on
-- notifications, ROW SHARE on workflow_sessions: the application keeps writing), and the
-- widened type CHECK is built beside the document's and swapped in by name.
-- Where 0007 is pending, dbkit runs this file in its place and records 0007 (see
-- docs/authoring.md, "Safer forms"); where 0007 was applied, every statement finds its
-- object in place and changes nothing.
-- Source: seed 003 §1.5 "Enhance notifications Table"; issue 16 (production rehearsal:
-- 0007 held ACCESS EXCLUSIVE on notifications for 1.9 s with 1,000,000 rows).
-- replaces: 0007_strategy_notifications_enhancements
-- transactional: false

alter table public.notifications add column if not exists workflow_id uuid;

do $$
begin
    if not exists (select 1 from pg_catalog.pg_constraint
                    where conrelid = 'public.notifications'::regclass and conname = 'notifications_workflow_id_fkey') then
        alter table public.notifications
            add constraint notifications_workflow_id_fkey foreign key (workflow_id)
            references public.workflow_sessions (id) on delete set null not valid;
    end if;
    if not exists (select 1 from pg_catalog.pg_constraint
                    where conrelid = 'public.notifications'::regclass and conname = 'notifications_priority_check') then
        alter table public.notifications
            add constraint notifications_priority_check
            check (priority in ('low', 'normal', 'high', 'urgent')) not valid;
    end if;
    if not exists (select 1 from pg_catalog.pg_constraint c
                    where c.conrelid = 'public.notifications'::regclass
                      and c.conname = 'notifications_type_check'
                      and pg_catalog.pg_get_constraintdef(c.oid) like '%''strategy_started''%')
       and not exists (select 1 from pg_catalog.pg_constraint
                        where conrelid = 'public.notifications'::regclass
                          and conname = 'notifications_type_check_widened') then
        alter table public.notifications
            add constraint notifications_type_check_widened
            check (type in (
                'info', 'success', 'warning', 'error', 'system',
                'strategy_started', 'strategy_paused', 'strategy_stopped', 'strategy_error',
                'watchlist_updated', 'execution_completed', 'execution_failed'
            )) not valid;
    end if;
end
$$;

-- Validate each in its own transaction (a no-op for a constraint already valid).
alter table public.notifications validate constraint notifications_workflow_id_fkey;
alter table public.notifications validate constraint notifications_priority_check;
do $$
begin
    if exists (select 1 from pg_catalog.pg_constraint
                where conrelid = 'public.notifications'::regclass and conname = 'notifications_type_check_widened') then
        alter table public.notifications validate constraint notifications_type_check_widened;
    end if;
end
$$;

-- Swap the validated widened CHECK in under the document's name (no scan).
do $$
begin
    if exists (select 1 from pg_catalog.pg_constraint
                where conrelid = 'public.notifications'::regclass and conname = 'notifications_type_check_widened') then
        alter table public.notifications drop constraint if exists notifications_type_check;
        alter table public.notifications rename constraint notifications_type_check_widened to notifications_type_check;
    end if;
end
$$;

-- The comments, where the objects have none yet (later migrations' words stay).
do $$
begin
    if pg_catalog.col_description('public.notifications'::regclass,
                                  (select a.attnum from pg_catalog.pg_attribute a
                                    where a.attrelid = 'public.notifications'::regclass
                                      and a.attname = 'workflow_id')) is null then
        comment on column public.notifications.workflow_id is
            'The strategy the notification is about; NULL when not about a strategy or the strategy was deleted.';
    end if;
    if pg_catalog.obj_description((select c.oid from pg_catalog.pg_constraint c
                                    where c.conrelid = 'public.notifications'::regclass
                                      and c.conname = 'notifications_type_check'), 'pg_constraint') is null then
        comment on constraint notifications_type_check on public.notifications is
            'Seed 003 §1.5: the 7 strategy notification types added.';
    end if;
end
$$;

-- include: sql/functions/public.create_strategy_notification.sql

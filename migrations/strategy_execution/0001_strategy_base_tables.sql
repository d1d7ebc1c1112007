-- 0001_strategy_base_tables: the tables seed 003 alters or references but never defines:
-- public.workflow_sessions (a user's strategy), public.workflow_executions (one run of a
-- strategy) and public.notifications (in-app notifications), with owner-only RLS.
-- Source: seed 003 §1.1 (workflow_sessions is altered), §1.2/§1.4 (workflow_executions is
-- referenced), §1.5 (notifications is enhanced). Minimal honest definitions: only the
-- columns the document and its functions use, plus what an owner-scoped table needs.
-- An application that already has these tables baselines this migration
-- (`dbkit baseline --module strategy_execution --through 0001_strategy_base_tables`).
-- Statuses before 0002: draft, active, paused, archived (see docs/decisions.md).
-- depends: 0001_platform_auth_shim

create table public.workflow_sessions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    name text not null default 'Untitled strategy',
    description text,
    nodes jsonb not null default '[]'::jsonb,
    edges jsonb not null default '[]'::jsonb,
    status text not null default 'draft'
        constraint workflow_sessions_status_check
        check (status in ('draft', 'active', 'paused', 'archived')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
comment on table public.workflow_sessions is 'A user''s strategy (workflow): its graph and lifecycle status. Seed 003 base table.';
comment on column public.workflow_sessions.user_id is 'Owner; every RLS policy of the strategy tables resolves ownership through this column.';
comment on column public.workflow_sessions.status is 'Lifecycle state; 0002 widens the set with running, stopped, error.';
grant select, insert, update, delete on table public.workflow_sessions to authenticated;
grant select, insert, update, delete on table public.workflow_sessions to service_role;
create index idx_workflow_sessions_user on public.workflow_sessions using btree (user_id);

create trigger update_workflow_sessions_updated_at
    before update on public.workflow_sessions
    for each row execute function public.update_updated_at_column();

-- include: sql/policies/public.workflow_sessions.sql

create table public.workflow_executions (
    id uuid primary key default gen_random_uuid(),
    workflow_id uuid not null references public.workflow_sessions (id) on delete cascade,
    status text not null default 'running'
        constraint workflow_executions_status_check
        check (status in ('running', 'completed', 'failed', 'cancelled')),
    started_at timestamptz not null default now(),
    completed_at timestamptz,
    error_message text,
    created_at timestamptz not null default now()
);
comment on table public.workflow_executions is 'One run of a strategy; the parent of its per-node strategy_execution_logs. Seed 003 base table.';
grant select on table public.workflow_executions to authenticated;
grant select, insert, update, delete on table public.workflow_executions to service_role;
create index idx_workflow_executions_workflow on public.workflow_executions using btree (workflow_id, started_at desc);

-- include: sql/policies/public.workflow_executions.sql

create table public.notifications (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    type text not null
        constraint notifications_type_check
        check (type in ('info', 'success', 'warning', 'error', 'system')),
    priority text not null default 'normal',
    title text not null,
    message text not null,
    read boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
comment on table public.notifications is 'In-app notifications for one user. Seed 003 base table; 0007 links them to strategies.';
grant select, delete on table public.notifications to authenticated;
grant update (read) on table public.notifications to authenticated;
grant select, insert, update, delete on table public.notifications to service_role;
create index idx_notifications_user on public.notifications using btree (user_id, created_at desc);

create trigger update_notifications_updated_at
    before update on public.notifications
    for each row execute function public.update_updated_at_column();

-- include: sql/policies/public.notifications.sql

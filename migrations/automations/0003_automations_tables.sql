-- The automations and automation_executions tables with their indexes, updated_at
-- trigger, grants and RLS policies.
-- Source: seed 004 "Tables" (automations, automation_executions) and "RLS Policies".
-- Added to the document: idx_automations_event_match, the index behind the event-trigger
-- matching query of 0004 (owner + event_source among enabled, active 'event' automations);
-- idx_executions_conversation for the conversation_id foreign key; idx_executions_cleanup
-- (status, completed_at) for the batched cleanup of 0005.
-- depends: 0001_platform_auth_shim

create table public.automations (
    id uuid not null default gen_random_uuid() primary key,
    agent_id uuid not null references public.agents (id) on delete cascade,
    user_id uuid not null,

    -- Metadata
    name text not null,
    description text,
    icon text default 'Zap',
    color text default 'blue',

    -- Status
    status text not null default 'draft' check (status in ('draft', 'active', 'paused', 'error')),
    enabled boolean not null default false,

    -- Trigger configuration
    trigger_type text not null check (trigger_type in (
        'event',      -- Lead/conversation events
        'schedule',   -- Cron-based
        'manual',     -- User-initiated
        'ai_tool'     -- Called by AI as a tool
    )),
    trigger_config jsonb not null default '{}',

    -- Flow definition (React Flow format)
    nodes jsonb not null default '[]',
    edges jsonb not null default '[]',
    viewport jsonb default '{"x": 0, "y": 0, "zoom": 1}',

    -- Execution stats
    execution_count integer not null default 0,
    last_executed_at timestamptz,
    last_execution_status text,

    -- Timestamps
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.automations is
'Automation flow definitions of an account (user_id = the account owner). Seed 004.';

create index idx_automations_agent on public.automations (agent_id);

create index idx_automations_user on public.automations (user_id);

create index idx_automations_status on public.automations (status) where enabled = true;

create index idx_automations_trigger on public.automations (trigger_type) where enabled = true;

create index idx_automations_event_match on public.automations (user_id, (trigger_config ->> 'event_source'))
where trigger_type = 'event' and enabled = true and status = 'active';

comment on index public.idx_automations_event_match is
'Serves the matching query of fire_lead_automations / fire_conversation_automations.';

create trigger update_automations_updated_at
before update on public.automations
for each row
execute function public.update_updated_at_column();

grant select, insert, update, delete on public.automations to authenticated;

grant select, insert, update, delete on public.automations to service_role;

create table public.automation_executions (
    id uuid not null default gen_random_uuid() primary key,
    automation_id uuid not null references public.automations (id) on delete cascade,

    -- Trigger context
    trigger_type text not null,
    trigger_data jsonb,

    -- Execution state
    status text not null default 'pending' check (status in (
        'pending',
        'running',
        'completed',
        'failed',
        'cancelled'
    )),

    -- Results
    nodes_executed jsonb default '[]',
    variables jsonb default '{}',
    error text,
    error_node_id text,

    -- Timing
    started_at timestamptz not null default now(),
    completed_at timestamptz,
    duration_ms integer,

    -- Flags
    test_mode boolean not null default false,

    -- Context
    triggered_by uuid, -- User ID if manual
    lead_id uuid references public.leads (id) on delete set null,
    conversation_id uuid references public.conversations (id) on delete set null
);

comment on table public.automation_executions is
'Execution history of automations, written by the service role. Seed 004.';

create index idx_executions_automation on public.automation_executions (automation_id);

create index idx_executions_status on public.automation_executions (status);

create index idx_executions_started on public.automation_executions (started_at desc);

create index idx_executions_lead on public.automation_executions (lead_id) where lead_id is not null;

create index idx_executions_conversation on public.automation_executions (conversation_id)
where conversation_id is not null;

comment on index public.idx_executions_conversation is
'Serves the conversation_id foreign key (ON DELETE SET NULL) without scanning executions.';

create index idx_executions_cleanup on public.automation_executions (status, completed_at)
where status in ('completed', 'cancelled', 'failed');

comment on index public.idx_executions_cleanup is
'Serves cleanup_old_executions(): finished executions by status and completion time.';

grant select, delete on public.automation_executions to authenticated;

grant select, insert, update, delete on public.automation_executions to service_role;

-- include: sql/policies/public.automations.sql
-- include: sql/policies/public.automation_executions.sql

-- Base tables that seed 004 references but does not define: agents, leads, conversations.
-- Source: seed 004 "Automations Database Schema" (automations.agent_id -> agents,
--   automation_executions.lead_id -> leads, .conversation_id -> conversations;
--   "Database Triggers": leads.user_id, conversations.agent_id, agents.user_id).
-- A database that already has these tables (the existing app) marks this migration
-- as applied instead of running it: dbkit baseline --module automations --through 0001_automations_base_tables
-- RLS is switched on here with no policy, so until 0002_automations_account_access adds the
-- account policies and the authenticated grants only service_role (BYPASSRLS) reaches the rows.
-- depends: 0001_platform_auth_shim

create table public.agents (
    id uuid not null default gen_random_uuid() primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    name text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.agents is
'An AI agent owned by an account (user_id = the account owner). Minimal definition for seed 004.';

alter table public.agents enable row level security;

create index idx_agents_user on public.agents (user_id);

create trigger update_agents_updated_at
before update on public.agents
for each row
execute function public.update_updated_at_column();

grant select, insert, update, delete on public.agents to service_role;

create table public.leads (
    id uuid not null default gen_random_uuid() primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    agent_id uuid references public.agents (id) on delete set null,
    name text,
    email text,
    phone text,
    status text not null default 'new',
    metadata jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.leads is
'A lead of an account (user_id = the account owner). Minimal definition for seed 004.';

alter table public.leads enable row level security;

create index idx_leads_user on public.leads (user_id);

create index idx_leads_agent on public.leads (agent_id);

create trigger update_leads_updated_at
before update on public.leads
for each row
execute function public.update_updated_at_column();

grant select, insert, update, delete on public.leads to service_role;

create table public.conversations (
    id uuid not null default gen_random_uuid() primary key,
    agent_id uuid not null references public.agents (id) on delete cascade,
    lead_id uuid references public.leads (id) on delete set null,
    status text not null default 'open',
    metadata jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.conversations is
'A conversation handled by an agent; its account is the agent''s owner. Minimal definition for seed 004.';

alter table public.conversations enable row level security;

create index idx_conversations_agent on public.conversations (agent_id);

create index idx_conversations_lead on public.conversations (lead_id);

create trigger update_conversations_updated_at
before update on public.conversations
for each row
execute function public.update_updated_at_column();

grant select, insert, update, delete on public.conversations to service_role;

-- Rollback of 0001_automations_base_tables: drop conversations, leads, agents (reverse order).
-- Source: seed 004 (referenced tables).

revoke select, insert, update, delete on public.conversations from service_role;

drop trigger update_conversations_updated_at on public.conversations;

drop index public.idx_conversations_lead;

drop index public.idx_conversations_agent;

alter table public.conversations disable row level security;

drop table public.conversations;

revoke select, insert, update, delete on public.leads from service_role;

drop trigger update_leads_updated_at on public.leads;

drop index public.idx_leads_agent;

drop index public.idx_leads_user;

alter table public.leads disable row level security;

drop table public.leads;

revoke select, insert, update, delete on public.agents from service_role;

drop trigger update_agents_updated_at on public.agents;

drop index public.idx_agents_user;

alter table public.agents disable row level security;

drop table public.agents;

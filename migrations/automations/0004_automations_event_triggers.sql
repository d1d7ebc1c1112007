-- Event triggers: leads (INSERT/UPDATE/DELETE) and conversations (INSERT/UPDATE) notify
-- channel automation_trigger for each matching event automation.
-- Source: seed 004 "Database Triggers" (Event-Based Automation Firing, Conversation Event Trigger).
-- Matching, payload contract and the 8000-byte guard live in one place:
-- sql/functions/public.notify_automation_trigger.sql.
-- depends: 0001_platform_auth_shim

-- include: sql/functions/public.notify_automation_trigger.sql

-- include: sql/functions/public.fire_lead_automations.sql

create trigger trigger_lead_automations
after insert or update or delete on public.leads
for each row
execute function public.fire_lead_automations();

-- include: sql/functions/public.fire_conversation_automations.sql

create trigger trigger_conversation_automations
after insert or update on public.conversations
for each row
execute function public.fire_conversation_automations();

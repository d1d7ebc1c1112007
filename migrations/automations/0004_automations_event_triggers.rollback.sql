-- Rollback of 0004_automations_event_triggers: drops both triggers, their functions
-- and the shared notify function.
-- Source: seed 004 "Database Triggers".

drop trigger trigger_conversation_automations on public.conversations;

drop function public.fire_conversation_automations();

drop trigger trigger_lead_automations on public.leads;

drop function public.fire_lead_automations();

drop function public.notify_automation_trigger(uuid, text, text, text, jsonb, jsonb, text[]);

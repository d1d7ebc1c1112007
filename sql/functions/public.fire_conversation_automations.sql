-- public.fire_conversation_automations(): AFTER INSERT/UPDATE trigger on
-- public.conversations that notifies channel automation_trigger once per matching event
-- automation of the account owning the conversation's agent (event_source
-- 'conversation', event_type TG_OP or 'any').
-- Source: seed 004 "Database Triggers" / "Conversation Event Trigger".
-- Matching and the payload contract (incl. the 8000-byte guard, keys id, agent_id,
-- lead_id when truncated): sql/functions/public.notify_automation_trigger.sql.
-- Changes from the document: SECURITY DEFINER with search_path '' instead of public,
--   qualified names; nothing is matched when the agent has no owner; execute revoked
--   from everyone (only the trigger calls it).
-- Depends on: public.notify_automation_trigger, public.agents, public.conversations.
-- Included by: migrations/automations/0004_automations_event_triggers.sql

create or replace function public.fire_conversation_automations()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_owner_id uuid;
begin
    -- Get account owner from agent
    select ag.user_id into v_owner_id
    from public.agents as ag
    where ag.id = case when tg_op = 'DELETE' then old.agent_id else new.agent_id end;

    if v_owner_id is not null then
        perform public.notify_automation_trigger(
            v_owner_id,
            'conversation',
            tg_op,
            tg_table_name,
            case when tg_op = 'DELETE' then pg_catalog.to_jsonb(old) end,
            case when tg_op <> 'DELETE' then pg_catalog.to_jsonb(new) end,
            array['id', 'agent_id', 'lead_id']
        );
    end if;
    return null;
end;
$$;

comment on function public.fire_conversation_automations() is
'Trigger on conversations: pg_notify(''automation_trigger'') per matching event automation of the agent''s account.';

revoke all on function public.fire_conversation_automations() from public, anon, authenticated, service_role;

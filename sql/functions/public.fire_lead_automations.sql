-- public.fire_lead_automations(): AFTER INSERT/UPDATE/DELETE trigger on public.leads that
-- notifies channel automation_trigger once per matching event automation of the lead's
-- account (event_source 'lead', event_type TG_OP or 'any', owner NEW.user_id, or
-- OLD.user_id on DELETE).
-- Source: seed 004 "Database Triggers" / "Event-Based Automation Firing".
-- Matching and the payload contract (incl. the 8000-byte guard, keys id, user_id,
-- agent_id when truncated): sql/functions/public.notify_automation_trigger.sql.
-- Changes from the document: SECURITY DEFINER kept (matching must not depend on what the
--   writer may see of automations) but with search_path '' instead of public and
--   qualified names; execute revoked from everyone (only the trigger calls it).
-- Depends on: public.notify_automation_trigger, public.leads.
-- Included by: migrations/automations/0004_automations_event_triggers.sql

create or replace function public.fire_lead_automations()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform public.notify_automation_trigger(
        case when tg_op = 'DELETE' then old.user_id else new.user_id end,
        'lead',
        tg_op,
        tg_table_name,
        case when tg_op = 'DELETE' then pg_catalog.to_jsonb(old) end,
        case when tg_op <> 'DELETE' then pg_catalog.to_jsonb(new) end,
        array['id', 'user_id', 'agent_id']
    );
    return null;
end;
$$;

comment on function public.fire_lead_automations() is
'Trigger on leads: pg_notify(''automation_trigger'') per matching event automation of the lead''s account.';

revoke all on function public.fire_lead_automations() from public, anon, authenticated, service_role;

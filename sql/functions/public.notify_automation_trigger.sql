-- public.notify_automation_trigger(...): the shared half of fire_lead_automations and
-- fire_conversation_automations: find the matching event automations of one account and
-- send one pg_notify('automation_trigger', payload) per automation.
-- Source: seed 004 "Database Triggers" (the matching query and the pg_notify payload).
-- Matching: user_id = p_owner_id, trigger_type 'event', enabled, status 'active',
--   trigger_config.event_source = p_event_source, trigger_config.event_type = p_event or
--   'any'. Served by idx_automations_event_match (0003_automations_tables).
-- Payload contract (JSON text on channel automation_trigger, always < 8000 bytes):
--   {"automation_id": uuid,
--    "trigger_data": {"event": "INSERT|UPDATE|DELETE", "table": p_table,
--                     "old": row|null, "new": row|null, "timestamp": now(),
--                     "truncated": false}}
--   When that text would reach PostgreSQL's 8000-byte NOTIFY payload limit, old and new
--   keep only the p_key_columns of the row, "truncated" is true and "payload_bytes" is
--   the size of the full payload: the consumer re-reads the row by id (after a DELETE only
--   the keys survive). A large row never makes the user's write fail.
-- Configuration (docs/security.md, "The automation_trigger channel"), read from two settings
--   of the writing session, which a DBA sets for the database (ALTER DATABASE ... SET) or a
--   role (ALTER ROLE ... SET); unset means the document's behaviour:
--   * automations.trigger_payload = 'full' (default: the document's rows, old and new) or
--     'reference': old and new carry only p_key_columns, "truncated" and "reference" are
--     true, and the consumer re-reads the row as service_role. LISTEN needs no privilege, so
--     'reference' is what keeps row contents away from every login that can listen. Any
--     other value is taken as 'reference' (a typo never sends more than intended).
--   * automations.trigger_max_per_row = a positive integer (default 50) or 'unlimited': the
--     most notifications one row change sends on automation_trigger. Matching automations
--     are taken oldest first (created_at, id). Past the cap the remaining automations get no
--     notification of their own; instead one notification on channel
--     automation_trigger_overflow says which row and how many matched:
--       {"account_id": uuid, "event": ..., "table": ..., "old": keys|null, "new": keys|null,
--        "matched": n, "sent": cap, "timestamp": now()}
--     so a consumer can dispatch the rest by re-reading the row and the account's
--     automations. An invalid value is taken as the default.
-- Returns the number of notifications sent on automation_trigger. Not callable by any API
-- role nor by service_role: only the SECURITY DEFINER trigger functions (running as the
-- owner) call it.
-- Included by: migrations/automations/0004_automations_event_triggers.sql

create or replace function public.notify_automation_trigger(
    p_owner_id uuid,
    p_event_source text,
    p_event text,
    p_table text,
    p_old jsonb,
    p_new jsonb,
    p_key_columns text[]
)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_mode text := coalesce(nullif(pg_catalog.current_setting('automations.trigger_payload', true), ''), 'full');
    v_cap_setting text := coalesce(nullif(pg_catalog.current_setting('automations.trigger_max_per_row', true), ''), '50');
    v_cap integer;
    v_old_keys jsonb;
    v_new_keys jsonb;
    v_trigger_data jsonb;
    v_payload text;
    v_automation_id uuid;
    v_matched integer := 0;
    v_sent integer := 0;
begin
    if v_cap_setting = 'unlimited' then
        v_cap := null;
    elsif v_cap_setting ~ '^[0-9]{1,9}$' and v_cap_setting::integer > 0 then
        v_cap := v_cap_setting::integer;
    else
        v_cap := 50;
    end if;

    v_old_keys := (select pg_catalog.jsonb_object_agg(k.col, p_old -> k.col)
                   from pg_catalog.unnest(p_key_columns) as k (col)
                   where p_old is not null);
    v_new_keys := (select pg_catalog.jsonb_object_agg(k.col, p_new -> k.col)
                   from pg_catalog.unnest(p_key_columns) as k (col)
                   where p_new is not null);

    if v_mode = 'full' then
        v_trigger_data := pg_catalog.jsonb_build_object(
            'event', p_event,
            'table', p_table,
            'old', p_old,
            'new', p_new,
            'timestamp', pg_catalog.now(),
            'truncated', false
        );
    else
        v_trigger_data := pg_catalog.jsonb_build_object(
            'event', p_event,
            'table', p_table,
            'old', v_old_keys,
            'new', v_new_keys,
            'timestamp', pg_catalog.now(),
            'truncated', true,
            'reference', true
        );
    end if;

    for v_automation_id in
        select a.id
        from public.automations as a
        where a.user_id = p_owner_id
          and a.trigger_type = 'event'
          and a.enabled = true
          and a.status = 'active'
          and a.trigger_config ->> 'event_source' = p_event_source
          and (a.trigger_config ->> 'event_type' = p_event or a.trigger_config ->> 'event_type' = 'any')
        order by a.created_at, a.id
    loop
        v_matched := v_matched + 1;
        continue when v_cap is not null and v_matched > v_cap;

        v_payload := pg_catalog.jsonb_build_object(
            'automation_id', v_automation_id,
            'trigger_data', v_trigger_data
        )::text;

        if pg_catalog.octet_length(v_payload) >= 8000 then
            v_payload := pg_catalog.jsonb_build_object(
                'automation_id', v_automation_id,
                'trigger_data', v_trigger_data
                    || pg_catalog.jsonb_build_object(
                        'old', v_old_keys,
                        'new', v_new_keys,
                        'truncated', true,
                        'payload_bytes', pg_catalog.octet_length(v_payload)
                    )
            )::text;
        end if;

        perform pg_catalog.pg_notify('automation_trigger', v_payload);
        v_sent := v_sent + 1;
    end loop;

    if v_cap is not null and v_matched > v_cap then
        perform pg_catalog.pg_notify('automation_trigger_overflow', pg_catalog.jsonb_build_object(
            'account_id', p_owner_id,
            'event', p_event,
            'table', p_table,
            'old', v_old_keys,
            'new', v_new_keys,
            'matched', v_matched,
            'sent', v_sent,
            'timestamp', pg_catalog.now()
        )::text);
    end if;

    return v_sent;
end;
$$;

comment on function public.notify_automation_trigger(
    uuid, text, text, text, jsonb, jsonb, text[]
) is
'pg_notify(''automation_trigger'') once per matching event automation of p_owner_id (at most automations.trigger_max_per_row, default 50; the rest are summarised on automation_trigger_overflow); payloads are the document''s rows unless automations.trigger_payload = ''reference'', and over the 8000-byte limit keep only p_key_columns (truncated = true). Returns notifications sent.';

revoke all on function public.notify_automation_trigger(
    uuid, text, text, text, jsonb, jsonb, text[]
) from public, anon, authenticated, service_role;

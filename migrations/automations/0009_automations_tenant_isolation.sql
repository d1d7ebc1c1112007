-- 0009_automations_tenant_isolation: the privileges of every automations-module table,
-- revoked first and then granted exactly, and the same-account foreign keys.
-- Source: issue "Tenant isolation beyond RLS" items 1-3; docs/security.md (threat model and
-- what each role may do).
-- depends: 0001_platform_auth_shim
--   * Revoke before grant: a Supabase project grants ALL on every new table in public to
--     anon, authenticated and service_role (default privileges). ALL includes TRUNCATE and
--     TRIGGER, which RLS does not govern (as anon, `truncate public.agents cascade` emptied
--     every tenant's tables), REFERENCES, and table-wide UPDATE, which overrides column
--     grants. Every grant below starts from nothing; anon gets nothing at all.
--   * Ownership is immutable for API users: agents.user_id, leads.user_id,
--     automations.user_id, conversations.agent_id and account_members.account_id / user_id
--     are not updatable by authenticated, so nothing can be moved to another account (a
--     member removed from an account keeps nothing of it).
--   * Bookkeeping is the system's: automations.execution_count, last_executed_at and
--     last_execution_status are written only by the stats trigger (SECURITY DEFINER) and
--     service_role.
--   * Same-account references: an automation's agent and a lead's agent belong to the row's
--     account, for every writer. automations follows its agent (ON UPDATE CASCADE, ON DELETE
--     CASCADE like the document's agent_id key); the lead key is DEFERRABLE INITIALLY
--     DEFERRED because the lead's own ON DELETE SET NULL key clears agent_id first when the
--     agent is deleted; it is checked at commit. Both are added NOT VALID (a short lock, no
--     scan) and validated by 0010_automations_validate_tenant_keys. API callers are refused
--     earlier, by the policies (42501, the same for an id that does not exist).
-- The helpers accessible_account_ids() / has_account_access() became SECURITY INVOKER in their
-- repeatable files (owned by 0002_automations_account_access), re-applied by checksum.

revoke all on table public.account_members from public, anon, authenticated, service_role;
grant select, delete on table public.account_members to authenticated;
grant insert (account_id, user_id, role) on table public.account_members to authenticated;
grant update (role) on table public.account_members to authenticated;
grant select, insert, update, delete on table public.account_members to service_role;

-- agents, leads and conversations may be an existing application's own tables (baselined
-- 0001_automations_base_tables, with columns of their own), so their UPDATE grant is every
-- column except the key, the ownership column and the timestamps, read from the catalog;
-- INSERT is table-wide (the policies check the owner and the references of a new row).
revoke all on table public.agents from public, anon, authenticated, service_role;
grant select, insert, delete on table public.agents to authenticated;
grant select, insert, update, delete on table public.agents to service_role;

revoke all on table public.leads from public, anon, authenticated, service_role;
grant select, insert, delete on table public.leads to authenticated;
grant select, insert, update, delete on table public.leads to service_role;

revoke all on table public.conversations from public, anon, authenticated, service_role;
grant select, insert, delete on table public.conversations to authenticated;
grant select, insert, update, delete on table public.conversations to service_role;

do $$
declare
    v_table record;
    v_columns text;
begin
    for v_table in
        select t.name, t.fixed
        from (values
            ('agents', array['id', 'user_id', 'created_at', 'updated_at']),
            ('leads', array['id', 'user_id', 'created_at', 'updated_at']),
            ('conversations', array['id', 'agent_id', 'created_at', 'updated_at'])
        ) as t (name, fixed)
    loop
        select string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attnum)
        into v_columns
        from pg_catalog.pg_attribute as a
        where a.attrelid = pg_catalog.format('public.%I', v_table.name)::regclass
            and a.attnum > 0
            and not a.attisdropped
            and a.attname <> all (v_table.fixed);
        if v_columns is not null then
            execute pg_catalog.format('grant update (%s) on table public.%I to authenticated', v_columns, v_table.name);
        end if;
    end loop;
end
$$;

revoke all on table public.automations from public, anon, authenticated, service_role;
grant select, delete on table public.automations to authenticated;
grant insert (id, agent_id, user_id, name, description, icon, color, status, enabled,
              trigger_type, trigger_config, nodes, edges, viewport)
    on table public.automations to authenticated;
grant update (agent_id, name, description, icon, color, status, enabled,
              trigger_type, trigger_config, nodes, edges, viewport)
    on table public.automations to authenticated;
grant select, insert, update, delete on table public.automations to service_role;

revoke all on table public.automation_executions from public, anon, authenticated, service_role;
grant select, delete on table public.automation_executions to authenticated;
grant select, insert, update, delete on table public.automation_executions to service_role;

-- dbkit-allow DBK006 idx_automations_agent (agent_id) serves the key lookup: agent_id alone determines the row set
alter table public.automations
    add constraint automations_agent_same_account_fkey
    foreign key (agent_id, user_id)
    references public.agents (id, user_id)
    on update cascade
    on delete cascade
    not valid;
comment on constraint automations_agent_same_account_fkey on public.automations is
    'An automation''s agent belongs to the automation''s account (tenant isolation; docs/security.md).';

-- dbkit-allow DBK006 idx_leads_agent (agent_id) serves the key lookup: agent_id alone determines the row set
alter table public.leads
    add constraint leads_agent_same_account_fkey
    foreign key (agent_id, user_id)
    references public.agents (id, user_id)
    deferrable initially deferred
    not valid;
comment on constraint leads_agent_same_account_fkey on public.leads is
    'A lead''s agent belongs to the lead''s account (tenant isolation; checked at commit, docs/security.md).';

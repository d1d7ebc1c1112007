-- 0011_wealth_api_privileges: every table of the module grants the API roles exactly what
-- docs/security.md says, revoking first, so a database with Supabase's default privileges
-- (`alter default privileges in schema public grant all on tables to anon, authenticated,
-- service_role`) ends up with the same privileges as plain PostgreSQL.
-- Source: issue 13 ("revoke before grant"); decisions "RLS and grants" of this module.
-- 0002-0006 revoked from anon and authenticated only, so on Supabase service_role kept
-- TRUNCATE (not governed by RLS), TRIGGER and REFERENCES on all twelve tables.
-- Now, for each table, REVOKE ALL from PUBLIC and the three API roles, then GRANT
--   * to service_role: select, insert, update, delete (no truncate, trigger, references);
--   * to authenticated: select on users, clients, products, goals, auto_invest_rules,
--     rebalancing_rules, rebalancing_executions and trigger_orders (RLS filters the rows);
--     select, insert, update, delete on notification_preferences (RLS: own rows; table-wide
--     UPDATE because PostgREST's upsert sets every column it is sent, user_id included;
--     moving a row to another user is refused by the policy's WITH CHECK and by the owner
--     trigger of 0013); select, delete and UPDATE (read_at) only on in_app_notifications;
--   * to anon: nothing.
-- The four prerequisite tables are changed only where 0001 created them (their comment says
-- "Seed 000 prerequisite"): on a baselined database they are the application's tables and
-- their privileges are the application's (as their RLS is, decisions "Prerequisite tables").
-- Depends on: 0001-0006 (the tables), 0010 (previous migration of this module).

do $$
declare
    v_table regclass;
begin
    foreach v_table in array array['public.users', 'public.clients', 'public.products', 'public.goals']::regclass[] loop
        if coalesce(pg_catalog.obj_description(v_table, 'pg_class'), '') like '%Seed 000 prerequisite%' then
            execute pg_catalog.format('revoke all on table %s from public, anon, authenticated, service_role', v_table);
            execute pg_catalog.format('grant select on table %s to authenticated', v_table);
            execute pg_catalog.format('grant select, insert, update, delete on table %s to service_role', v_table);
        end if;
    end loop;
end
$$;

revoke all on table public.auto_invest_rules from public, anon, authenticated, service_role;
grant select on table public.auto_invest_rules to authenticated;
grant select, insert, update, delete on table public.auto_invest_rules to service_role;

revoke all on table public.rebalancing_rules from public, anon, authenticated, service_role;
grant select on table public.rebalancing_rules to authenticated;
grant select, insert, update, delete on table public.rebalancing_rules to service_role;

revoke all on table public.rebalancing_executions from public, anon, authenticated, service_role;
grant select on table public.rebalancing_executions to authenticated;
grant select, insert, update, delete on table public.rebalancing_executions to service_role;

revoke all on table public.trigger_orders from public, anon, authenticated, service_role;
grant select on table public.trigger_orders to authenticated;
grant select, insert, update, delete on table public.trigger_orders to service_role;

revoke all on table public.notification_preferences from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.notification_preferences to authenticated;
grant select, insert, update, delete on table public.notification_preferences to service_role;

revoke all on table public.notification_logs from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.notification_logs to service_role;

revoke all on table public.in_app_notifications from public, anon, authenticated, service_role;
grant select, delete on table public.in_app_notifications to authenticated;
grant update (read_at) on table public.in_app_notifications to authenticated;
grant select, insert, update, delete on table public.in_app_notifications to service_role;

revoke all on table public.automation_execution_logs from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.automation_execution_logs to service_role;

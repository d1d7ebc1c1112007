-- Rollback of 0011_wealth_api_privileges: the grants of 0001-0006 again. On plain PostgreSQL
-- that is exactly the state before 0011. Privileges that only Supabase's default privileges
-- had added (TRUNCATE, TRIGGER, REFERENCES for service_role) are not given back: a rollback
-- does not re-open a hole (docs/decisions.md, "Revoke before grant"). The four prerequisite
-- tables are touched only where 0001 created them, as in the migration.

revoke all on table public.automation_execution_logs from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.automation_execution_logs to service_role;

revoke all on table public.in_app_notifications from public, anon, authenticated, service_role;
grant select, delete on table public.in_app_notifications to authenticated;
grant update (read_at) on table public.in_app_notifications to authenticated;
grant select, insert, update, delete on table public.in_app_notifications to service_role;

revoke all on table public.notification_logs from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.notification_logs to service_role;

revoke all on table public.notification_preferences from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.notification_preferences to authenticated;
grant select, insert, update, delete on table public.notification_preferences to service_role;

revoke all on table public.trigger_orders from public, anon, authenticated, service_role;
grant select on table public.trigger_orders to authenticated;
grant select, insert, update, delete on table public.trigger_orders to service_role;

revoke all on table public.rebalancing_executions from public, anon, authenticated, service_role;
grant select on table public.rebalancing_executions to authenticated;
grant select, insert, update, delete on table public.rebalancing_executions to service_role;

revoke all on table public.rebalancing_rules from public, anon, authenticated, service_role;
grant select on table public.rebalancing_rules to authenticated;
grant select, insert, update, delete on table public.rebalancing_rules to service_role;

revoke all on table public.auto_invest_rules from public, anon, authenticated, service_role;
grant select on table public.auto_invest_rules to authenticated;
grant select, insert, update, delete on table public.auto_invest_rules to service_role;

do $$
declare
    v_table regclass;
begin
    foreach v_table in array array['public.goals', 'public.products', 'public.clients', 'public.users']::regclass[] loop
        if coalesce(pg_catalog.obj_description(v_table, 'pg_class'), '') like '%Seed 000 prerequisite%' then
            execute pg_catalog.format('revoke all on table %s from public, anon, authenticated, service_role', v_table);
            execute pg_catalog.format('grant select on table %s to authenticated', v_table);
            execute pg_catalog.format('grant select, insert, update, delete on table %s to service_role', v_table);
        end if;
    end loop;
end
$$;

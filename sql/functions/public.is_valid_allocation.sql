-- public.is_valid_allocation(jsonb): true when p_allocation is a JSON object of
-- asset-class -> percentage, every percentage a number in 0..100 and the total 100 (+-0.01).
-- Source: seed 000 "rebalancing_rules" (target_allocation "JSON object with target
-- percentages"). Used by the CHECK on rebalancing_rules.target_allocation.
-- Depends on: nothing. Included by 0003_wealth_rebalancing.
-- EXECUTE: service_role, the only API role that writes rebalancing_rules (a CHECK calls the
-- function with the writer's privileges); revoked from PUBLIC, anon and authenticated first.
create or replace function public.is_valid_allocation(p_allocation jsonb)
returns boolean
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
    v_entry record;
    v_total numeric := 0;
    v_count integer := 0;
begin
    if p_allocation is null or pg_catalog.jsonb_typeof(p_allocation) <> 'object' then
        return false;
    end if;
    for v_entry in select e.key, e.value from pg_catalog.jsonb_each(p_allocation) as e loop
        if pg_catalog.jsonb_typeof(v_entry.value) <> 'number'
            or v_entry.value::numeric < 0 or v_entry.value::numeric > 100 then
            return false;
        end if;
        v_total := v_total + v_entry.value::numeric;
        v_count := v_count + 1;
    end loop;
    return v_count > 0 and abs(v_total - 100) <= 0.01;
end;
$$;
comment on function public.is_valid_allocation(jsonb) is
'True for a non-empty JSON object of percentages (numbers 0..100) summing to 100 (+-0.01).';
revoke all on function public.is_valid_allocation(jsonb) from public, anon, authenticated, service_role;
grant execute on function public.is_valid_allocation(jsonb) to service_role;

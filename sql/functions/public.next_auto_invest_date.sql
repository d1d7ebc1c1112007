-- public.next_auto_invest_date(date, text, integer): the execution date that follows p_from
-- for a rule of frequency p_frequency (Daily, Weekly, Monthly, Quarterly).
-- Source: seed 000 "auto_invest_rules" (frequency, next_execution_date); seed 001 scheduler.
-- Month-end safe: Monthly/Quarterly dates are anchored on p_anchor_day (the rule's day of
-- month), clamped to the last day of the target month, so Jan 31 -> Feb 28 (29 in a leap
-- year) -> Mar 31, never drifting to the 28th. p_anchor_day null means the day of p_from.
-- Depends on: nothing. Included by 0002_wealth_auto_invest_rules.
-- EXECUTE: service_role (the scheduler's claim calls it); revoked from PUBLIC and the API roles
-- first, so Supabase's default privileges add nothing.
create or replace function public.next_auto_invest_date(
    p_from date,
    p_frequency text,
    p_anchor_day integer default null
)
returns date
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
    v_months integer;
    v_month_start date;
    v_last_day integer;
    v_anchor integer := coalesce(p_anchor_day, extract(day from p_from)::integer);
begin
    if p_from is null or p_frequency is null then
        return null;
    end if;
    if v_anchor not between 1 and 31 then
        raise exception 'anchor day % is outside 1..31', v_anchor using errcode = '22023';
    end if;
    case p_frequency
        when 'Daily' then return p_from + 1;
        when 'Weekly' then return p_from + 7;
        when 'Monthly' then v_months := 1;
        when 'Quarterly' then v_months := 3;
        else
            raise exception 'unknown frequency %', p_frequency using errcode = '22023';
    end case;
    v_month_start := (date_trunc('month', p_from) + make_interval(months => v_months))::date;
    v_last_day := extract(day from (v_month_start + interval '1 month' - interval '1 day'))::integer;
    return v_month_start + (least(v_anchor, v_last_day) - 1);
end;
$$;
comment on function public.next_auto_invest_date(date, text, integer) is
'Next execution date after p_from for a Daily/Weekly/Monthly/Quarterly rule; monthly dates keep the anchor day, clamped to month end (Jan 31 -> Feb 28/29 -> Mar 31).';
revoke all on function public.next_auto_invest_date(date, text, integer) from public, anon, authenticated, service_role;
grant execute on function public.next_auto_invest_date(date, text, integer) to service_role;

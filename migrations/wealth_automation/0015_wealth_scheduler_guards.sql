-- 0015_wealth_scheduler_guards: auto-invest dates stay within 1900-01-01 .. 9999-12-31, so no
-- stored date can stall or break the scheduler's claim.
-- Source: issue 13 ("Scheduler columns", "no overflow that aborts the scheduler's batch");
-- docs/decisions.md "Scheduler fairness and robustness".
-- Before, start_date and next_execution_date accepted '-infinity' and any date back to 4713 BC:
-- the claim stepped through every missed period one function call at a time (never ending
-- for '-infinity', which plus one day is '-infinity'). The claim now computes the next date
-- in one step (sql/functions/public.claim_due_auto_invest_rules.sql); this CHECK keeps the
-- inputs of that arithmetic in the range where it is exact (no year 0 between 1 BC and AD 1)
-- and rejects only dates no caller of the guide sends (a SIP starting before 1900).
-- Preflight (read-only): rules outside the range stop the migration with a count and examples.
-- The CHECK is added NOT VALID (a brief lock; new rows are checked from then on) and validated
-- in its own statement, which lets reads and writes go on while it scans. Not recorded until
-- every statement succeeded; every statement can run again.
-- Depends on: 0014 (previous migration of this module).
-- transactional: false

do $$
declare
    v_count bigint;
    v_examples text;
begin
    select count(*), string_agg(pg_catalog.format('%s (start %s, next %s, end %s)', r.id, r.start_date,
                                                  r.next_execution_date, r.end_date), '; ') filter (where r.rn <= 5)
      into v_count, v_examples
      from (select a.id, a.start_date, a.next_execution_date, a.end_date, row_number() over (order by a.id) as rn
              from public.auto_invest_rules a
             where a.start_date not between '1900-01-01' and '9999-12-31'
                or a.next_execution_date not between '1900-01-01' and '9999-12-31'
                or a.end_date not between '1900-01-01' and '9999-12-31') r;
    if v_count > 0 then
        raise exception using
            errcode = 'check_violation',
            message = pg_catalog.format('preflight for auto_invest_rules_date_range_check failed: %s rule(s) have a '
                || 'date outside 1900-01-01 .. 9999-12-31, e.g. %s. Nothing was changed.', v_count, v_examples),
            hint = 'Correct those dates (or delete the rules), then run dbkit apply again.';
    end if;
end
$$;

do $$
begin
    if not exists (
        select 1 from pg_catalog.pg_constraint
        where conrelid = 'public.auto_invest_rules'::regclass and conname = 'auto_invest_rules_date_range_check'
    ) then
        alter table public.auto_invest_rules add constraint auto_invest_rules_date_range_check check (
            start_date between '1900-01-01' and '9999-12-31'
            and next_execution_date between '1900-01-01' and '9999-12-31'
            and (end_date is null or end_date between '1900-01-01' and '9999-12-31')
        ) not valid;
        comment on constraint auto_invest_rules_date_range_check on public.auto_invest_rules is
        'Dates the scheduler can step through exactly: finite, from 1900 on.';
    end if;
end
$$;

alter table public.auto_invest_rules validate constraint auto_invest_rules_date_range_check;

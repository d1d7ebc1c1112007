-- 0004_wealth_trigger_orders: public.trigger_orders, its indexes (every foreign key, plus the
-- evaluator's partial index on active orders), updated_at trigger and RLS policies.
-- Source: seed 000 "Table Descriptions / trigger_orders" (id, trigger_type Price / NAV /
-- Portfolio Value, trigger_condition Greater Than / Less Than, trigger_value, order_type
-- Purchase / Redemption / Switch); seed 001 scheduler ("Processes trigger orders").
-- Depends on: 0001_wealth_prerequisites (clients, products).

create table public.trigger_orders (
    id uuid primary key default gen_random_uuid(),
    client_id uuid not null references public.clients (id) on delete cascade,
    scheme_id uuid not null references public.products (id) on delete restrict,
    target_scheme_id uuid references public.products (id) on delete restrict,
    trigger_type text not null,
    trigger_condition text not null,
    trigger_value numeric(20, 6) not null,
    order_type text not null,
    amount numeric(18, 2),
    units numeric(20, 6),
    status text not null default 'Active',
    valid_until timestamp with time zone,
    triggered_at timestamp with time zone,
    triggered_value numeric(20, 6),
    executed_at timestamp with time zone,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    constraint trigger_orders_trigger_type_check check (trigger_type in ('Price', 'NAV', 'Portfolio Value')),
    constraint trigger_orders_trigger_condition_check
    check (trigger_condition in ('Greater Than', 'Greater Than Or Equal', 'Less Than', 'Less Than Or Equal')),
    constraint trigger_orders_trigger_value_check check (trigger_value > 0),
    constraint trigger_orders_order_type_check check (order_type in ('Purchase', 'Redemption', 'Switch')),
    constraint trigger_orders_quantity_check check (
        num_nonnulls(amount, units) = 1
        and (amount is null or amount > 0)
        and (units is null or units > 0)
        and (order_type <> 'Purchase' or amount is not null)
    ),
    constraint trigger_orders_switch_target_check check (
        (order_type = 'Switch') = (target_scheme_id is not null)
        and (target_scheme_id is null or target_scheme_id <> scheme_id)
    ),
    constraint trigger_orders_status_check
    check (status in ('Active', 'Triggered', 'Executed', 'Cancelled', 'Expired', 'Failed')),
    constraint trigger_orders_triggered_check
    check (status in ('Cancelled', 'Expired') or (status = 'Active') = (triggered_at is null))
);
comment on table public.trigger_orders is
'Orders placed automatically when an observed price, NAV or portfolio value meets a condition. Seed 000.';
comment on column public.trigger_orders.scheme_id is
'Scheme the order buys (Purchase) or sells (Redemption, Switch); for Price/NAV triggers also the scheme whose value is watched.';
comment on column public.trigger_orders.target_scheme_id is 'Scheme switched into; required for, and only for, Switch orders.';
comment on column public.trigger_orders.trigger_value is 'Threshold compared with the observed value by trigger_condition.';
comment on column public.trigger_orders.amount is 'Order amount in currency; a Purchase needs it. Exactly one of amount and units.';
comment on column public.trigger_orders.units is 'Order quantity in units (Redemption or Switch). Exactly one of amount and units.';
comment on column public.trigger_orders.status is
'Active (watching), Triggered (condition met, set once by public.evaluate_trigger_orders()), Executed, Cancelled, Expired, Failed.';
revoke all on table public.trigger_orders from anon, authenticated;
grant select on table public.trigger_orders to authenticated;
grant select, insert, update, delete on table public.trigger_orders to service_role;
create index idx_trigger_orders_client_id on public.trigger_orders using btree (client_id);
create index idx_trigger_orders_scheme_id on public.trigger_orders using btree (scheme_id);
create index idx_trigger_orders_target_scheme_id on public.trigger_orders using btree (target_scheme_id);
create index idx_trigger_orders_active on public.trigger_orders using btree (
    trigger_type,
    (case when trigger_type = 'Portfolio Value' then client_id else scheme_id end),
    trigger_condition,
    trigger_value
)
where status = 'Active';
comment on index public.idx_trigger_orders_active is
'Serves public.evaluate_trigger_orders(): active orders by type, watched subject (client for Portfolio Value, else scheme) and condition, with the threshold as a range, so an observation reads only the orders it triggers.';
create trigger update_trigger_orders_updated_at
before update on public.trigger_orders
for each row execute function public.update_updated_at_column();

-- include: sql/policies/public.trigger_orders.sql

-- Payments must cover each order exactly: a difference means a lost or double-counted payment.
select
    order_id,
    order_total,
    amount_paid,
    amount_paid - order_total as difference
from {{ ref('fct_orders') }}
where amount_paid <> order_total

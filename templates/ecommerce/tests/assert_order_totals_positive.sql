-- Every order sells at least one item, so its total must be positive.
-- A singular test passes when it returns no rows; each row returned is a failing order.
select
    order_id,
    order_total
from {{ ref('fct_orders') }}
where order_total is null
    or order_total <= 0

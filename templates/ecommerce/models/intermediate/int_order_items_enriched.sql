-- Ephemeral: inlined as a CTE into the marts that use it, never stored.
with order_items as (

    select * from {{ ref('stg_order_items') }}

),

products as (

    select * from {{ ref('stg_products') }}

)

select
    order_items.order_item_id,
    order_items.order_id,
    order_items.product_id,
    products.sku,
    products.product_name,
    products.category,
    order_items.quantity,
    order_items.unit_price,
    order_items.discount_amount,
    order_items.quantity * order_items.unit_price as gross_amount,
    order_items.quantity * order_items.unit_price - order_items.discount_amount as line_total

from order_items

left join products
    on order_items.product_id = products.product_id

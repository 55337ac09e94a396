{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns'
    )
}}

{% set payment_methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] %}

with orders as (

    select * from {{ ref('stg_orders') }}
    {% if is_incremental() %}
    -- `>=` re-reads the latest loaded moment; merging on order_id makes that overlap harmless
    where ordered_at >= (select coalesce(max(ordered_at), '1900-01-01') from {{ this }})
    {% endif %}

),

order_items as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_count,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(line_total) as items_total

    from {{ ref('int_order_items_enriched') }}

    group by order_id

),

order_payments as (

    select
        order_id,
        {% for payment_method in payment_methods -%}
        sum(case when payment_method = '{{ payment_method }}' then amount else 0 end) as {{ payment_method }}_amount,
        {% endfor -%}
        sum(amount) as amount_paid

    from {{ ref('stg_payments') }}

    group by order_id

)

select
    orders.order_id,
    orders.customer_id,
    orders.ordered_at,
    orders.order_date,
    orders.status,
    coalesce(order_items.line_count, 0) as line_count,
    coalesce(order_items.item_count, 0) as item_count,
    coalesce(order_items.gross_amount, 0) as gross_amount,
    coalesce(order_items.discount_amount, 0) as discount_amount,
    orders.shipping_amount,
    coalesce(order_items.items_total, 0) + orders.shipping_amount as order_total,
    {% for payment_method in payment_methods -%}
    coalesce(order_payments.{{ payment_method }}_amount, 0) as {{ payment_method }}_amount,
    {% endfor -%}
    coalesce(order_payments.amount_paid, 0) as amount_paid

from orders

left join order_items
    on orders.order_id = order_items.order_id

left join order_payments
    on orders.order_id = order_payments.order_id

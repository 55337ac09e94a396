with orders as (

    select * from {{ ref('fct_orders') }}
    where status <> 'returned'

),

monthly as (

    select
        customer_id,
        cast(date_trunc('month', order_date) as date) as revenue_month,
        count(*) as number_of_orders,
        sum(item_count) as items_bought,
        sum(order_total) as revenue

    from orders

    group by 1, 2

)

select
    cast(customer_id as varchar) || '-' || strftime(revenue_month, '%Y-%m') as customer_month_key,
    customer_id,
    revenue_month,
    number_of_orders,
    items_bought,
    revenue,
    sum(revenue) over (
        partition by customer_id
        order by revenue_month
        rows between unbounded preceding and current row
    ) as cumulative_revenue

from monthly

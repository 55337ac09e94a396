with customers as (

    select * from {{ ref('stg_customers') }}

),

orders as (

    select * from {{ ref('stg_orders') }}

),

payments as (

    select * from {{ ref('stg_payments') }}

),

customer_orders as (

    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as number_of_orders,
        count(*) filter (where status = 'returned') as number_of_returns

    from orders

    group by customer_id

),

customer_payments as (

    -- returned orders were refunded, so they do not count towards lifetime value
    select
        orders.customer_id,
        sum(payments.amount) as lifetime_value

    from payments

    inner join orders
        on payments.order_id = orders.order_id

    where orders.status <> 'returned'

    group by orders.customer_id

)

select
    customers.customer_id,
    customers.full_name,
    customers.email,
    customers.country,
    customers.signed_up_at,
    customer_orders.first_order_at,
    customer_orders.last_order_at,
    coalesce(customer_orders.number_of_orders, 0) as number_of_orders,
    coalesce(customer_orders.number_of_returns, 0) as number_of_returns,
    coalesce(customer_payments.lifetime_value, 0) as lifetime_value,
    case
        when customer_orders.number_of_orders > 1 then 'repeat'
        when customer_orders.number_of_orders = 1 then 'one_time'
        else 'prospect'
    end as customer_segment

from customers

left join customer_orders
    on customers.customer_id = customer_orders.customer_id

left join customer_payments
    on customers.customer_id = customer_payments.customer_id

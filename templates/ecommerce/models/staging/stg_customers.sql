with source as (

    select * from {{ ref('raw_customers') }}

),

renamed as (

    select
        id as customer_id,
        first_name,
        last_name,
        first_name || ' ' || last_name as full_name,
        -- some sign-ups typed their address in mixed case
        lower(trim(email)) as email,
        upper(country) as country,
        cast(created_at as timestamp) as signed_up_at

    from source

)

select * from renamed

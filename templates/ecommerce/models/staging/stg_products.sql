with source as (

    select * from {{ ref('raw_products') }}

),

renamed as (

    select
        id as product_id,
        sku,
        name as product_name,
        category,
        {{ cents_to_dollars('price_cents') }} as price,
        cast(is_active as boolean) as is_active

    from source

)

select * from renamed

{% snapshot customers_snapshot %}

{{
    config(
        target_schema='snapshots',
        unique_key='customer_id',
        strategy='check',
        check_cols=['email', 'country'],
        hard_deletes='invalidate'
    )
}}

-- Keeps every email and country a customer ever had, so orders can be reported by the
-- country that was on file when they were placed.
select * from {{ ref('stg_customers') }}

{% endsnapshot %}

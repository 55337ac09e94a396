-- A calendar with one row per day, generated rather than loaded: no seed to keep up to date.
with days as (

    select cast(day_start as date) as date_day
    from generate_series(date '2024-01-01', date '2025-12-31', interval 1 day) as spine(day_start)

)

select
    date_day,
    year(date_day) as year,
    quarter(date_day) as quarter,
    month(date_day) as month,
    monthname(date_day) as month_name,
    cast(date_trunc('month', date_day) as date) as month_start,
    -- ISO numbering: 1 = Monday ... 7 = Sunday
    isodow(date_day) as day_of_week,
    dayname(date_day) as day_name,
    isodow(date_day) in (6, 7) as is_weekend

from days

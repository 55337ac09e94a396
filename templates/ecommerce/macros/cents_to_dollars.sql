{#- The raw zone keeps money as integer cents (exact); marts speak dollars with two decimals. -#}
{% macro cents_to_dollars(column_name, scale=2) -%}
    cast({{ column_name }} / 100 as decimal(18, {{ scale }}))
{%- endmacro %}

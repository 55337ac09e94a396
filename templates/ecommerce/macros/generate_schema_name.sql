{#-
    Use the folder's `+schema` as the schema name itself (`marts`, not `main_marts`), so that
    `dbt build` on dbt-duckdb lays out the same schemas as Weir (marts.fct_orders, staging.stg_orders).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if not custom_schema_name -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
